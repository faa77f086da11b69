"""Cloud API adapter against FakeGraph on loopback: webhook auth, parsing, media, sends, errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from db.models import Provider
from runtime.channels import cloud_api
from runtime.channels.base import (
    ChannelConfig,
    DeliveryStatus,
    Media,
    MediaError,
    MessageKind,
    OutboundMedia,
    OutboundMessage,
    ParsedEvent,
    SendError,
    SendFailure,
    Template,
    WebhookRejected,
    WebhookRequest,
)
from runtime.channels.cloud_api import CloudApiAdapter
from tests.fakes import cloud_api as fake
from tests.fakes.cloud_api import FakeGraph, signed
from tests.fakes.servers import serve_in_thread

APP_SECRET = "s3cr3t-app-secret"
VERIFY_TOKEN = "verifica-isso-123"
CUSTOMER = "+5511999998888"


def config(base_url: str = "https://graph.example.invalid", **overrides: str) -> ChannelConfig:
    credentials = {
        "phone_number_id": fake.DEFAULT_PHONE_NUMBER_ID,
        "access_token": fake.DEFAULT_ACCESS_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        **overrides,
    }
    return ChannelConfig(
        channel_id="ch-1",
        provider=Provider.cloud_api,
        api_base_url=base_url,
        credentials=credentials,
        webhook_url="https://app.example/webhooks/cloud-api/ch-1",
    )


def post(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    return WebhookRequest(
        method="POST", url="https://app.example/webhooks/cloud-api/ch-1", headers=headers or {}, query={}, body=body
    )


def get(query: dict[str, str]) -> WebhookRequest:
    return WebhookRequest(
        method="GET", url="https://app.example/webhooks/cloud-api/ch-1", headers={}, query=query, body=b""
    )


@pytest.fixture(scope="module")
def adapter() -> Iterator[CloudApiAdapter]:
    """For the synchronous side (handshake/verify/parse): no request is made."""
    http = httpx.AsyncClient()
    yield CloudApiAdapter(config(), http)
    asyncio.run(http.aclose())


def parse(adapter: CloudApiAdapter, payload: dict[str, Any]) -> ParsedEvent:
    body, headers = signed(payload, APP_SECRET)
    request = post(body, headers)
    adapter.verify(request)
    return adapter.parse(request)


def one(adapter: CloudApiAdapter, payload: dict[str, Any]):
    event = parse(adapter, payload)
    assert len(event.messages) == 1, event
    return event.messages[0]


# -- server plumbing -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FakeGraph, str]]:
    graph = FakeGraph()
    with serve_in_thread(graph.app()) as base_url:
        yield graph, base_url


@pytest.fixture
def graph(server) -> FakeGraph:
    server[0].reset()
    return server[0]


@pytest.fixture
def base_url(server) -> str:
    return server[1]


def call(base_url: str, fn: Callable[[CloudApiAdapter], Awaitable[Any]], timeout: float = 5.0, **creds: str) -> Any:
    async def main() -> Any:
        async with httpx.AsyncClient(timeout=timeout) as http:
            return await fn(CloudApiAdapter(config(base_url, **creds), http))

    return asyncio.run(main())


def send(base_url: str, message: OutboundMessage, **kwargs: Any):
    return call(base_url, lambda a: a.send(message), **kwargs)


# -- protocol surface ------------------------------------------------------------------------------


def test_adapter_declares_the_protocol_attributes():
    assert CloudApiAdapter.provider == Provider.cloud_api
    assert CloudApiAdapter.default_api_base_url == "https://graph.facebook.com"
    assert CloudApiAdapter.credential_fields == ("phone_number_id", "access_token", "app_secret", "verify_token")
    assert CloudApiAdapter.has_service_window is True
    assert cloud_api.GRAPH_VERSION == fake.GRAPH_VERSION


# -- handshake -------------------------------------------------------------------------------------


def test_handshake_returns_the_challenge(adapter):
    assert adapter.handshake(get(fake.handshake_query(VERIFY_TOKEN, challenge="987654"))) == "987654"


@pytest.mark.parametrize(
    "query",
    [
        fake.handshake_query("wrong-token"),
        fake.handshake_query(VERIFY_TOKEN, mode="unsubscribe"),
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
    ids=["wrong-token", "wrong-mode", "no-token", "nothing"],
)
def test_handshake_refuses(adapter, query):
    with pytest.raises(WebhookRejected) as exc:
        adapter.handshake(get(query))
    assert exc.value.status_code == 403


def test_handshake_refuses_everything_when_the_channel_has_no_verify_token():
    http = httpx.AsyncClient()
    a = CloudApiAdapter(config(verify_token=""), http)
    with pytest.raises(WebhookRejected) as exc:
        a.handshake(get(fake.handshake_query("")))
    asyncio.run(http.aclose())
    assert exc.value.status_code == 403


# -- signature -------------------------------------------------------------------------------------


def test_signature_valid(adapter):
    body, headers = signed(fake.text_message("oi"), APP_SECRET)
    adapter.verify(post(body, headers))


def test_signature_missing_is_401(adapter):
    body, headers = signed(fake.text_message("oi"), APP_SECRET)
    del headers["x-hub-signature-256"]
    with pytest.raises(WebhookRejected) as exc:
        adapter.verify(post(body, headers))
    assert exc.value.status_code == 401


def _rejected(adapter: CloudApiAdapter, body: bytes, signature: str) -> int:
    with pytest.raises(WebhookRejected) as exc:
        adapter.verify(post(body, {"x-hub-signature-256": signature}))
    return exc.value.status_code


def test_signature_forged_is_403(adapter):
    body, _ = signed(fake.text_message("oi"), APP_SECRET)
    assert _rejected(adapter, body, "sha256=" + "ab" * 32) == 403


def test_body_altered_by_one_byte_is_403(adapter):
    body, headers = signed(fake.text_message("quero 2 unidades"), APP_SECRET)
    altered = body.replace(b"2", b"9", 1)
    assert len(altered) == len(body) and altered != body
    assert _rejected(adapter, altered, headers["x-hub-signature-256"]) == 403


def test_signature_of_another_secret_is_403(adapter):
    body, headers = signed(fake.text_message("oi"), "another-apps-secret")
    assert _rejected(adapter, body, headers["x-hub-signature-256"]) == 403


@pytest.mark.parametrize("signature", ["sha1=" + "0" * 40, "deadbeef", "sha256=", "sha256=zz" + "0" * 62, "sha256=ç"])
def test_malformed_signature_is_403(adapter, signature):
    body, _ = signed(fake.text_message("oi"), APP_SECRET)
    assert _rejected(adapter, body, signature) == 403


def test_signature_covers_raw_bytes_not_reserialized_json(adapter):
    payload = fake.text_message("Olá, tudo bem? 😊")
    raw = json.dumps(payload, indent=2, ensure_ascii=False).encode()  # any byte layout Meta might use
    _, headers = signed(raw, APP_SECRET)
    adapter.verify(post(raw, headers))
    assert adapter.parse(post(raw, headers)).messages[0].text == "Olá, tudo bem? 😊"


# -- parse -----------------------------------------------------------------------------------------


def test_parse_text(adapter):
    msg = one(adapter, fake.text_message("Tem pronta entrega?", message_id="wamid.A1", timestamp=1749416383))
    assert msg.kind == MessageKind.text
    assert msg.text == "Tem pronta entrega?"
    assert msg.provider_message_id == "wamid.A1"
    assert msg.from_phone == CUSTOMER
    assert msg.from_name == fake.DEFAULT_CUSTOMER_NAME
    assert msg.timestamp == datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC)
    assert msg.context_id is None and msg.media is None and not msg.is_group


def test_parse_reply_context(adapter):
    msg = one(adapter, fake.text_message("esse aqui", context_id="wamid.OURS"))
    assert msg.context_id == "wamid.OURS"


def test_parse_image_with_caption(adapter):
    msg = one(adapter, fake.media_message("image", "111", "image/jpeg", caption="Essa cor tem?", sha256="abc"))
    assert msg.kind == MessageKind.image
    assert msg.text == "Essa cor tem?"
    assert msg.media is not None
    assert (msg.media.id, msg.media.mime_type, msg.media.voice) == ("111", "image/jpeg", False)
    assert msg.media.extra["sha256"] == "abc"


@pytest.mark.parametrize("voice", [True, False])
def test_parse_audio_voice_flag(adapter, voice):
    msg = one(adapter, fake.media_message("audio", "222", "audio/ogg; codecs=opus", voice=voice))
    assert msg.kind == MessageKind.audio
    assert msg.media is not None and msg.media.voice is voice
    assert msg.media.mime_type == "audio/ogg; codecs=opus"
    assert msg.text == ""


def test_parse_video(adapter):
    msg = one(adapter, fake.media_message("video", "333", "video/mp4", caption="olha"))
    assert msg.kind == MessageKind.video and msg.text == "olha" and msg.media.id == "333"


def test_parse_document(adapter):
    payload = fake.media_message("document", "444", "application/pdf", caption="meu pedido", filename="pedido.pdf")
    msg = one(adapter, payload)
    assert msg.kind == MessageKind.document
    assert msg.text == "meu pedido"
    assert (msg.media.id, msg.media.filename, msg.media.mime_type) == ("444", "pedido.pdf", "application/pdf")


def test_parse_sticker(adapter):
    msg = one(adapter, fake.media_message("sticker", "555", "image/webp"))
    assert msg.kind == MessageKind.sticker and msg.media.id == "555" and msg.text == ""


def test_parse_location(adapter):
    msg = one(adapter, fake.location_message(-23.5614, -46.6559, name="MASP", address="Av. Paulista, 1578"))
    assert msg.kind == MessageKind.location
    assert msg.location is not None
    assert (msg.location.latitude, msg.location.longitude) == (-23.5614, -46.6559)
    assert (msg.location.name, msg.location.address) == ("MASP", "Av. Paulista, 1578")


def test_parse_bare_location(adapter):
    msg = one(adapter, fake.location_message(1.5, 2.5))
    assert msg.location is not None and msg.location.name is None and msg.location.address is None


def test_parse_button_reply(adapter):
    msg = one(adapter, fake.button_reply("confirmar", "Sim, confirmo", context_id="wamid.BUTTONS"))
    assert msg.kind == MessageKind.interactive
    assert (msg.text, msg.reply_id, msg.context_id) == ("Sim, confirmo", "confirmar", "wamid.BUTTONS")


def test_parse_list_reply(adapter):
    msg = one(adapter, fake.list_reply("sku-42", "Camiseta M", description="Azul"))
    assert msg.kind == MessageKind.interactive
    assert (msg.text, msg.reply_id) == ("Camiseta M", "sku-42")


def test_parse_template_quick_reply_button(adapter):
    msg = one(adapter, fake.template_button("Quero saber mais", "PROMO_SIM"))
    assert msg.kind == MessageKind.interactive
    assert (msg.text, msg.reply_id) == ("Quero saber mais", "PROMO_SIM")


def test_parse_reaction(adapter):
    msg = one(adapter, fake.reaction("wamid.OURS", "👍"))
    assert msg.kind == MessageKind.reaction
    assert (msg.text, msg.reaction_to) == ("👍", "wamid.OURS")


def test_parse_reaction_removed(adapter):
    msg = one(adapter, fake.reaction("wamid.OURS", ""))
    assert msg.kind == MessageKind.reaction
    assert (msg.text, msg.reaction_to) == ("", "wamid.OURS")


@pytest.mark.parametrize("mtype", ["unsupported", "unknown", "contacts", "order", "some_future_type"])
def test_parse_unsupported_types(adapter, mtype):
    msg = one(adapter, fake.unsupported_message(mtype, message_id="wamid.U"))
    assert msg.kind == MessageKind.unsupported
    assert msg.provider_message_id == "wamid.U" and msg.from_phone == CUSTOMER


def test_parse_interactive_of_unknown_subtype_is_unsupported(adapter):
    payload = fake.button_reply("x", "y")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"] = {
        "type": "nfm_reply",
        "nfm_reply": {"response_json": "{}", "body": "Sent", "name": "flow"},
    }
    assert one(adapter, payload).kind == MessageKind.unsupported


def test_parse_media_without_content_is_unsupported(adapter):
    payload = fake.media_message("image", "1", "image/jpeg")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["image"]
    assert one(adapter, payload).kind == MessageKind.unsupported


def test_parse_system_message_and_senderless_message_are_ignored(adapter):
    system = fake.text_message("x")
    m = system["entry"][0]["changes"][0]["value"]["messages"][0]
    m["type"], m["system"] = "system", {"body": "User changed number", "type": "user_changed_number"}
    del m["text"]
    senderless = fake.text_message("y")
    del senderless["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    event = parse(adapter, fake.merge(system, senderless, fake.text_message("z")))
    assert [x.text for x in event.messages] == ["z"]
    assert event.ignored == 2


def test_parse_multiple_messages_in_one_entry(adapter):
    payload = fake.merge(
        fake.text_message("primeira", from_phone="5511911110000", name="Ana"),
        fake.text_message("segunda", from_phone="5521922220000", name="Bruno"),
        fake.media_message("audio", "9", "audio/ogg", voice=True, from_phone="5511911110000", name="Ana"),
    )
    value = payload["entry"][0]["changes"][0]["value"]
    assert len(payload["entry"]) == 1 and len(value["messages"]) == 3 and len(value["contacts"]) == 2
    event = parse(adapter, payload)
    assert [(m.from_phone, m.from_name, m.kind) for m in event.messages] == [
        ("+5511911110000", "Ana", MessageKind.text),
        ("+5521922220000", "Bruno", MessageKind.text),
        ("+5511911110000", "Ana", MessageKind.audio),
    ]


def test_parse_several_entries_and_changes(adapter):
    a, b = fake.text_message("a"), fake.text_message("b")
    a["entry"].append(b["entry"][0])
    a["entry"][0]["changes"].append({"field": "message_template_status_update", "value": {"event": "APPROVED"}})
    assert [m.text for m in parse(adapter, a).messages] == ["a", "b"]


@pytest.mark.parametrize("state", ["sent", "delivered", "read"])
def test_parse_status(adapter, state):
    event = parse(adapter, fake.status("wamid.OUT", state, timestamp=1700000000))
    assert event.messages == []
    assert len(event.statuses) == 1
    st = event.statuses[0]
    assert (st.provider_message_id, st.status, st.error) == ("wamid.OUT", DeliveryStatus(state), None)
    assert st.timestamp == datetime.fromtimestamp(1700000000, UTC)


def test_parse_failed_status_carries_the_error(adapter):
    event = parse(adapter, fake.status("wamid.OUT", "failed", error=(131047, "Re-engagement message")))
    st = event.statuses[0]
    assert st.status == DeliveryStatus.failed
    assert st.error is not None
    assert st.error.startswith("131047 Re-engagement message")


def test_parse_unknown_status_is_ignored(adapter):
    event = parse(adapter, fake.merge(fake.status("wamid.1", "deleted"), fake.status("wamid.2", "read")))
    assert [s.provider_message_id for s in event.statuses] == ["wamid.2"]
    assert event.ignored == 1


def test_parse_messages_and_statuses_together(adapter):
    event = parse(adapter, fake.merge(fake.text_message("oi"), fake.status("wamid.OUT", "delivered")))
    assert len(event.messages) == 1 and len(event.statuses) == 1


def test_parse_other_field_is_empty(adapter):
    payload = fake.webhook(field_name="account_update")
    payload["entry"][0]["changes"][0]["value"] = {"phone_number": "5511955550000", "event": "VERIFIED_ACCOUNT"}
    assert parse(adapter, payload) == ParsedEvent()


def test_parse_messages_field_without_messages_is_empty(adapter):
    assert parse(adapter, fake.webhook()) == ParsedEvent()


def test_parse_no_entries_is_empty(adapter):
    assert parse(adapter, {"object": "whatsapp_business_account", "entry": []}) == ParsedEvent()


def test_parse_malformed_json_is_400(adapter):
    with pytest.raises(WebhookRejected) as exc:
        adapter.parse(post(b'{"object": "whatsapp_business_account", "entry": ['))
    assert exc.value.status_code == 400
    assert "JSON" in exc.value.detail


def test_parse_non_utf8_is_400(adapter):
    with pytest.raises(WebhookRejected) as exc:
        adapter.parse(post(b"\xff\xfe\x00garbage"))
    assert exc.value.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        [],
        "texto",
        {"entry": []},
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": {"changes": []}},
        {"object": "whatsapp_business_account", "entry": ["x"]},
        {"object": "whatsapp_business_account", "entry": [{"changes": {"field": "messages"}}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": ["x"]}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": []}]}]},
    ],
)
def test_parse_wrong_shape_is_400(adapter, body):
    with pytest.raises(WebhookRejected) as exc:
        adapter.parse(post(json.dumps(body).encode()))
    assert exc.value.status_code == 400
    assert exc.value.detail


def test_parse_never_crashes_on_odd_message_fields(adapter):
    payload = fake.text_message("x")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"] += [
        "not-an-object",
        {"id": "wamid.no-type", "from": "5511999998888", "timestamp": "nope"},
        {"id": "wamid.bad-loc", "from": "5511999998888", "type": "location", "location": {"latitude": "x"}},
        {"id": "wamid.bad-text", "from": "5511999998888", "type": "text", "text": "plain string"},
    ]
    value["contacts"] = "garbage"
    event = parse(adapter, payload)
    assert [m.kind for m in event.messages] == [
        MessageKind.text,
        MessageKind.unsupported,
        MessageKind.unsupported,
        MessageKind.text,
    ]
    assert event.ignored == 1
    assert event.messages[0].from_name == ""


# -- media download --------------------------------------------------------------------------------


def test_download_media(graph, base_url):
    data = b"OggS\x00fake-opus-voice-note" * 50
    media_id = graph.add_media(data, "audio/ogg")
    got = call(base_url, lambda a: a.download_media(Media(id=media_id, mime_type="audio/ogg", voice=True)))
    assert got.data == data
    assert got.mime_type == "audio/ogg"
    assert graph.media_downloads == [media_id]


def test_download_media_keeps_the_filename(graph, base_url):
    media_id = graph.add_media(b"%PDF-1.7", "application/pdf")
    got = call(base_url, lambda a: a.download_media(Media(id=media_id, filename="pedido.pdf")))
    assert (got.data, got.mime_type, got.filename) == (b"%PDF-1.7", "application/pdf", "pedido.pdf")


def test_download_unknown_media_is_media_error(graph, base_url):
    with pytest.raises(MediaError):
        call(base_url, lambda a: a.download_media(Media(id="999")))


def test_download_with_a_bad_token_is_media_error(graph, base_url):
    media_id = graph.add_media(b"x", "image/jpeg")
    with pytest.raises(MediaError):
        call(base_url, lambda a: a.download_media(Media(id=media_id)), access_token="expired")
    assert graph.media_downloads == []


def test_download_without_an_id_is_media_error(base_url):
    with pytest.raises(MediaError):
        call(base_url, lambda a: a.download_media(Media(url="https://example.com/x.jpg")))


def test_download_when_graph_is_down_is_media_error():
    with pytest.raises(MediaError):
        call("http://127.0.0.1:9", lambda a: a.download_media(Media(id="1")), timeout=1.0)


# -- send ------------------------------------------------------------------------------------------


def _path(edge: str) -> str:
    return f"/{cloud_api.GRAPH_VERSION}/{fake.DEFAULT_PHONE_NUMBER_ID}/{edge}"


def test_send_text(graph, base_url):
    result = send(base_url, OutboundMessage(to_phone=CUSTOMER, kind=MessageKind.text, text="Temos sim! 😊"))
    assert len(graph.sent) == 1
    req = graph.sent[0]
    assert req.path == _path("messages")
    assert req.headers["authorization"] == f"Bearer {fake.DEFAULT_ACCESS_TOKEN}"
    assert req.headers["content-type"] == "application/json"
    assert req.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511999998888",
        "type": "text",
        "text": {"preview_url": False, "body": "Temos sim! 😊"},
    }
    assert result.provider_message_id == req.response["messages"][0]["id"]
    assert result.provider_message_id.startswith("wamid.")
    assert graph.messages == [req.json]


def test_send_image_by_link(graph, base_url):
    media = OutboundMedia(mime_type="image/jpeg", url="https://loja.example/p/42.jpg")
    send(base_url, OutboundMessage(to_phone=CUSTOMER, kind=MessageKind.image, text="Modelo 42", media=media))
    assert graph.messages == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "5511999998888",
            "type": "image",
            "image": {"link": "https://loja.example/p/42.jpg", "caption": "Modelo 42"},
        }
    ]


def test_send_document_by_upload(graph, base_url):
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 10
    media = OutboundMedia(mime_type="application/pdf", data=pdf, filename="orcamento.pdf")
    msg = OutboundMessage(to_phone=CUSTOMER, kind=MessageKind.document, text="Seu orçamento", media=media)
    result = send(base_url, msg)

    upload, message = graph.sent
    assert upload.kind == "upload" and upload.path == _path("media")
    assert upload.headers["authorization"] == f"Bearer {fake.DEFAULT_ACCESS_TOKEN}"
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert upload.form == {"messaging_product": "whatsapp", "type": "application/pdf"}
    assert upload.files["file"] == ("orcamento.pdf", "application/pdf", pdf)
    media_id = upload.response["id"]

    assert message.path == _path("messages")
    assert message.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511999998888",
        "type": "document",
        "document": {"id": media_id, "caption": "Seu orçamento", "filename": "orcamento.pdf"},
    }
    assert result.provider_message_id == message.response["messages"][0]["id"]
    assert graph.media[media_id].data == pdf


def test_send_audio_has_no_caption(graph, base_url):
    media = OutboundMedia(mime_type="audio/ogg", url="https://loja.example/a.ogg")
    send(base_url, OutboundMessage(to_phone=CUSTOMER, kind=MessageKind.audio, text="ignored", media=media))
    assert graph.messages[0]["type"] == "audio"
    assert graph.messages[0]["audio"] == {"link": "https://loja.example/a.ogg"}


def test_send_audio_by_upload(graph, base_url):
    media = OutboundMedia(mime_type="audio/ogg", data=b"OggS-voice")
    send(base_url, OutboundMessage(to_phone=CUSTOMER, kind=MessageKind.audio, media=media))
    upload, message = graph.sent
    assert upload.files["file"][1:] == ("audio/ogg", b"OggS-voice")
    assert message.json["audio"] == {"id": upload.response["id"]}


def test_send_template_with_variables(graph, base_url):
    tpl = Template(name="retomar_conversa", language="pt_BR", variables=["Maria", "camiseta azul"])
    send(base_url, OutboundMessage(to_phone="+55 (11) 99999-8888", kind=MessageKind.template, template=tpl))
    assert graph.messages == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "5511999998888",
            "type": "template",
            "template": {
                "name": "retomar_conversa",
                "language": {"code": "pt_BR"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": "Maria"}, {"type": "text", "text": "camiseta azul"}],
                    }
                ],
            },
        }
    ]


def test_send_template_without_variables_has_no_components(graph, base_url):
    tpl = Template(name="hello_world", language="en_US")
    send(base_url, OutboundMessage(to_phone=CUSTOMER, kind=MessageKind.template, template=tpl))
    assert graph.messages[0]["template"] == {"name": "hello_world", "language": {"code": "en_US"}}


@pytest.mark.parametrize(
    "message",
    [
        OutboundMessage(to_phone=CUSTOMER, kind=MessageKind.location),
        OutboundMessage(to_phone=CUSTOMER, kind=MessageKind.template),
        OutboundMessage(to_phone=CUSTOMER, kind=MessageKind.image),
        OutboundMessage(to_phone=CUSTOMER, kind=MessageKind.image, media=OutboundMedia(mime_type="image/png")),
        OutboundMessage(to_phone="", kind=MessageKind.text, text="x"),
    ],
    ids=["location", "template-missing", "media-missing", "media-empty", "no-recipient"],
)
def test_send_impossible_messages_fail_without_a_request(graph, base_url, message):
    with pytest.raises(SendError) as exc:
        send(base_url, message)
    assert exc.value.retryable is False
    assert graph.sent == []


# -- send errors -----------------------------------------------------------------------------------


TEXT = OutboundMessage(to_phone=CUSTOMER, kind=MessageKind.text, text="oi")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_send_server_errors_and_throttling_are_retryable(graph, base_url, status):
    graph.fail_next(1, status=status)
    with pytest.raises(SendError) as exc:
        send(base_url, TEXT)
    assert exc.value.retryable is True
    assert exc.value.status_code == status
    assert "Graph error" in exc.value.detail
    assert graph.messages == []
    send(base_url, TEXT)  # the failure was one-shot
    assert len(graph.messages) == 1


def test_send_400_is_not_retryable_and_carries_graphs_message(graph, base_url):
    graph.fail_next(1, status=400, code=131009, message="(#131009) Parameter value is not valid")
    with pytest.raises(SendError) as exc:
        send(base_url, TEXT)
    assert exc.value.retryable is False
    assert exc.value.status_code == 400
    assert "131009" in exc.value.detail
    assert "(#131009) Parameter value is not valid" in exc.value.detail


def test_send_throughput_error_on_400_is_retryable(graph, base_url):
    # Graph reports its rate limits (130429 throughput, 131056 pair rate...) with HTTP 400.
    graph.fail_next(1, status=400, code=130429, message="(#130429) Rate limit hit")
    with pytest.raises(SendError) as exc:
        send(base_url, TEXT)
    assert exc.value.retryable is True and exc.value.status_code == 400


def test_send_with_a_bad_token_is_not_retryable(graph, base_url):
    with pytest.raises(SendError) as exc:
        send(base_url, TEXT, access_token="expired")
    assert exc.value.retryable is False
    assert exc.value.status_code == 401
    assert "190" in exc.value.detail
    assert graph.messages == []


def test_send_to_an_unknown_phone_number_id_is_not_retryable(graph, base_url):
    with pytest.raises(SendError) as exc:
        send(base_url, TEXT, phone_number_id="000")
    assert exc.value.retryable is False and exc.value.status_code == 400
    assert "does not exist" in exc.value.detail


def test_send_timeout_is_unknown_not_retryable(graph, base_url):
    """The request reached Graph before the answer timed out: Meta may have sent it, and sending it
    again could reach the lead twice."""
    graph.delay_next(2.0)
    with pytest.raises(SendError) as exc:
        send(base_url, TEXT, timeout=0.2)
    assert exc.value.failure is SendFailure.unknown and exc.value.retryable is False
    assert exc.value.status_code is None
    assert "timeout" in exc.value.detail


def test_send_connection_refused_is_retryable():
    with pytest.raises(SendError) as exc:
        send("http://127.0.0.1:9", TEXT, timeout=1.0)
    assert exc.value.retryable is True


def test_failed_upload_fails_the_send_before_any_message(graph, base_url):
    graph.fail_next(1, status=503)
    media = OutboundMedia(mime_type="image/png", data=b"\x89PNG")
    with pytest.raises(SendError) as exc:
        send(base_url, OutboundMessage(to_phone=CUSTOMER, kind=MessageKind.image, media=media))
    assert exc.value.retryable is True
    assert [r.kind for r in graph.sent] == ["upload"]


def test_graph_error_truncated_by_send_request_still_yields_code_and_message():
    long_details = "x" * 800
    body = json.dumps(fake.graph_error(131026, "(#131026) Message undeliverable", long_details))
    original = SendError(f"HTTP 400: {body[:500]}", retryable=False, status_code=400)
    rebuilt = cloud_api._graph_send_error(original)
    assert rebuilt.retryable is False and rebuilt.status_code == 400
    assert "131026" in rebuilt.detail and "Message undeliverable" in rebuilt.detail


def test_non_json_error_body_keeps_send_requests_detail():
    original = SendError("HTTP 502: <html>Bad Gateway</html>", retryable=True, status_code=502)
    assert cloud_api._graph_send_error(original) is original


# -- two numbers on one Meta app: metadata.phone_number_id says whose event it is -----------------------


OTHER_NUMBER = "209876543210987"


def test_parse_ignores_messages_and_statuses_for_another_number_of_the_app(adapter):
    theirs = fake.merge(
        fake.text_message("para o outro número", phone_number_id=OTHER_NUMBER),
        fake.status("wamid.OUT", "read", phone_number_id=OTHER_NUMBER),
    )
    event = parse(adapter, theirs)
    assert (event.messages, event.statuses, event.misaddressed) == ([], [], 2)


def test_parse_keeps_this_numbers_changes_of_a_mixed_delivery(adapter):
    payload = fake.text_message("nosso")
    payload["entry"].append(fake.text_message("deles", phone_number_id=OTHER_NUMBER)["entry"][0])
    payload["entry"][0]["changes"].append(
        fake.status("wamid.X", "read", phone_number_id=OTHER_NUMBER)["entry"][0]["changes"][0]
    )
    event = parse(adapter, payload)
    assert [m.text for m in event.messages] == ["nosso"]
    assert event.statuses == [] and event.misaddressed == 2


def test_parse_a_change_without_metadata_is_nobody_s(adapter):
    payload = fake.text_message("sem metadata")
    del payload["entry"][0]["changes"][0]["value"]["metadata"]
    event = parse(adapter, payload)
    assert event.messages == [] and event.misaddressed == 1
