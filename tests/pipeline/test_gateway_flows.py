"""Evolution, Z-API and Twilio through the whole pipeline: a channel created over REST, the
provider's own webhook bodies posted at our service, the reply received by the provider's fake."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from db.tenancy import tenant_session
from tests.fakes import evolution as evo
from tests.fakes import twilio as tw
from tests.fakes import zapi
from tests.fakes.servers import serve_in_thread

from .conftest import wait_until, webhook_path

REPLY = "Oi! Já te respondo por aqui."


@dataclass
class Gateway:
    """How to drive one provider in these tests."""

    provider: str
    fake: Any
    credentials: dict[str, str]

    def lead(self) -> str:
        return f"+55119{uuid.uuid4().int % 10**8:08d}"

    def inbound(self, phone: str, words: str) -> dict:
        if self.provider == "evolution":
            return evo.text_event(words, phone=phone, name="Bia")
        if self.provider == "zapi":
            return zapi.text_callback(words, phone=phone.lstrip("+"), name="Bia")
        return tw.inbound_text(words, from_phone=phone, profile_name="Bia")

    def not_from_a_lead(self, phone: str) -> dict:
        """Traffic that must never become a lead message: our own echoes (gateways echo what the
        business sends); Twilio echoes nothing, but an SMS to the same number is not WhatsApp."""
        if self.provider == "evolution":
            return evo.from_me_echo("eco", phone=phone)
        if self.provider == "zapi":
            return zapi.from_me_echo("eco", phone=phone.lstrip("+"))
        sms = tw.inbound_text("oi por SMS", from_phone=phone)
        return {**sms, "From": phone, "To": tw.DEFAULT_BUSINESS}

    def status(self, phone: str, provider_id: str) -> dict:
        if self.provider == "evolution":
            return evo.status_event(provider_id, "READ", phone=phone)
        if self.provider == "zapi":
            return zapi.status_callback([provider_id], "READ", phone=phone.lstrip("+"))
        return tw.status_callback(provider_id, "read", from_phone=tw.DEFAULT_BUSINESS, to_phone=phone)

    def post(self, client: httpx.Client, webhook_url: str, payload: dict, *, forge: bool = False) -> httpx.Response:
        path = webhook_path(webhook_url)
        if self.provider == "twilio":
            token = "forjado" if forge else self.credentials["auth_token"]
            body, headers = tw.signed_post(webhook_url, payload, token)
            return client.post(path, content=body, headers=headers)
        secret = path.split("secret=")[1]
        base = path.split("?")[0]
        module = evo if self.provider == "evolution" else zapi
        poster = module.post_args if self.provider == "evolution" else module.webhook_post
        body, headers, query = poster(payload, "forjado" if forge else secret)
        return client.post(base, content=body, headers=headers, params=query)

    def replies(self, phone: str) -> list[str]:
        if self.provider == "evolution":
            return [m.text for m in self.fake.sent if m.number == phone.lstrip("+")]
        if self.provider == "zapi":
            return [r.json["message"] for r in self.fake.sent if r.json.get("phone") == phone.lstrip("+")]
        return [m.form["Body"] for m in self.fake.sent if m.form.get("To") == f"whatsapp:{phone}"]


@pytest.fixture(scope="module", params=["evolution", "zapi", "twilio"])
def gateway(request) -> Gateway:
    provider = request.param
    if provider == "evolution":
        fake = evo.FakeEvolution()
        creds = {"instance": evo.DEFAULT_INSTANCE, "api_key": evo.DEFAULT_API_KEY}
    elif provider == "zapi":
        fake = zapi.FakeZapi()
        creds = {"instance_id": fake.instance_id, "token": fake.token, "client_token": fake.client_token}
    else:
        fake = tw.FakeTwilio()
        creds = {"account_sid": fake.account_sid, "auth_token": fake.auth_token, "from_number": tw.DEFAULT_BUSINESS}
    with serve_in_thread(fake.app()) as url:
        fake.base_url = url
        yield Gateway(provider, fake, creds)


@pytest.fixture
def channel(api, gateway):
    r = api.post(
        "/api/v1/channels",
        json={
            "provider": gateway.provider,
            "name": gateway.provider,
            "api_base_url": gateway.fake.base_url,
            "credentials": gateway.credentials,
            "settings": {"debounce_seconds": 0.2, "auto_reply_text": REPLY},
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def _count(api, sql: str, **params) -> int:
    with tenant_session(api.workspace_id) as s:
        return s.execute(text(sql), params).scalar()


def test_lead_message_is_answered_through_the_provider(api, gateway, channel, worker):
    phone = gateway.lead()
    r = gateway.post(api, channel["webhook_url"], gateway.inbound(phone, "Oi, tem horário amanhã?"))
    assert r.status_code == 200, r.text
    wait_until(lambda: gateway.replies(phone))
    assert gateway.replies(phone) == [REPLY]

    def provider_id():
        with tenant_session(api.workspace_id) as s:
            return s.execute(
                text(
                    "SELECT provider_message_id FROM message WHERE channel_id = :c AND direction = 'outbound' "
                    "AND status = 'sent'"
                ),
                {"c": channel["id"]},
            ).scalar()

    pid = wait_until(provider_id)
    assert gateway.post(api, channel["webhook_url"], gateway.status(phone, pid)).status_code == 200
    assert _count(api, "SELECT count(*) FROM message WHERE provider_message_id = :p AND status = 'read'", p=pid) == 1


def test_redelivery_is_stored_once(api, gateway, channel):
    phone = gateway.lead()
    payload = gateway.inbound(phone, "Quero comprar")
    for _ in range(3):
        assert gateway.post(api, channel["webhook_url"], payload).status_code == 200
    assert _count(api, "SELECT count(*) FROM message WHERE channel_id = :c", c=channel["id"]) == 1


def test_echoes_and_non_whatsapp_traffic_are_ignored(api, gateway, channel):
    assert gateway.post(api, channel["webhook_url"], gateway.not_from_a_lead(gateway.lead())).status_code == 200
    assert _count(api, "SELECT count(*) FROM message WHERE channel_id = :c", c=channel["id"]) == 0


def test_forged_credentials_are_refused_and_nothing_is_stored(api, gateway, channel):
    r = gateway.post(api, channel["webhook_url"], gateway.inbound(gateway.lead(), "oi"), forge=True)
    assert r.status_code == 403
    assert _count(api, "SELECT count(*) FROM webhook_event WHERE channel_id = :c", c=channel["id"]) == 0


@pytest.mark.parametrize("ignore_groups", [True, False])
def test_group_chats_are_ignored_unless_the_channel_allows_them(api, ignore_groups):
    r = api.post(
        "/api/v1/channels",
        json={
            "provider": "evolution",
            "name": "grupos",
            "api_base_url": "http://127.0.0.1:9",
            "credentials": {"instance": evo.DEFAULT_INSTANCE, "api_key": evo.DEFAULT_API_KEY},
            "settings": {"ignore_groups": ignore_groups},
        },
    )
    channel = r.json()
    gw = Gateway("evolution", None, {})
    response = gw.post(api, channel["webhook_url"], evo.group_event("bom dia, grupo"))
    assert response.status_code == 200
    stored = _count(api, "SELECT count(*) FROM message WHERE channel_id = :c", c=channel["id"])
    assert stored == (0 if ignore_groups else 1)


@pytest.mark.parametrize("provider", ["evolution", "zapi"])
def test_the_webhook_secret_may_travel_in_a_header_instead_of_the_url(api, provider):
    """X-Webhook-Secret keeps the secret out of request logs (Evolution v2 sends custom webhook
    headers; a proxy may add it in front of Z-API); ?secret= keeps working."""
    module = evo if provider == "evolution" else zapi
    creds = CREDENTIALS_FOR_HEADER_TEST[provider]
    r = api.post(
        "/api/v1/channels",
        json={"provider": provider, "name": provider, "api_base_url": "http://127.0.0.1:9", "credentials": creds},
    )
    channel = r.json()
    path = webhook_path(channel["webhook_url"])
    base, secret = path.split("?secret=")
    phone = Gateway(provider, None, {}).lead()
    inbound = Gateway(provider, None, {}).inbound(phone, "Oi, pelo cabeçalho")
    poster = module.post_args if provider == "evolution" else module.webhook_post

    body, headers, query = poster(inbound, secret, via="header")
    assert query == {} and "secret" not in base
    assert api.post(base, content=body, headers=headers).status_code == 200
    body, headers, _ = poster(inbound, "errado", via="header")
    assert api.post(base, content=body, headers=headers).status_code == 403
    body, headers, query = poster(Gateway(provider, None, {}).inbound(phone, "Oi, pela URL"), secret)
    assert api.post(base, content=body, headers=headers, params=query).status_code == 200
    assert _count(api, "SELECT count(*) FROM message WHERE channel_id = :c", c=channel["id"]) == 2


CREDENTIALS_FOR_HEADER_TEST = {
    "evolution": {"instance": evo.DEFAULT_INSTANCE, "api_key": evo.DEFAULT_API_KEY},
    "zapi": {"instance_id": zapi.DEFAULT_INSTANCE_ID, "token": "tok", "client_token": "ct"},
}
