"""Agentes page services: create, edit, validate, delete, tenant isolation, and a saved change
used by the agent on the lead's very next message (real webhook -> worker -> turn)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from db.models import Role
from db.tenancy import tenant_session
from runtime.access import Forbidden, Principal, UserError
from runtime.panel import agents as panel
from tests.conftest import wait_until
from tests.fakes import cloud_api as meta
from tests.fakes.servers import serve_in_thread

APP_SECRET = "segredo-do-app"


def owner(ws) -> Principal:
    return Principal(ws.user_id, ws.workspace_id, Role.owner)


def form(**changes) -> dict:
    data = panel.blank_form()
    data.update(name="Sofia", persona="Você é a Sofia, da Clínica Sorriso.", llm_provider="none")
    data.update(changes)
    return data


@pytest.fixture
def me(workspace):
    return owner(workspace[0])


def test_create_then_read_back_every_tab(me):
    data = form(
        mode="copilot",
        company_description="Clínica odontológica em Pinheiros.",
        tone="simpático e direto",
        goals="Agendar uma avaliação.",
        qualification=[
            {"key": "need", "label": "Tratamento", "question": "Qual tratamento procura?", "required": True},
            {"key": "", "label": "", "question": "", "required": True},  # a blank row is ignored
        ],
        forbidden_topics="política\nreligião",
        max_reply_chars="500",
        intents=[
            {
                "name": "Promoção",
                "match": "keywords",
                "patterns": "promoção, desconto",
                "response": "Promo!",
                "action": "reply",
            },
            {"name": "Pix", "match": "regex", "patterns": r"\bpix\b", "response": "", "action": "handoff"},
        ],
        llm_temperature="0,5",
        tool_schedule_meeting=True,
        handoff_min_confidence="0.7",
        handoff_notify_phone="+55 11 98888-7777",
        voice_replies="when_lead_sent_audio",
        voice_id="voz-123",
        hours=[
            {**row, "open": row["day"] < 5, "start": "8:00", "end": "18:00", "start2": "", "end2": ""}
            for row in panel.blank_form()["hours"]
        ],
        closed_dates="2026-12-25\n01-01",
    )
    saved = panel.save_agent(me, None, data)
    assert saved["id"]
    got = panel.get_agent(me, saved["id"])
    assert got == saved
    assert got["mode"] == "copilot" and got["tone"] == "simpático e direto"
    assert got["qualification"] == [
        {"key": "need", "label": "Tratamento", "question": "Qual tratamento procura?", "required": True}
    ]
    assert got["intents"][0]["patterns"] == "promoção\ndesconto"
    assert got["intents"][1] == {
        "name": "Pix",
        "match": "regex",
        "patterns": r"\bpix\b",
        "response": "",
        "action": "handoff",
    }
    assert got["forbidden_topics"] == "política\nreligião" and got["max_reply_chars"] == "500"
    assert got["llm_temperature"] == "0.5" and got["tool_schedule_meeting"] is True
    assert got["handoff_notify_phone"] == "+5511988887777" and got["handoff_min_confidence"] == "0.7"
    assert got["voice_replies"] == "when_lead_sent_audio" and got["voice_id"] == "voz-123"
    assert [r["open"] for r in got["hours"]] == [True] * 5 + [False] * 2
    assert got["hours"][0]["start"] == "08:00" and got["closed_dates"] == "2026-12-25\n01-01"

    # What the runtime reads is the validated AgentSettings.
    with tenant_session(me.workspace_id) as s:
        config = s.execute(text("SELECT config FROM agent WHERE id = :i"), {"i": saved["id"]}).scalar()
    assert config["business_hours"]["week"]["0"] == [{"open": "08:00", "close": "18:00"}]
    assert config["intents"][0]["patterns"] == ["promoção", "desconto"]

    (card,) = panel.list_agents(me)
    assert card["name"] == "Sofia" and card["mode_label"] == "Copiloto" and card["rules"] == 2 and card["voice"]


def test_update_keeps_what_the_form_does_not_show_and_the_api_key_stays_write_only(me):
    saved = panel.save_agent(me, None, form(llm_provider="openai", llm_api_key="sk-secreta"))
    assert saved["llm_api_key_set"] is True and saved["llm_api_key"] == ""
    with tenant_session(me.workspace_id) as s:
        s.execute(
            text('UPDATE agent SET config = config || \'{"knowledge_collection": "sofia"}\' WHERE id = :i'),
            {"i": saved["id"]},
        )
        s.commit()
    updated = panel.save_agent(me, saved["id"], {**saved, "name": "Sofia 2", "mode": "off"})
    assert updated["name"] == "Sofia 2" and updated["mode"] == "off" and updated["llm_api_key_set"] is True
    with tenant_session(me.workspace_id) as s:
        row = s.execute(text("SELECT config, llm_api_key_encrypted FROM agent WHERE id = :i"), {"i": saved["id"]}).one()
    assert row.config["knowledge_collection"] == "sofia"
    assert row.llm_api_key_encrypted and "sk-secreta" not in row.llm_api_key_encrypted

    # Clearing the key of an OpenAI agent without a server URL is refused, with the tab named.
    with pytest.raises(UserError, match=r"Aba Modelo › chave de API"):
        panel.save_agent(me, saved["id"], {**updated, "llm_api_key_clear": True})
    cleared = panel.save_agent(me, saved["id"], {**updated, "llm_provider": "gemini", "llm_api_key_clear": True})
    assert cleared["llm_api_key_set"] is False

    with tenant_session(me.workspace_id) as s:
        actions = s.execute(
            text("SELECT action FROM audit_log WHERE target_id = :i ORDER BY created_at"), {"i": saved["id"]}
        ).scalars()
        assert list(actions) == ["agent.create", "agent.update", "agent.update"]


def _stored_key(me, agent_id: str) -> str | None:
    from runtime import crypto

    with tenant_session(me.workspace_id) as s:
        enc = s.execute(text("SELECT llm_api_key_encrypted FROM agent WHERE id = :i"), {"i": agent_id}).scalar()
    return crypto.decrypt(enc) if enc else None


def test_a_new_llm_server_needs_the_key_typed_again(me):
    """Changing the model's server (or the provider) must not send the saved key there (issue 14, item 6)."""
    saved = panel.save_agent(me, None, form(llm_provider="openai", llm_api_key="sk-da-loja"))
    with pytest.raises(UserError) as info:
        panel.save_agent(me, saved["id"], {**saved, "llm_base_url": "https://coletor.example/v1"})
    assert str(info.value).startswith(
        "Aba Modelo › chave de API: Você mudou o servidor do modelo (de api.openai.com para coletor.example): "
        "informe a chave de API de novo"
    )
    with pytest.raises(UserError, match="chave de API de novo"):  # gemini: another server for the same key
        panel.save_agent(me, saved["id"], {**saved, "llm_provider": "gemini"})
    assert panel.get_agent(me, saved["id"])["llm_base_url"] == "" and _stored_key(me, saved["id"]) == "sk-da-loja"

    # The same server with another path keeps the key; a new key (or removing it) allows any server.
    same = panel.save_agent(me, saved["id"], {**saved, "llm_base_url": "https://api.openai.com:443/v1/"})
    assert same["llm_api_key_set"] is True
    moved = panel.save_agent(
        me, saved["id"], {**same, "llm_base_url": "https://coletor.example/v1", "llm_api_key": "sk-para-o-coletor"}
    )
    assert moved["llm_base_url"] == "https://coletor.example/v1" and _stored_key(me, saved["id"]) == "sk-para-o-coletor"
    keyless = panel.save_agent(
        me, saved["id"], {**moved, "llm_base_url": "https://llm.interno.example/v1", "llm_api_key_clear": True}
    )
    assert keyless["llm_api_key_set"] is False


def test_an_internal_llm_server_is_refused_with_the_tab_named(me):
    for url in ("http://10.0.0.1:11434/v1", "http://169.254.169.254/", "http://[::ffff:192.168.0.9]:8080/v1"):
        with pytest.raises(UserError) as info:
            panel.save_agent(me, None, form(llm_provider="ollama", llm_base_url=url))
        assert "Aba Modelo › URL do servidor: Servidor do modelo não permitido" in str(info.value)
        assert "rede interna" in str(info.value)
    assert panel.list_agents(me) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "Aba Persona › nome do agente: dê um nome"),
        ({"mode": "turbo"}, "Aba Persona › modo: escolha uma das opções"),
        ({"persona": "x" * 4001}, "Aba Persona › persona: no máximo 4000 caracteres"),
        (
            {"qualification": [{"key": "Orçamento", "label": "Orçamento"}]},
            "Aba Qualificação › campo 1 (Orçamento): a chave",
        ),
        (
            {"qualification": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]},
            "Aba Qualificação › campo 2 (B): a chave 'a' já foi usada",
        ),
        ({"qualification": [{"key": "budget", "label": ""}]}, "Aba Qualificação › campo 1: dê um nome"),
        (
            {"intents": [{"name": "Oi", "match": "keywords", "patterns": "", "response": "Olá"}]},
            "Aba Comportamento › regra 1 (Oi): informe pelo menos",
        ),
        (
            {"intents": [{"name": "X", "match": "regex", "patterns": "(abc", "response": "a"}]},
            "expressão regular '(abc' é inválida",
        ),
        (
            {"intents": [{"name": "X", "match": "keywords", "patterns": "oi", "response": "", "action": "reply"}]},
            "escreva a resposta",
        ),
        ({"max_reply_chars": "50"}, "Aba Comportamento › tamanho máximo da resposta: deve ficar entre 100 e 4096"),
        ({"llm_temperature": "quente"}, "Aba Modelo › temperatura: informe um número"),
        ({"llm_provider": "openai"}, "Aba Modelo › chave de API"),
        ({"llm_base_url": "ftp://x"}, "Aba Modelo › URL do servidor"),
        ({"handoff_min_confidence": "1.5"}, "Aba Transferência › confiança mínima: deve ficar entre 0 e 1"),
        ({"handoff_notify_phone": "123"}, "Aba Transferência › WhatsApp para avisar o vendedor: Telefone inválido"),
        ({"handoff_message": ""}, "Aba Transferência › mensagem ao cliente"),
        ({"voice_replies": "sometimes"}, "Aba Voz › responder com áudio"),
        ({"timezone": "Marte/Olympus"}, "Aba Horário › fuso horário"),
        ({"closed_dates": "25/12"}, "Aba Horário › feriados: data inválida '25/12'"),
    ],
)
def test_validation_names_the_tab_and_the_field(me, changes, message):
    with pytest.raises(UserError) as err:
        panel.save_agent(me, None, form(**changes))
    assert message in str(err.value)
    assert panel.list_agents(me) == []  # nothing half-saved


def test_bad_business_hours_name_the_day(me):
    hours = panel.blank_form()["hours"]
    hours[2] = {**hours[2], "open": True, "start": "25:00", "end": "18:00"}
    with pytest.raises(UserError, match=r"Aba Horário › Quarta: horário inválido '25:00'"):
        panel.save_agent(me, None, form(hours=hours))


def test_delete_unbinds_channels(me):
    from runtime.channels.service import create_channel

    saved = panel.save_agent(me, None, form())
    with tenant_session(me.workspace_id) as s:
        create_channel(
            s,
            me.workspace_id,
            provider="cloud_api",
            name="Oficial",
            agent_id=uuid.UUID(saved["id"]),
            credentials={"phone_number_id": "1", "access_token": "t", "app_secret": "s", "verify_token": "v"},
        )
        s.commit()
    assert panel.list_agents(me)[0]["channels"] == 1
    assert panel.delete_agent(me, saved["id"]) == {"id": saved["id"], "name": "Sofia", "channels_unbound": 1}
    assert panel.list_agents(me) == []
    with pytest.raises(UserError, match="Agente não encontrado"):
        panel.get_agent(me, saved["id"])


def test_other_workspaces_and_sellers_cannot_touch_it(me, make_workspace):
    saved = panel.save_agent(me, None, form())
    other = make_workspace("Concorrente")
    stranger = owner(other)
    assert panel.list_agents(stranger) == []
    for call in (
        lambda: panel.get_agent(stranger, saved["id"]),
        lambda: panel.save_agent(stranger, saved["id"], form(name="Roubado")),
        lambda: panel.delete_agent(stranger, saved["id"]),
    ):
        with pytest.raises(UserError, match="Agente não encontrado"):
            call()
    assert panel.get_agent(me, saved["id"])["name"] == "Sofia"
    with pytest.raises(UserError, match="Agente não encontrado"):
        panel.get_agent(me, "não-é-um-id")

    seller = Principal(me.user_id, me.workspace_id, Role.seller)
    for fn, args in (
        (panel.list_agents, ()),
        (panel.get_agent, (saved["id"],)),
        (panel.save_agent, (saved["id"], form())),
        (panel.delete_agent, (saved["id"],)),
        (panel.register_voice, (saved["id"], "Voz", b"x", "audio/mpeg")),
    ):
        with pytest.raises(Forbidden):
            fn(seller, *args)


def test_register_voice_refuses_a_bad_sample_with_the_tab_named(me):
    saved = panel.save_agent(me, None, form())
    with pytest.raises(UserError, match=r"Aba Voz › nome da voz"):
        panel.register_voice(me, saved["id"], " ", b"abc", "audio/mpeg")
    with pytest.raises(UserError, match=r"Aba Voz › amostra: .*vazia"):
        panel.register_voice(me, saved["id"], "Voz da Ana", b"", "audio/mpeg")


# --- a saved change is used on the lead's next message -------------------------------------------


@pytest.fixture(scope="module")
def graph():
    fake = meta.FakeGraph()
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield fake


@pytest.fixture(scope="module")
def api_url(pg):
    from runtime.api import create_app

    with serve_in_thread(create_app()) as url:
        yield url


def test_changes_take_effect_on_the_next_turn(me, graph, api_url, worker):
    import httpx

    from runtime.channels.service import channel_webhook_url, create_channel

    rule = {"name": "Promoção", "match": "keywords", "patterns": "promoção", "response": "Promo A", "action": "reply"}
    saved = panel.save_agent(me, None, form(intents=[rule]))
    with tenant_session(me.workspace_id) as s:
        channel = create_channel(
            s,
            me.workspace_id,
            provider="cloud_api",
            name="Oficial",
            api_base_url=graph.base_url,
            agent_id=uuid.UUID(saved["id"]),
            credentials={
                "phone_number_id": graph.phone_number_id,
                "access_token": graph.access_token,
                "app_secret": APP_SECRET,
                "verify_token": "v",
            },
            settings={"debounce_seconds": 0.2},
        )
        s.commit()
        hook = channel_webhook_url(channel).removeprefix("http://testserver")
    phone = f"55119{uuid.uuid4().int % 10**8:08d}"

    def say(words: str) -> None:
        body, headers = meta.signed(meta.text_message(words, from_phone=phone, name="Ana"), APP_SECRET)
        assert httpx.post(api_url + hook, content=body, headers=headers, timeout=30).status_code == 200

    def sent() -> list[str]:
        return [m.get("text", {}).get("body") for m in graph.messages if m.get("to") == phone]

    def outcomes() -> list[str]:
        with tenant_session(me.workspace_id) as s:
            return list(s.execute(text("SELECT outcome FROM conversation_turn ORDER BY created_at")).scalars())

    say("tem promoção?")
    wait_until(lambda: sent() == ["Promo A"], timeout=20)

    # The owner edits the rule's answer in the panel: the very next message gets the new one.
    panel.save_agent(me, saved["id"], {**saved, "intents": [{**rule, "response": "Promo B"}]})
    say("e a promoção?")
    wait_until(lambda: sent() == ["Promo A", "Promo B"], timeout=20)

    # Turned off in the panel: the next message is stored but not answered.
    panel.save_agent(me, saved["id"], {**panel.get_agent(me, saved["id"]), "mode": "off"})
    say("promoção de novo?")
    wait_until(lambda: len(outcomes()) == 3 and outcomes()[-1] != "pending", timeout=20)
    assert outcomes()[-1].startswith("skipped") and sent() == ["Promo A", "Promo B"]
