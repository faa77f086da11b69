"""Canais: connecting each provider from the panel's form, pt-BR validation, secrets never shown,
a test message reaching the provider's fake, tenant isolation and the audit trail."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from db.models import AuditLog, Channel, Role
from db.tenancy import tenant_session
from runtime.access import Forbidden, Principal, UserError
from runtime.agent.service import create_agent
from runtime.channels.registry import decrypt_credentials
from runtime.panel import channels as panel
from tests.fakes import cloud_api as meta
from tests.fakes import evolution as evo
from tests.fakes import twilio as tw
from tests.fakes import zapi
from tests.fakes.servers import serve_in_thread

LEAD = "+55 (11) 98888-7766"
LEAD_E164 = "+5511988887766"


def owner(ws) -> Principal:
    return Principal(ws.user_id, ws.workspace_id, Role.owner)


@pytest.fixture
def me(workspace) -> Principal:
    return owner(workspace[0])


@pytest.fixture(scope="module")
def fakes():
    """One running fake per provider, and the form each needs to be connected to it."""
    graph, evolution, z, twilio = meta.FakeGraph(), evo.FakeEvolution(), zapi.FakeZapi(), tw.FakeTwilio()
    with (
        serve_in_thread(graph.app()) as graph_url,
        serve_in_thread(evolution.app()) as evo_url,
        z.running(),
        serve_in_thread(twilio.app()) as twilio_url,
    ):
        graph.base_url, evolution.base_url, twilio.base_url = graph_url, evo_url, twilio_url
        yield {
            "cloud_api": (
                graph,
                {
                    "api_base_url": graph_url,
                    "phone_number_id": graph.phone_number_id,
                    "access_token": graph.access_token,
                    "app_secret": "segredo-do-app-meta",
                    "verify_token": "",
                },
            ),
            "evolution": (
                evolution,
                {"api_base_url": evo_url, "instance": evolution.instance, "api_key": evolution.api_key},
            ),
            "zapi": (
                z,
                {
                    "api_base_url": z.base_url,
                    "instance_id": z.instance_id,
                    "token": z.token,
                    "client_token": z.client_token,
                },
            ),
            "twilio": (
                twilio,
                {
                    "api_base_url": twilio_url,
                    "account_sid": twilio.account_sid,
                    "auth_token": twilio.auth_token,
                    "from_number": "+55 11 95555-0000",
                },
            ),
        }


def received(provider: str, fake, phone: str) -> list[str]:
    """Texts the provider's fake accepted for `phone` (E.164)."""
    digits = phone.lstrip("+")
    if provider == "cloud_api":
        return [m["text"]["body"] for m in fake.messages if m.get("to") == digits]
    if provider == "evolution":
        return [m.text for m in fake.sent if m.number == digits]
    if provider == "zapi":
        return [r.json["message"] for r in fake.sent if r.json.get("phone") == digits]
    return [m.form["Body"] for m in fake.sent if m.form.get("To") == f"whatsapp:{phone}"]


SECRETS = {
    "cloud_api": ["access_token", "app_secret"],
    "evolution": ["api_key"],
    "zapi": ["token", "client_token"],
    "twilio": ["auth_token"],
}


@pytest.mark.parametrize("provider", ["cloud_api", "evolution", "zapi", "twilio"])
def test_each_provider_connects_lists_without_secrets_and_sends_a_test_message(me, fakes, provider):
    fake, form = fakes[provider]
    view = panel.connect_channel(me, provider, {"name": f"Loja {provider}", **form})

    assert view["provider"] == provider and view["name"] == f"Loja {provider}"
    assert view["status"] == "Aguardando o primeiro evento" and view["last_event_ago"] == "nunca"
    assert view["webhook_url"].startswith(f"http://testserver/webhooks/{provider.replace('_', '-')}/{view['id']}")
    # What the page gets never holds a secret value: only "configurado".
    page = panel.list_channels(me)
    assert [c["id"] for c in page] == [view["id"]]
    dumped = json.dumps(page)
    for key in SECRETS[provider]:
        assert form[key] not in dumped
        assert {"key": key, "label": panel.CREDENTIAL_LABELS[key][0], "value": "configurado"} in page[0]["credentials"]

    with tenant_session(me.workspace_id) as s:
        stored = s.get(Channel, uuid.UUID(view["id"]))
        creds = decrypt_credentials(stored.credentials_encrypted)
        assert form[SECRETS[provider][0]] not in stored.credentials_encrypted  # encrypted at rest
    if provider == "cloud_api":  # left blank: generated, and shown to be pasted into Meta
        assert len(creds["verify_token"]) >= 16 and view["verify_token"] == creds["verify_token"]
        # printed masked (the last 4 characters to recognise it), copied whole
        assert view["verify_token_shown"] == panel.MASK + creds["verify_token"][-4:]
    else:
        assert view["verify_token"] == view["verify_token_shown"] == ""
    if provider in ("evolution", "zapi"):  # the gateway's secret travels in the URL to copy
        assert view["webhook_url"].endswith(f"?secret={creds['webhook_secret']}")
        assert view["webhook_url_shown"] == view["webhook_url"].split("?")[0] + f"?secret={panel.MASK}"
    else:
        assert view["webhook_url_shown"] == view["webhook_url"]
    if provider == "twilio":
        assert view["phone"] == "+5511955550000"

    result = panel.send_test_message(me, view["id"], LEAD, "Olá, teste do painel")
    assert result["ok"] is True and result["to"] == "+55•••••••7766"
    assert received(provider, fake, LEAD_E164)[-1] == "Olá, teste do painel"

    with tenant_session(me.workspace_id) as s:
        entries = s.exec(select(AuditLog).where(AuditLog.target_id == view["id"]).order_by(AuditLog.created_at)).all()
    assert [e.action for e in entries] == ["channel.create", "channel.test_message"]
    assert entries[-1].actor_user_id == me.user_id
    assert entries[-1].data["to"] == "+55•••••••7766" and entries[-1].data["ok"] is True
    assert "88887766" not in json.dumps([e.data for e in entries])


def test_a_refused_test_message_is_a_pt_br_error_and_the_channels_last_error(me, fakes):
    fake, form = fakes["zapi"]
    view = panel.connect_channel(me, "zapi", {"name": "Z", **form, "token": "token-errado"})
    with pytest.raises(UserError, match="O provedor não aceitou a mensagem"):
        panel.send_test_message(me, view["id"], LEAD, "")
    row = panel.list_channels(me)[0]
    assert row["status"] == "Com erro" and row["last_error"].startswith("mensagem de teste falhou")
    with tenant_session(me.workspace_id) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.action == "channel.test_message")).one()
    assert entry.data["ok"] is False

    # The right token fixes it: a successful send clears the error, as the runtime's sends do.
    panel.update_channel(me, view["id"], {"token": fake.token})
    panel.send_test_message(me, view["id"], LEAD, "")
    assert received("zapi", fake, LEAD_E164)[-1] == panel.TEST_TEXT
    assert panel.list_channels(me)[0]["last_error"] == ""


@pytest.mark.parametrize(
    ("provider", "data", "message"),
    [
        ("whatsapp", {"name": "X"}, "Escolha um provedor"),
        ("cloud_api", {"name": "", "phone_number_id": "1", "access_token": "a", "app_secret": "b"}, "Dê um nome"),
        ("cloud_api", {"name": "Oficial", "phone_number_id": "1"}, "Preencha: Token de acesso, Chave secreta do app"),
        ("zapi", {"name": "Z", "instance_id": "i", "token": "t"}, "Preencha: Token de segurança da conta"),
        ("evolution", {"name": "E", "instance": "i", "api_key": "k"}, "servidor Evolution"),
        ("evolution", {"name": "E", "instance": "i", "api_key": "k", "api_base_url": "ftp://x"}, "http:// ou https://"),
        ("twilio", {"name": "T", "account_sid": "AC1", "auth_token": "t", "from_number": "12"}, "Telefone inválido"),
        ("zapi", {"name": "Z", "instance_id": "i", "token": "t", "client_token": "c", "phone_number": "x"}, "Telefone"),
    ],
)
def test_validation_errors_are_pt_br_and_store_nothing(me, provider, data, message):
    with pytest.raises(UserError, match=message):
        panel.connect_channel(me, provider, data)
    assert panel.list_channels(me) == []


def test_update_keeps_blank_secrets_disable_enable_and_delete(me, fakes):
    _, form = fakes["evolution"]
    view = panel.connect_channel(me, "evolution", {"name": "Loja", **form, "phone_number": "11 3333-4444 "})
    assert view["phone"] == "+1133334444"
    with tenant_session(me.workspace_id) as s:
        agent = create_agent(s, me.workspace_id, name="Vendedor")
        s.commit()
        agent_id = str(agent.id)

    updated = panel.update_channel(me, view["id"], {"name": "Loja Centro", "api_key": "", "agent_id": agent_id})
    assert updated["name"] == "Loja Centro" and updated["agent_name"] == "Vendedor"
    with tenant_session(me.workspace_id) as s:
        assert (
            decrypt_credentials(s.get(Channel, uuid.UUID(view["id"])).credentials_encrypted)["api_key"]
            == form["api_key"]
        )
    assert panel.update_channel(me, view["id"], {"agent_id": ""})["agent_id"] == ""
    with pytest.raises(UserError, match="Agente não encontrado"):
        panel.update_channel(me, view["id"], {"agent_id": str(uuid.uuid4())})

    off = panel.set_channel_active(me, view["id"], False)
    assert off["is_active"] is False and off["status"] == "Desativado"
    with pytest.raises(UserError, match="desativado"):
        panel.send_test_message(me, view["id"], LEAD, "oi")
    assert panel.set_channel_active(me, view["id"], True)["is_active"] is True

    panel.delete_channel(me, view["id"])
    assert panel.list_channels(me) == []
    with tenant_session(me.workspace_id) as s:
        actions = [e.action for e in s.exec(select(AuditLog).order_by(AuditLog.created_at)).all()]
    assert actions[0] == "channel.create" and actions[-1] == "channel.delete"


def test_a_new_api_address_needs_the_secrets_typed_again(me, fakes):
    """Editing only the API address must not hand the saved token to another server (issue 14, item 6):
    the edit is refused in pt-BR, naming what to type, and the next send still goes to the old server."""
    fake, form = fakes["zapi"]
    harvested: list[dict] = []

    async def collect(request: Request) -> JSONResponse:
        harvested.append({"path": request.url.path, **dict(request.headers)})
        return JSONResponse({"zaapId": "1", "messageId": "2", "id": "2"})

    view = panel.connect_channel(me, "zapi", {"name": "Z", **form})
    app = Starlette(routes=[Route("/{path:path}", collect, methods=["GET", "POST"])])
    with serve_in_thread(app) as collector:
        edit = {"name": "Z", "api_base_url": collector, "instance_id": "", "token": "", "client_token": ""}
        with pytest.raises(UserError) as info:
            panel.update_channel(me, view["id"], edit)
        assert str(info.value) == (
            "Você mudou o endereço da API: digite de novo Token da instância, Token de segurança da conta. "
            "Por segurança, as credenciais salvas nunca são enviadas a outro servidor."
        )
        assert panel.list_channels(me)[0]["api_base_url"] == fake.base_url
        panel.send_test_message(me, view["id"], LEAD, "")
        assert harvested == [] and received("zapi", fake, LEAD_E164)[-1] == panel.TEST_TEXT

        # Typed again in the same edit: the owner chose that server for them.
        moved = panel.update_channel(me, view["id"], {**edit, "token": "t-novo", "client_token": "c-novo"})
        assert moved["api_base_url"] == collector
        panel.send_test_message(me, view["id"], LEAD, "")
        assert harvested and harvested[-1]["client-token"] == "c-novo" and "t-novo" in harvested[-1]["path"]


def test_an_internal_api_address_is_refused_in_pt_br(me, fakes):
    _, form = fakes["zapi"]
    with pytest.raises(UserError, match="aponta para uma rede interna ou local"):
        panel.connect_channel(me, "zapi", {"name": "Z", **form, "api_base_url": "http://169.254.169.254"})
    assert panel.list_channels(me) == []


def test_another_workspace_cannot_see_or_touch_the_channel(me, fakes, make_workspace):
    fake, form = fakes["evolution"]
    view = panel.connect_channel(me, "evolution", {"name": "Minha", **form})
    other = owner(make_workspace("Concorrente"))
    assert panel.list_channels(other) == []
    before = len(fake.sent)
    for call in (
        lambda: panel.send_test_message(other, view["id"], LEAD, "invasão"),
        lambda: panel.update_channel(other, view["id"], {"name": "Roubado"}),
        lambda: panel.set_channel_active(other, view["id"], False),
        lambda: panel.delete_channel(other, view["id"]),
    ):
        with pytest.raises(UserError, match="Canal não encontrado"):
            call()
    assert len(fake.sent) == before
    assert panel.list_channels(me)[0]["name"] == "Minha" and panel.list_channels(me)[0]["is_active"]


def test_sellers_are_refused(workspace):
    ws = workspace[0]
    seller = Principal(ws.user_id, ws.workspace_id, Role.seller)
    for fn, args in (
        (panel.list_channels, ()),
        (panel.agent_choices, ()),
        (panel.connect_channel, ("zapi", {"name": "x"})),
        (panel.send_test_message, (str(uuid.uuid4()), LEAD, "oi")),
    ):
        with pytest.raises(Forbidden):
            fn(seller, *args)


def test_provider_forms_follow_the_adapters():
    forms = {f["provider"]: f for f in panel.PROVIDER_FORMS}
    assert list(forms) == ["cloud_api", "evolution", "zapi", "twilio"]
    assert [f["key"] for f in forms["cloud_api"]["fields"]] == [
        "phone_number_id",
        "access_token",
        "app_secret",
        "verify_token",
    ]
    assert not next(f for f in forms["cloud_api"]["fields"] if f["key"] == "verify_token")["required"]
    assert all(f["key"] != "webhook_secret" for form in forms.values() for f in form["fields"])
    assert forms["evolution"]["api_base_url_required"] and not forms["twilio"]["asks_phone"]


def test_mask_and_ago():
    assert panel.mask_phone("+5511988887766") == "+55•••••••7766"
    assert panel.mask_phone("") == ""
    assert panel.ago(None) == "nunca"


def test_gateway_channels_offer_the_secret_as_a_header_and_the_page_says_how(me):
    """Evolution v2 can send the webhook secret in a header (out of request logs); the page shows
    the address without it and the header to configure, and tells the owner so in pt-BR."""
    view = panel.connect_channel(
        me,
        "evolution",
        {"name": "Evo", "api_base_url": "https://evo.example", "instance": "loja", "api_key": "k-123"},
    )
    secret = view["webhook_url"].split("?secret=")[1]
    assert view["webhook_base_url"] == view["webhook_url"].split("?")[0]
    assert "secret" not in view["webhook_base_url"]
    assert (view["webhook_header_name"], view["webhook_header_value"]) == ("X-Webhook-Secret", secret)
    assert "X-Webhook-Secret" in panel.SETUP_HINTS["evolution"] and "logs" in panel.SETUP_HINTS["evolution"]
    assert "X-Webhook-Secret" in panel.SETUP_HINTS["zapi"]

    cloud = panel.connect_channel(
        me,
        "cloud_api",
        {"name": "Oficial", "phone_number_id": "123", "access_token": "EAAG-x", "app_secret": "s"},
    )
    assert (cloud["webhook_header_name"], cloud["webhook_header_value"]) == ("", "")
    assert "override" in panel.SETUP_HINTS["cloud_api"]
