"""The agent's first layer: fixed flows that answer without the LLM.

Two kinds of rules:

- Built-in intents, always on unless an owner rule has the same name (case, "-", "_" and spaces
  ignored: "Opt-out" replaces `opt_out`): `opt_out`, `human`, `business_hours`, `price_list`,
  `greeting`. They are tuned for few false positives: "quero sair de casa cedo" is not an opt-out,
  "quanto custa o clareamento?" is not a price-list request (that is for the RAG/LLM), and a greeting
  only counts when the whole message is a greeting.
- The owner's `IntentRule`s: `keywords` (a pattern appears as whole words in the normalized message),
  `regex` (searched in the original text, case-insensitive), `button` (the button/list reply id, or
  the message text = the button's title, equals a pattern).

Order, first match wins: the owner's button rules (an exact choice from a menu the owner designed),
then the built-in `opt_out` (whatever the owner's keywords say, a lead who asks to stop is never
answered with a promotion), then the owner's keyword and regex rules in their order, then the other
built-ins (human, business_hours, price_list, greeting).

Responses are templates: {nome} (the lead's first name), {horario} (the weekly hours, see
hours.describe), {status} ("Agora estamos abertos!" / "... fechados. Abrimos amanhã às 8h."),
{saudacao} (Bom dia / Boa tarde / Boa noite at the business's local time) and {agente} (the agent's
name). A placeholder with nothing to put in is removed with its comma ("Olá, {nome}!" -> "Olá!").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from . import hours as hours_mod
from .settings import AgentSettings, IntentRule

MAX_TEXT_CHARS = 4096  # WhatsApp's own limit; longer input is cut before matching
MAX_INFO_TOKENS = 20  # business_hours / price_list only fire on short messages (long ones go to the LLM)
MAX_GREETING_TOKENS = 10

PLACEHOLDERS = ("{nome}", "{horario}", "{status}", "{saudacao}", "{agente}")
BUILTIN_INTENTS = ("opt_out", "human", "business_hours", "price_list", "greeting")

OPT_OUT_RESPONSE = "Pronto, você não vai mais receber mensagens nossas. Se mudar de ideia, é só mandar um oi."
PRICE_LIST_RESPONSE = "Claro! Vou te enviar nossa tabela de preços. 📄"
BUSINESS_HOURS_RESPONSE = "Nosso horário de atendimento:\n{horario}\n{status}"


@dataclass(frozen=True)
class RuleMatch:
    intent: str  # the rule's name: a built-in intent ("greeting", ...) or the owner's rule name
    action: str  # reply | handoff | opt_out | price_list | business_hours
    response: str  # ready to send (templated); may be "" only for owner rules whose action speaks for itself
    rule: str  # "builtin:<name>" or "owner:<name>"
    pattern: str = ""  # what matched, for logs


# --- normalization ---------------------------------------------------------------------------------

# WhatsApp spellings -> the word the rules are written with (keys and values already accent-folded).
ABBREVIATIONS = {
    "vc": "voce",
    "vcs": "voces",
    "ce": "voce",
    "q": "que",
    "oq": "o que",
    "n": "nao",
    "nn": "nao",
    "naum": "nao",
    "nau": "nao",
    "pfv": "por favor",
    "pf": "por favor",
    "pfvr": "por favor",
    "porfavor": "por favor",
    "plz": "por favor",
    "pls": "por favor",
    "tb": "tambem",
    "tbm": "tambem",
    "obg": "obrigado",
    "obgd": "obrigado",
    "obgda": "obrigada",
    "blz": "beleza",
    "hj": "hoje",
    "agr": "agora",
    "td": "tudo",
    "tds": "todos",
    "tdb": "tudo bem",
    "msg": "mensagem",
    "msgs": "mensagens",
    "qnto": "quanto",
    "qto": "quanto",
    "qnt": "quanto",
    "pq": "porque",
    "cmg": "comigo",
    "ctz": "certeza",
    "mt": "muito",
    "mto": "muito",
    "dps": "depois",
    "vlw": "valeu",
    "pra": "para",
    "pro": "para o",
    "ta": "esta",
    "to": "estou",
    "tao": "estao",
    "eh": "e",
    "sab": "sabado",
    "dom": "domingo",
    "seg": "segunda",
    "hr": "hora",
    "hrs": "horas",
    "atd": "atendimento",
    "oii": "oi",
    "oie": "oi",
    "oiee": "oi",
    "oin": "oi",
    "eae": "e ai",
    "eai": "e ai",
    "iai": "e ai",
    "bd": "bom dia",
}

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_REPEATS = re.compile(r"([a-z])\1{2,}")  # "oiii" -> "oi", "boaaa" -> "boa" (no pt-BR word has 3 in a row)


def fold(text: str) -> str:
    """Lowercase without accents ("Olá, Você" -> "ola, voce")."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lowercase, accents folded, punctuation and emoji dropped, whitespace collapsed, WhatsApp
    spellings spelled out: "Oiii, vc tá aberto?? 😊" -> "oi voce esta aberto"."""
    words = _REPEATS.sub(r"\1", _NON_WORD.sub(" ", fold(text))).split()
    return " ".join(ABBREVIATIONS.get(w, w) for w in words)


def _has(norm: str, phrase: str) -> bool:
    """Whether a normalized phrase appears as whole words in a normalized message."""
    return bool(phrase) and f" {phrase} " in f" {norm} "


# --- built-in intents --------------------------------------------------------------------------------

_POLITE = {"por", "favor", "obrigado", "obrigada", "ok", "eu", "ja", "agora", "gente", "moca", "moco", "ai", "valeu"}

_OPT_OUT_WHOLE = {
    "parar",
    "pare",
    "para",
    "parem",
    "stop",
    "sair",
    "remover",
    "unsubscribe",
    "quero sair",
    "quero parar",
    "pode parar",
    "nao quero mais",
    "parar mensagens",
    "parar de receber",
    "nao quero receber",
    "sair da lista",
}
_OPT_OUT_PHRASES = [
    re.compile(p)
    for p in (
        r"\bnao (?:quero|desejo|gostaria de) (?:mais )?receber"
        r"(?: (?:mais|essas?|esses?|suas?|seus?|nenhuma|nenhum|as|os))* "
        r"(?:mensage\w*|msg\w*|propaganda\w*|promoc\w*|spam|nada|isso|ofertas?|anuncios?|notificac\w*|contato)\b",
        r"\bnao (?:quero|desejo|gostaria de) (?:mais )?receber(?: (?:por favor|obrigad[oa]|mais))*$",
        r"\b(?:para|pare|parem|parar|pode parar) de (?:me (?:mandar|enviar|encher|mandarem|enviarem)|"
        r"(?:mandar|enviar)(?:em)? (?:mensage\w*|msg\w*|propaganda\w*|promoc\w*|spam))\b",
        r"\bnao me (?:mand|envi|cham|procur|incomod|perturb)\w* mais\b",
        r"\bnao (?:mande|mandem|envie|enviem) mais\b",
        r"\b(?:remov|tir|exclu|delet)\w* (?:o |a )?(?:meu|minha) (?:numero|contato|telefone)\b(?! (?:antigo|errado))",
        r"\b(?:remov|exclu|delet)\w* (?:o )?meu cadastro\b",
        r"\bme (?:tir|remov|exclu)\w* d(?:a|essa|esta|e sua|a sua) lista\b",
        r"\bsair d(?:a|essa|esta|e sua|a sua) lista\b",
        r"\bdescadastr\w*",
        r"\bchega de (?:mensage\w*|propaganda\w*|spam)\b",
    )
]

_HUMAN_TARGET = (
    r"(?:humano|humana|atendente|atendentes|pessoa|pessoas|alguem|vendedor|vendedora|vendedores|consultor|"
    r"consultora|gerente|responsavel|dono|dona|proprietario|proprietaria|funcionario|funcionaria|"
    r"representante|operador|operadora|especialista)"
)
_ARTICLE = r"(?:o |a |os |as |um |uma |algum |alguma )?"
_HUMAN_TALK = re.compile(rf"\b(?:(\w+) )?(?:falar|conversar|fala|falo|converso) com {_ARTICLE}{_HUMAN_TARGET}\b")
_HUMAN_NOT_NOW = {"vou", "vamos", "vai", "irei", "iremos", "ia", "iria", "depois"}  # "vou falar com alguém e te aviso"
_HUMAN_NOT_OURS = {"meu", "minha", "meus", "minhas", "casa", "familia", "marido", "esposa", "mulher", "socio", "socia"}
_HUMAN_ASK = re.compile(
    r"\b(?:quero|queria|gostaria de|preciso de|chama|chame|chamar|chamem|me passa|passa|passe|me transfere|"
    r"transfere|transferir|transfira|me encaminha|encaminha|encaminhar)(?: (?:para|com))? "
    rf"{_ARTICLE}(?:atendente|humano|humana|vendedor|vendedora|consultor|consultora|gerente|responsavel|"
    r"pessoa de verdade|pessoa real|ser humano)\b"
)
_HUMAN_PHRASES = re.compile(r"\b(?:atendimento|atendente) (?:humano|humanizado|com (?:um |uma )?(?:humano|pessoa))\b")
_HUMAN_WHOLE = {"atendente", "humano", "vendedor", "vendedora", "pessoa real", "pessoa de verdade"}

_DAY = (
    r"(?:hoje|amanha|agora|sabados?|domingos?|feriados?|segundas?|tercas?|quartas?|quintas?|sextas?|"
    r"(?:final|finais|fim|fins) de semana|carnaval|natal|ano novo)"
)
_OPEN_VERB = (
    r"(?:abre|abrem|fecha|fecham|funciona|funcionam|atende|atendem|abrira|abrirao|fechara|fecharao|"
    r"vai abrir|vao abrir|vai funcionar|vao funcionar|comeca|comecam|encerra|encerram)"
)
_HOURS_PHRASES = [
    re.compile(p)
    for p in (
        r"\bhorarios? (?:de|do|da) (?:funcionamento|atendimento|abertura|expediente|voces?|loja|clinica|consultorio|"
        r"empresa|escritorio|estabelecimento)\b",
        r"\bhorarios? (?:que|em que) (?:\w+ ){0,2}(?:abre|abrem|fecha|fecham|funciona|funcionam)\b",
        rf"\b(?:que|q) horas? (?:\w+ ){{0,3}}{_OPEN_VERB}\b",
        rf"\b{_OPEN_VERB}(?: \w+){{0,2}} (?:que|q) horas?\b",
        rf"\b{_OPEN_VERB} (?:(?:no|nos|na|nas|neste|nesse|este|esse|aos?|de|em|durante o) )?{_DAY}\b",
        r"\b(?:estao|esta|estara|estarao|ficam|fica|vao estar|vai estar) abertos?\b",
        rf"\babert[oa]s? (?:(?:no|nos|aos?|neste|nesse|em) )?{_DAY}\b",
        r"\b(?:voces?|loja|clinica) (?:ainda )?(?:estao|esta) (?:funcionando|atendendo)\b",
        r"\bexpediente\b",
        r"\b(?:que|quais) dias? (?:\w+ ){0,2}(?:abre|abrem|funciona|funcionam|atende|atendem)\b",
    )
]
_HOURS_WHOLE = {
    "aberto",
    "abertos",
    "aberta",
    "ate que horas",
    "que horas abre",
    "que horas fecha",
    "horario de funcionamento",
}

_PRICE_PHRASES = [
    re.compile(p)
    for p in (
        r"\btabelas?(?: de| com os| com| dos)? (?:precos?|valores)\b",
        r"\blistas?(?: de| com os| com| dos)? (?:precos?|valores|produtos|servicos)\b",
        r"\bcatalogos?\b",
        r"\bcardapios?\b",
    )
]
# A message that ENDS asking for the prices in general ("me passa os valores"), not of one thing.
_PRICE_TAIL = re.compile(
    r"\b(?:os|seus|todos os|quais os|quais sao os|quais seus|sua|a|uma|tem|manda|envia|passa) "
    r"(?:precos|valores|tabela)$|^(?:precos|valores|tabela|tabela de precos)$"
)
_TRAILING_FILLER = re.compile(
    r" (?:por favor|ai|de voces?|de tudo|dos (?:seus )?(?:produtos|servicos|procedimentos|tratamentos|planos|pacotes)|"
    r"para mim|completa|completo|atualizada|atualizado|obrigad[oa]|hoje|agora|ok)$"
)

_GREETINGS = [
    "oi",
    "ola",
    "opa",
    "e ai",
    "hey",
    "hi",
    "hello",
    "alo",
    "salve",
    "hola",
    "bom dia",
    "boa tarde",
    "boa noite",
    "fala ai",
    "oi oi",
]
_GREETING_FILLER = {
    "tudo",
    "bem",
    "bom",
    "beleza",
    "como",
    "vai",
    "voce",
    "voces",
    "esta",
    "estao",
    "tranquilo",
    "tranquila",
    "joia",
    "certo",
    "pessoal",
    "gente",
    "galera",
    "amigo",
    "amiga",
    "moca",
    "moco",
    "querida",
    "querido",
    "senhor",
    "senhora",
    "sr",
    "sra",
    "dr",
    "dra",
    "doutor",
    "doutora",
    "prezado",
    "prezada",
    "prezados",
    "todos",
    "a",
    "e",
    "ai",
    "ne",
    "com",
    "por",
    "contigo",
    "de",
    "novo",
    "rs",
    "k",
    "kk",
    "ok",
}
_GREETING_CORE = re.compile(r"\b(?:" + "|".join(re.escape(g) for g in _GREETINGS) + r")\b")
_CAPITALIZED = re.compile(r"\b[A-ZÀ-Ý][a-zà-ÿ]{1,20}\b")
_SENTENCE = re.compile(r"[!?\n]+")


def _strip_polite(norm: str) -> str:
    return " ".join(w for w in norm.split() if w not in _POLITE)


def _is_opt_out(norm: str) -> str | None:
    if _strip_polite(norm) in _OPT_OUT_WHOLE:
        return _strip_polite(norm)
    for p in _OPT_OUT_PHRASES:
        if m := p.search(norm):
            return m.group(0)
    return None


def _is_human(norm: str) -> str | None:
    if _strip_polite(norm) in _HUMAN_WHOLE:
        return _strip_polite(norm)
    for m in _HUMAN_TALK.finditer(norm):
        after = norm[m.end() :].split()[:3]
        if m.group(1) in _HUMAN_NOT_NOW or _HUMAN_NOT_OURS.intersection(after):
            continue
        return m.group(0)
    for p in (_HUMAN_ASK, _HUMAN_PHRASES):
        if m := p.search(norm):
            return m.group(0)
    return None


def _is_business_hours(norm: str) -> str | None:
    if len(norm.split()) > MAX_INFO_TOKENS:
        return None
    if _strip_polite(norm) in _HOURS_WHOLE:
        return _strip_polite(norm)
    for p in _HOURS_PHRASES:
        if m := p.search(norm):
            return m.group(0)
    return None


def _is_price_list(norm: str) -> str | None:
    if len(norm.split()) > MAX_INFO_TOKENS:
        return None
    for p in _PRICE_PHRASES:
        if m := p.search(norm):
            return m.group(0)
    tail = norm
    while (cut := _TRAILING_FILLER.sub("", tail)) != tail:
        tail = cut
    if m := _PRICE_TAIL.search(tail):
        return m.group(0).strip()
    return None


def _is_greeting(norm: str, text: str, agent_name: str) -> str | None:
    """The WHOLE message is a greeting ("Oi, boa tarde! Tudo bem? 😊"), maybe with a name in it."""
    words = norm.split()
    if not words or len(words) > MAX_GREETING_TOKENS:
        return None
    core = _GREETING_CORE.search(norm)
    if core is None:
        return None
    rest = _GREETING_CORE.sub(" ", norm).split()
    names = set(normalize(agent_name).split())
    names_left = 2  # "Oi Carla", "Bom dia Dra. Ana": capitalized words taken as names, two at most
    capitalized = {  # not a sentence's first word: "Oi! Orçamento" is not someone called Orçamento
        normalize(w) for sentence in _SENTENCE.split(text) for w in _CAPITALIZED.findall(sentence)[1:]
    }
    for w in rest:
        if w in _GREETING_FILLER or w in names:
            continue
        if w in capitalized and names_left:
            names_left -= 1
            continue
        return None
    return core.group(0)


# --- templating ----------------------------------------------------------------------------------------

_TITLES = {"dr", "dra", "sr", "sra", "prof", "profa", "srta"}
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")


def first_name(contact_name: str) -> str:
    """The lead's first name as a person would write it: "JOÃO SILVA" -> "João", "~maria 🌸" -> "Maria"."""
    for word in _NAME_WORD.findall(contact_name or ""):
        if len(word) < 2 or fold(word) in _TITLES:
            continue
        return word.capitalize() if word.islower() or word.isupper() else word
    return ""


def greeting_word(local: datetime) -> str:
    """Bom dia / Boa tarde / Boa noite for a local time."""
    if 5 <= local.hour < 12:
        return "Bom dia"
    if 12 <= local.hour < 18:
        return "Boa tarde"
    return "Boa noite"


def render(template: str, values: dict[str, str]) -> str:
    """Fill the {placeholders}; an empty one goes with its comma or space ("Olá, {nome}!" -> "Olá!").
    Other braces are left as the owner wrote them."""
    out = template
    for key, value in values.items():
        token = "{" + key + "}"
        out = out.replace(token, value) if value else re.sub(r"[ ,]*" + re.escape(token), "", out)
    out = out.strip()
    if out[:1] in {",", ";", ":"}:  # "{nome}, seu pedido..." without a name
        out = out.lstrip(",;: ")
        out = out[:1].upper() + out[1:]
    return out


# --- matching --------------------------------------------------------------------------------------------


def _rule_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(name))


_BUILTIN_KEYS = {_rule_key(n): n for n in BUILTIN_INTENTS}


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None


def _owner_match(rule: IntentRule, text: str, norm: str, reply_id: str | None) -> str | None:
    for p in rule.patterns:
        if rule.match == "button":
            if reply_id is not None and (reply_id.strip() == p or reply_id.strip().casefold() == p.casefold()):
                return p
            np = normalize(p)
            if (np and np == norm) or (not np and text.strip() == p):
                return p
        elif rule.match == "regex":
            rx = _compiled(p)
            if rx is not None and rx.search(text):
                return p
        else:
            np = normalize(p)
            if (np and _has(norm, np)) or (not np and p in text):  # an emoji keyword: "👍"
                return p
    return None


def _default_response(action: str, settings: AgentSettings) -> str:
    return {
        "opt_out": OPT_OUT_RESPONSE,
        "handoff": settings.handoff.message_to_lead,
        "price_list": PRICE_LIST_RESPONSE,
        "business_hours": BUSINESS_HOURS_RESPONSE,
    }.get(action, "")


def match_rules(
    settings: AgentSettings,
    text: str,
    *,
    reply_id: str | None = None,
    now: datetime,
    contact_name: str = "",
    agent_name: str = "",
) -> RuleMatch | None:
    """The fixed flow for a lead's message, or None (then the RAG/LLM answers). `reply_id` is the id of
    the button or list row the lead tapped (the text is then its title); `now` is aware (naive = UTC)."""
    text = (text or "")[:MAX_TEXT_CHARS]
    norm = normalize(text)
    bh = settings.business_hours
    configured = hours_mod.is_configured(bh)
    values = {
        "nome": first_name(contact_name),
        "horario": hours_mod.describe(bh),
        "status": hours_mod.status_line(bh, now),
        "saudacao": greeting_word(hours_mod.local_time(bh, now)),
        "agente": (agent_name or "").strip(),
    }

    def owner(rule: IntentRule, pattern: str) -> RuleMatch | None:
        response = rule.response.strip() or _default_response(rule.action, settings)
        if rule.action == "business_hours" and not rule.response.strip() and not configured:
            return None  # nothing true to say: let the knowledge base answer
        if not response and rule.action == "reply":
            return None  # a reply rule with nothing to say would leave the lead unanswered
        return RuleMatch(rule.name, rule.action, render(response, values), f"owner:{rule.name}", pattern)

    def builtin(name: str, action: str, response: str, pattern: str) -> RuleMatch:
        return RuleMatch(name, action, render(response, values), f"builtin:{name}", pattern)

    overridden = {_BUILTIN_KEYS[k] for r in settings.intents if (k := _rule_key(r.name)) in _BUILTIN_KEYS}

    def owners(buttons: bool) -> RuleMatch | None:
        for rule in settings.intents:
            if (rule.match == "button") != buttons:
                continue
            p = _owner_match(rule, text, norm, reply_id)
            if p is not None and (m := owner(rule, p)):
                return m
        return None

    # 1. The owner's buttons: an exact choice from the owner's own menu.
    if m := owners(buttons=True):
        return m

    # 2. Opt-out before anything the owner's keywords could answer.
    if "opt_out" not in overridden and norm and (p := _is_opt_out(norm)):
        return builtin("opt_out", "opt_out", OPT_OUT_RESPONSE, p)

    # 3. The owner's keyword and regex rules, in order.
    if m := owners(buttons=False):
        return m

    if not norm:
        return None

    # 4. The other built-ins.
    if "human" not in overridden and (p := _is_human(norm)):
        return builtin("human", "handoff", settings.handoff.message_to_lead, p)
    if "business_hours" not in overridden and configured and (p := _is_business_hours(norm)):
        return builtin("business_hours", "business_hours", BUSINESS_HOURS_RESPONSE, p)
    if "price_list" not in overridden and (p := _is_price_list(norm)):
        return builtin("price_list", "price_list", PRICE_LIST_RESPONSE, p)
    if "greeting" not in overridden and (p := _is_greeting(norm, text, agent_name)):
        response = (
            "{saudacao}, {nome}! " + ("Aqui é {agente}. " if values["agente"] else "") + "Como posso te ajudar? 😊"
        )
        return builtin("greeting", "reply", response, p)
    return None
