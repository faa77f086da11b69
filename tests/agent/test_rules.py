"""The agent's first layer: built-in intents, the owner's rules, templating and business hours."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from runtime.agent import hours as H
from runtime.agent.rules import (
    OPT_OUT_RESPONSE,
    PRICE_LIST_RESPONSE,
    first_name,
    match_rules,
    normalize,
    render,
)
from runtime.agent.settings import AgentSettings, BusinessHours

SP = H.zone("America/Sao_Paulo")  # UTC-3 all year (no DST since 2019)
WEEKDAY = [{"open": "08:00", "close": "18:00"}]
HOURS = BusinessHours(
    week={d: WEEKDAY for d in range(5)} | {5: [{"open": "08:30", "close": "13:00"}], 6: []},
)
# 2025-03-10 is a Monday.
MON = date(2025, 3, 10)


def sp(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SP)


def utc(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC)


NOW = sp(MON, 10)  # open, morning


def settings(**kw) -> AgentSettings:
    kw.setdefault("business_hours", HOURS.model_dump())
    return AgentSettings.model_validate(kw)


def intent(text: str, s: AgentSettings | None = None, **kw) -> str | None:
    m = match_rules(s or settings(), text, now=kw.pop("now", NOW), **kw)
    return m.intent if m else None


# --- normalize ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Olá, Você!", "ola voce"),
        ("Oiii, vc tá aberto?? 😊", "oi voce esta aberto"),
        ("N QUERO MAIS!!!", "nao quero mais"),
        ("naum   quero\n\tmais", "nao quero mais"),
        ("pfv me passa a tabela", "por favor me passa a tabela"),
        ("q horas vcs abrem?", "que horas voces abrem"),
        ("Ação_Promoção", "acao promocao"),
        ("boaaa tardeee", "boa tarde"),
        ("👍🙏", ""),
        ("", ""),
        ("R$ 150,00", "r 150 00"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


# --- built-in intents --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Oi",
        "oi!",
        "oii",
        "Oiii 😊",
        "Olá",
        "ola",
        "Olá, boa tarde! Tudo bem?",
        "Bom dia",
        "bom diaaa",
        "Boa noite pessoal",
        "boa tarde, td bem?",
        "E aí, beleza?",
        "eae",
        "Opa, tudo bom?",
        "Oi Carla",
        "Bom dia Dra. Ana",
        "oi ana",  # the agent's own name, lowercase
        "Olá, como vai você?",
    ],
)
def test_greeting(text: str) -> None:
    assert intent(text, agent_name="Ana") == "greeting"


@pytest.mark.parametrize(
    "text",
    [
        "oi, quanto custa o clareamento?",
        "Bom dia, gostaria de um orçamento",
        "Boa tarde! Vocês fazem entrega?",
        "oi preciso de ajuda",
        "Oi! Orçamento",  # a sentence's first capital is not a name
        "tudo bem?",  # no greeting word: "ok" as often as "hello"
        "boa",
        "bom",
        "oi " * 20,
    ],
)
def test_not_greeting(text: str) -> None:
    assert intent(text) != "greeting"


def test_greeting_response_uses_time_of_day_names_and_persona() -> None:
    morning = match_rules(settings(), "oi", now=utc(MON, 11), contact_name="JOÃO DA SILVA", agent_name="Ana")
    assert morning is not None
    assert morning.action == "reply"
    assert morning.rule == "builtin:greeting"
    assert morning.response == "Bom dia, João! Aqui é Ana. Como posso te ajudar? 😊"
    afternoon = match_rules(settings(), "olá", now=utc(MON, 16))
    assert afternoon is not None and afternoon.response == "Boa tarde! Como posso te ajudar? 😊"
    night = match_rules(settings(), "boa noite", now=utc(MON, 23), contact_name="~maria 🌸")
    assert night is not None and night.response == "Boa noite, Maria! Como posso te ajudar? 😊"


@pytest.mark.parametrize(
    "text",
    [
        "parar",
        "PARE",
        "Pare.",
        "para",
        "sair",
        "SAIR",
        "Stop",
        "remover",
        "quero sair",
        "eu quero sair agora",
        "pode parar por favor",
        "não quero mais",
        "n quero mais",
        "naum quero mais",
        "nao quero mais receber mensagens",
        "não quero mais receber",
        "não desejo receber ofertas",
        "não quero receber essas promoções",
        "Para de me mandar mensagem!",
        "parem de enviar propaganda",
        "não me mande mais nada",
        "nao mandem mais",
        "remove meu número por favor",
        "tira meu contato daí",
        "me tira dessa lista",
        "quero sair da lista",
        "descadastrar",
        "me descadastra",
        "chega de mensagem",
        "Já falei que não tenho interesse, não me mande mais isso, me tira dessa lista de vocês. " * 3,
    ],
)
def test_opt_out(text: str) -> None:
    m = match_rules(settings(), text, now=NOW)
    assert m is not None and m.intent == "opt_out"
    assert m.action == "opt_out"
    assert m.response == OPT_OUT_RESPONSE


@pytest.mark.parametrize(
    "text",
    [
        "quero sair de casa cedo",
        "vou parar aí amanhã",
        "posso parar na frente da loja?",
        "não quero",  # declining an offer is not unsubscribing
        "não quero mais nada, obrigado",
        "não quero mais o clareamento, quero o implante",
        "a que horas vocês param de atender?",
        "vou parar de mandar as fotos por aqui",
        "vocês não mandam mais pra Campinas?",
        "quero cancelar meu agendamento",
        "pode tirar minha dúvida?",
        "troca meu número antigo pelo novo",
        "pra quando?",
        "sair com o carro",
        "não quero receber por email, só por whatsapp",
        "remova meu número antigo",
        "quero entrar na lista de espera",
        "cancelar",
    ],
)
def test_not_opt_out(text: str) -> None:
    assert intent(text) != "opt_out"


@pytest.mark.parametrize(
    "text",
    [
        "quero falar com um humano",
        "Quero falar com um atendente",
        "posso falar com alguém?",
        "preciso falar com uma pessoa",
        "quero falar com um vendedor",
        "gostaria de falar com o responsável",
        "me passa para um atendente",
        "me passa pra um atendente pfv",
        "chama o gerente",
        "quero atendimento humano",
        "atendente",
        "HUMANO",
        "quero falar com uma pessoa de verdade, não com robô",
    ],
)
def test_human(text: str) -> None:
    m = match_rules(settings(), text, now=NOW)
    assert m is not None and m.intent == "human"
    assert m.action == "handoff"
    assert m.response == settings().handoff.message_to_lead


@pytest.mark.parametrize(
    "text",
    [
        "vou falar com alguém da minha família e te aviso",
        "vou falar com meu marido",
        "tenho que falar com meu sócio antes",
        "deixa eu falar com a minha esposa",
        "a pessoa que vai usar é minha filha",
        "vocês têm vendedor externo?",
    ],
)
def test_not_human(text: str) -> None:
    assert intent(text) != "human"


@pytest.mark.parametrize(
    "text",
    [
        "vocês abrem que horas?",
        "vcs abrem q horas",
        "Que horas vocês abrem?",
        "a que horas fecha hoje?",
        "qual o horário de funcionamento?",
        "horario de atendimento",
        "Qual o horário de vocês?",
        "estão abertos?",
        "tá aberto?",
        "vocês estão abertos agora?",
        "aberto hoje?",
        "atendem sábado?",
        "vcs abrem domingo?",
        "funciona no feriado?",
        "abrem no final de semana?",
        "até que horas?",
        "até que horas vocês ficam abertos?",
        "Boa tarde! Qual o horário de funcionamento de vocês no sábado?",
        "que dias vocês atendem?",
    ],
)
def test_business_hours(text: str) -> None:
    m = match_rules(settings(), text, now=NOW)
    assert m is not None and m.intent == "business_hours"
    assert m.action == "business_hours"
    assert "Segunda a sexta: 8h às 18h · Sábado: 8h30 às 13h · Domingo: fechado" in m.response
    assert m.response.endswith("Agora estamos abertos!")


def test_business_hours_closed_says_when_it_opens() -> None:
    m = match_rules(settings(), "estão abertos?", now=sp(MON, 19))
    assert m is not None
    assert m.response.endswith("Agora estamos fechados. Abrimos amanhã às 8h.")
    m = match_rules(settings(), "estão abertos?", now=sp(MON + timedelta(days=5), 14))  # Saturday afternoon
    assert m is not None and m.response.endswith("Abrimos segunda às 8h.")


def test_business_hours_not_configured_goes_to_the_llm() -> None:
    s = settings(business_hours={})
    assert intent("qual o horário de funcionamento?", s) is None


@pytest.mark.parametrize(
    "text",
    [
        "tem horário amanhã?",  # an appointment slot, not opening hours
        "qual horário vocês têm amanhã pra limpeza?",
        "qual horário?",
        "quantas horas dura o procedimento?",
        "o produto funciona com pilha?",
        "a vaga ainda está aberta?",
        "que horas chega meu pedido?",
        "até que horas posso pagar o boleto?",
        "Oi, bom dia! Queria saber quanto custa o clareamento, se parcela no cartão, se tem estacionamento "
        "perto e também qual o horário de funcionamento de vocês no sábado, obrigado",  # long: the LLM answers all
    ],
)
def test_not_business_hours(text: str) -> None:
    assert intent(text) != "business_hours"


@pytest.mark.parametrize(
    "text",
    [
        "tabela de preços",
        "Tabela de precos",
        "me manda a tabela de valores",
        "tem tabela?",
        "manda a tabela pfv",
        "lista de preços",
        "vocês têm uma lista de produtos?",
        "tem catálogo?",
        "me manda o catalogo",
        "cardápio",
        "quais os preços?",
        "quais são os valores de vocês?",
        "me passa os valores pfv",
        "quero saber os preços dos serviços",
        "preços",
        "Oi! Pode me enviar o catálogo?",
    ],
)
def test_price_list(text: str) -> None:
    m = match_rules(settings(), text, now=NOW)
    assert m is not None and m.intent == "price_list"
    assert m.action == "price_list"
    assert m.response == PRICE_LIST_RESPONSE


@pytest.mark.parametrize(
    "text",
    [
        "quanto custa o clareamento?",
        "qual o preço?",
        "qual o valor do clareamento?",
        "quais os preços do clareamento?",
        "os valores são à vista?",
        "preço do tênis azul 42",
        "tá caro",
        "o preço inclui frete?",
    ],
)
def test_not_price_list(text: str) -> None:
    assert intent(text) is None


def test_builtin_order_opt_out_before_the_rest() -> None:
    assert intent("oi, para de me mandar mensagem") == "opt_out"
    assert intent("quero falar com um atendente sobre a tabela de preços") == "human"


# --- owner rules -----------------------------------------------------------------------------------------


def rule(name: str, patterns: list[str], match: str = "keywords", response: str = "ok", action: str = "reply") -> dict:
    return {"name": name, "match": match, "patterns": patterns, "response": response, "action": action}


def test_owner_keywords_whole_words_accents_and_abbreviations() -> None:
    s = settings(intents=[rule("pix", ["pix", "chave pix"], response="Nossa chave pix é 123.")])
    m = match_rules(s, "Aceita PIX?", now=NOW)
    assert m is not None
    assert (m.intent, m.action, m.response, m.rule, m.pattern) == (
        "pix",
        "reply",
        "Nossa chave pix é 123.",
        "owner:pix",
        "pix",
    )
    assert intent("qual a sua chave pix", s) == "pix"
    assert intent("a foto tem quantos pixels?", s) is None  # whole words only
    s = settings(intents=[rule("promo", ["promoção de verão"])])
    assert intent("tem PROMOCAO DE VERAO?", s) == "promo"
    assert intent("tem promoção?", s) is None
    s = settings(intents=[rule("voce", ["você faz"])])
    assert intent("vc faz unha?", s) == "voce"
    s = settings(intents=[rule("like", ["👍"], response="Valeu!")])
    assert intent("👍", s) == "like"


def test_owner_regex_on_original_text() -> None:
    s = settings(intents=[rule("pedido", [r"pedido\s*#?\d{4,}"], match="regex", response="Vou verificar o pedido.")])
    assert intent("Meu PEDIDO #12345 não chegou", s) == "pedido"
    assert intent("meu pedido não chegou", s) is None
    s = settings(intents=[rule("cep", [r"\b\d{5}-\d{3}\b"], match="regex")])
    assert intent("entrega no 01310-100?", s) == "cep"


def test_owner_button_by_reply_id_or_title() -> None:
    s = settings(intents=[rule("agendar", ["btn_agendar", "Agendar horário"], match="button", response="Qual dia?")])
    assert intent("Agendar horário", s, reply_id="btn_agendar") == "agendar"
    assert intent("", s, reply_id="btn_agendar") == "agendar"
    assert intent("agendar horario", s) == "agendar"  # the title typed (or a reply without id)
    assert intent("quero agendar horário amanhã", s) is None  # buttons match exactly, not as keywords
    assert intent("Outra coisa", s, reply_id="btn_outro") is None


def test_owner_rules_come_before_builtins_and_in_order() -> None:
    s = settings(
        intents=[
            rule("horario_custom", ["horário de funcionamento"], response="Abrimos às 9h."),
            rule("first", ["oi"], response="primeira"),
            rule("second", ["oi"], response="segunda"),
        ]
    )
    assert intent("qual o horário de funcionamento?", s) == "horario_custom"
    m = match_rules(s, "oi", now=NOW)
    assert m is not None and m.response == "primeira"


def test_owner_rule_named_like_a_builtin_replaces_it() -> None:
    s = settings(intents=[rule("Greeting", ["olá equipe"], response="Oi oi!")])
    assert intent("oi", s) is None  # the built-in greeting is off
    assert intent("Olá equipe", s) == "Greeting"
    s = settings(intents=[rule("price-list", ["tabela"], action="price_list", response="")])
    m = match_rules(s, "tem tabela?", now=NOW)
    assert m is not None and (m.rule, m.action, m.response) == ("owner:price-list", "price_list", PRICE_LIST_RESPONSE)
    assert intent("tem catálogo?", s) is None


def test_opt_out_beats_owner_keywords_but_not_owner_buttons() -> None:
    s = settings(intents=[rule("promo", ["mensagem", "promoção"], response="Temos promoção!")])
    assert intent("para de me mandar mensagem de promoção", s) == "opt_out"
    assert intent("recebi sua mensagem sobre a promoção", s) == "promo"
    s = settings(intents=[rule("menu_sair", ["menu_sair", "Sair"], match="button", response="Saindo do menu.")])
    assert intent("Sair", s, reply_id="menu_sair") == "menu_sair"
    s = settings(intents=[rule("opt_out", ["cancelar tudo"], action="opt_out", response="")])
    assert intent("sair", s) is None  # the owner replaced opt_out
    m = match_rules(s, "quero cancelar tudo", now=NOW)
    assert m is not None and (m.action, m.response) == ("opt_out", OPT_OUT_RESPONSE)


def test_owner_actions_default_responses() -> None:
    s = settings(
        intents=[
            rule("gerente", ["reclamação"], action="handoff", response=""),
            rule("quando", ["quando abre"], action="business_hours", response=""),
            rule("silencio", ["ok"], response=""),
        ]
    )
    m = match_rules(s, "tenho uma reclamação", now=NOW)
    assert m is not None and (m.action, m.response) == ("handoff", s.handoff.message_to_lead)
    m = match_rules(s, "quando abre?", now=sp(MON, 7))
    assert m is not None and m.action == "business_hours"
    assert m.response.startswith("Nosso horário de atendimento:\nSegunda a sexta")
    assert m.response.endswith("Agora estamos fechados. Abrimos hoje às 8h.")
    assert intent("ok", s) is None  # a reply rule with nothing to say never leaves the lead unanswered
    s = settings(business_hours={}, intents=[rule("quando", ["quando abre"], action="business_hours", response="")])
    assert intent("quando abre?", s) is None  # no hours configured and nothing to say


def test_templating() -> None:
    s = settings(
        intents=[
            rule("h", ["horas"], response="Oi, {nome}! Nosso horário: {horario}. {status}"),
            rule("a", ["agente"], response="{saudacao}, {nome}, aqui é {agente} {curly}"),
            rule("n", ["nome"], response="{nome}, seu pedido saiu."),
        ]
    )
    m = match_rules(s, "horas", now=sp(MON, 10), contact_name="ana paula")
    assert m is not None
    assert m.response == (
        "Oi, Ana! Nosso horário: Segunda a sexta: 8h às 18h · Sábado: 8h30 às 13h · Domingo: fechado. "
        "Agora estamos abertos!"
    )
    m = match_rules(s, "horas", now=sp(MON, 10))
    assert m is not None and m.response.startswith("Oi! Nosso horário:")
    m = match_rules(s, "agente", now=sp(MON, 20), contact_name="Zé", agent_name="Bia")
    assert m is not None and m.response == "Boa noite, Zé, aqui é Bia {curly}"
    m = match_rules(s, "nome", now=NOW)
    assert m is not None and m.response == "Seu pedido saiu."


def test_render_and_first_name() -> None:
    assert render("Olá, {nome}!", {"nome": ""}) == "Olá!"
    assert render("Oi {nome}, tudo bem?", {"nome": ""}) == "Oi, tudo bem?"
    assert render("Obrigado {nome}!", {"nome": "Rui"}) == "Obrigado Rui!"
    assert render("{x} {nome}", {"nome": "Rui"}) == "{x} Rui"
    assert first_name("JOÃO DA SILVA") == "João"
    assert first_name("maria clara") == "Maria"
    assert first_name("McDonald Silva") == "McDonald"
    assert first_name("Dr. Paulo") == "Paulo"
    assert first_name("🌸~ Ana 🌸") == "Ana"
    assert first_name("+55 11 99999-0000") == ""
    assert first_name("") == ""


# --- robustness ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "😊", "👍🙏🎉", "...", "???", "1234", "kkkkkk"])
def test_nothing_to_match(text: str) -> None:
    assert match_rules(settings(), text, now=NOW) is None


def test_very_long_text_is_fast() -> None:
    long_text = ("Oi, queria saber sobre o clareamento dental e a tabela de preços. " * 2000) + " me tira dessa lista"
    started = clock.perf_counter()
    assert intent(long_text) is None  # cut to WhatsApp's 4096 characters; too long for price_list
    assert intent("a" * 100_000) is None
    assert intent("me tira dessa lista " + "bla " * 500) == "opt_out"
    assert clock.perf_counter() - started < 1.0


def test_naive_now_is_utc() -> None:
    m = match_rules(settings(), "estão abertos?", now=datetime(2025, 3, 10, 22, 0))  # 19h in São Paulo
    assert m is not None and "fechados" in m.response


# --- business hours -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (sp(MON, 10), True),
        (sp(MON, 7, 59), False),
        (sp(MON, 8), True),
        (sp(MON, 17, 59), True),
        (sp(MON, 18), False),  # the close is exclusive
        (sp(MON + timedelta(days=5), 12, 59), True),  # Saturday
        (sp(MON + timedelta(days=5), 8, 15), False),
        (sp(MON + timedelta(days=5), 13), False),
        (sp(MON + timedelta(days=6), 12), False),  # Sunday
        (utc(MON, 20, 30), True),  # 17:30 in São Paulo
        (utc(MON, 21, 30), False),  # 18:30 in São Paulo
        (utc(MON, 11, 30), True),  # 8:30
        (datetime(2025, 3, 10, 12, 0, tzinfo=timezone(timedelta(hours=1))), True),  # 8h in São Paulo
        (datetime(2025, 3, 10, 11, 0, tzinfo=timezone(timedelta(hours=1))), False),
        (datetime(2025, 3, 10, 20, 30), True),  # naive: UTC
    ],
)
def test_is_open(at: datetime, expected: bool) -> None:
    assert H.is_open(HOURS, at) is expected


def test_overnight() -> None:
    fri = MON + timedelta(days=4)
    bar = BusinessHours(week={4: [{"open": "22:00", "close": "02:00"}]})
    assert H.is_open(bar, sp(fri, 23))
    assert H.is_open(bar, sp(fri + timedelta(days=1), 1, 30))  # Saturday 1:30, still Friday's night
    assert not H.is_open(bar, sp(fri + timedelta(days=1), 2))
    assert not H.is_open(bar, sp(fri, 21, 59))
    assert not H.is_open(bar, sp(fri - timedelta(days=1), 23))
    assert not H.is_open(bar, sp(fri, 1))  # Thursday had no night
    assert H.next_opening(bar, sp(fri + timedelta(days=1), 3)) == sp(fri + timedelta(days=7), 22)
    assert H.describe(bar) == "Segunda a quinta: fechado · Sexta: 22h às 2h · Sábado e domingo: fechado"


def test_midnight_and_24_hours() -> None:
    late = BusinessHours(week={0: [{"open": "18:00", "close": "24:00"}], 1: [{"open": "00:00", "close": "00:00"}]})
    assert H.is_open(late, sp(MON, 23, 59))
    assert H.is_open(late, sp(MON + timedelta(days=1), 0))  # Tuesday: 24 hours
    assert H.is_open(late, sp(MON + timedelta(days=1), 23, 59))
    assert not H.is_open(late, sp(MON + timedelta(days=2), 0))
    assert H.describe(late) == "Segunda: 18h às 0h · Terça: 24 horas · Quarta a domingo: fechado"


def test_closed_dates() -> None:
    holiday = HOURS.model_copy(update={"closed_dates": ["2025-03-10", "12-25", "not-a-date"]})
    assert not H.is_open(holiday, sp(MON, 10))
    assert H.is_open(holiday, sp(MON + timedelta(days=1), 10))
    assert H.next_opening(holiday, sp(MON, 10)) == sp(MON + timedelta(days=1), 8)
    assert not H.is_open(holiday, sp(date(2026, 12, 25), 10))  # MM-DD: every year (a Friday)
    assert H.is_open(holiday, sp(date(2026, 12, 24), 10))
    # A holiday cancels what opens on it, not the previous night's tail.
    bar = BusinessHours(week={6: [{"open": "22:00", "close": "02:00"}]}, closed_dates=["2025-03-10"])
    assert H.is_open(bar, sp(MON, 1))


def test_timezone_conversion_and_dst() -> None:
    ny = BusinessHours(timezone="America/New_York", week={d: [{"open": "09:00", "close": "17:00"}] for d in range(7)})
    # New York moved to EDT (UTC-4) on 2025-03-09; before that it was EST (UTC-5).
    assert H.is_open(ny, datetime(2025, 3, 9, 13, 30, tzinfo=UTC))  # 9:30 EDT
    assert not H.is_open(ny, datetime(2025, 3, 8, 13, 30, tzinfo=UTC))  # 8:30 EST
    assert H.next_opening(ny, datetime(2025, 3, 8, 13, 30, tzinfo=UTC)) == datetime(2025, 3, 8, 14, 0, tzinfo=UTC)
    bogus = HOURS.model_copy(update={"timezone": "Mars/Olympus"})  # falls back to São Paulo
    assert H.is_open(bogus, utc(MON, 13))
    assert not H.is_open(bogus, utc(MON, 22))


def test_next_opening() -> None:
    assert H.next_opening(HOURS, sp(MON, 10)) == sp(MON, 10)  # open now: now
    assert H.next_opening(HOURS, utc(MON, 13)).tzinfo == SP  # in the business's timezone
    assert H.next_opening(HOURS, sp(MON, 7)) == sp(MON, 8)
    assert H.next_opening(HOURS, sp(MON, 19)) == sp(MON + timedelta(days=1), 8)
    assert H.next_opening(HOURS, sp(MON + timedelta(days=5), 14)) == sp(MON + timedelta(days=7), 8)
    assert H.next_opening(HOURS, utc(MON, 22)) == sp(MON + timedelta(days=1), 8)
    mondays_only = BusinessHours(
        week={0: WEEKDAY}, closed_dates=[(MON + timedelta(weeks=w)).isoformat() for w in range(70)]
    )
    assert H.next_opening(mondays_only, sp(MON, 10)) is None  # closed every Monday for over a year
    assert not H.is_open(mondays_only, sp(MON, 10))


def test_not_configured_means_always_open() -> None:
    for empty in (BusinessHours(), BusinessHours(week={0: [], 3: []})):
        assert not H.is_configured(empty)
        assert H.is_open(empty, sp(MON, 3))
        assert H.next_opening(empty, utc(MON, 6)) == sp(MON, 3)
        assert H.describe(empty) == ""
        assert H.status_line(empty, NOW) == ""


def test_describe_groups_days() -> None:
    assert H.describe(HOURS) == "Segunda a sexta: 8h às 18h · Sábado: 8h30 às 13h · Domingo: fechado"
    every = BusinessHours(week={d: [{"open": "09:00", "close": "21:00"}] for d in range(7)})
    assert H.describe(every) == "Todos os dias: 9h às 21h"
    split = BusinessHours(
        week={
            0: [{"open": "14:00", "close": "18:00"}, {"open": "08:00", "close": "12:00"}],
            1: [{"open": "08:00", "close": "12:00"}],
            2: [{"open": "08:00", "close": "12:00"}, {"open": "14:00", "close": "18:00"}],
            5: [{"open": "09:15", "close": "12:45"}],
            6: [{"open": "09:15", "close": "12:45"}],
        }
    )
    assert H.describe(split) == (
        "Segunda: 8h às 12h e 14h às 18h · Terça: 8h às 12h · Quarta: 8h às 12h e 14h às 18h · "
        "Quinta e sexta: fechado · Sábado e domingo: 9h15 às 12h45"
    )


def test_status_line_and_describe_opening() -> None:
    assert H.status_line(HOURS, sp(MON, 10)) == "Agora estamos abertos!"
    assert H.status_line(HOURS, sp(MON, 6)) == "Agora estamos fechados. Abrimos hoje às 8h."
    assert H.status_line(HOURS, sp(MON + timedelta(days=4), 19)) == "Agora estamos fechados. Abrimos amanhã às 8h30."
    assert H.status_line(HOURS, sp(MON + timedelta(days=5), 14)) == "Agora estamos fechados. Abrimos segunda às 8h."
    far = HOURS.model_copy(update={"closed_dates": [(MON + timedelta(days=d)).isoformat() for d in range(1, 12)]})
    assert H.status_line(far, sp(MON, 19)) == "Agora estamos fechados. Abrimos dia 22/03 às 8h30."  # a Saturday
    never = BusinessHours(week={0: WEEKDAY}, closed_dates=[(MON + timedelta(weeks=w)).isoformat() for w in range(70)])
    assert H.status_line(never, sp(MON, 10)) == "Agora estamos fechados."
