"""EvolutionAdapter against FakeEvolution on loopback, with a real httpx.AsyncClient (no database)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from db.models import Provider
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
)
from runtime.channels.evolution import EvolutionAdapter, webhook_url_for_owner
from tests.fakes import evolution as evo
from tests.fakes.servers import free_port, serve_in_thread

WEBHOOK_URL = "https://piloto.example.com/webhooks/evolution/7b0c6d1e-0000-4000-8000-000000000001"


def make_config(base_url: str = "http://127.0.0.1:9", **credentials: str) -> ChannelConfig:
    creds = {"instance": evo.DEFAULT_INSTANCE, "api_key": evo.DEFAULT_API_KEY, "webhook_secret": evo.DEFAULT_SECRET}
    creds.update(credentials)
    return ChannelConfig(
        channel_id="7b0c6d1e-0000-4000-8000-000000000001",
        provider=Provider.evolution,
        api_base_url=base_url,
        credentials=creds,
        webhook_url=WEBHOOK_URL,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[evo.FakeEvolution, str]]:
    fake = evo.FakeEvolution()
    with serve_in_thread(fake.app()) as base_url:
        yield fake, base_url


@pytest.fixture
def fake(server) -> evo.FakeEvolution:
    server[0].reset()
    return server[0]


@pytest.fixture
def base_url(server) -> str:
    return server[1]


@pytest.fixture(scope="module")
def adapter() -> Iterator[EvolutionAdapter]:
    """For webhook-side tests: never touches the network."""
    client = httpx.AsyncClient()
    yield EvolutionAdapter(make_config(), client)
    asyncio.run(client.aclose())


def call(config: ChannelConfig, fn: Callable[[EvolutionAdapter], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with httpx.AsyncClient(timeout=5) as http:
            return await fn(EvolutionAdapter(config, http))

    return asyncio.run(main())


def parse(adapter: EvolutionAdapter, body: dict[str, Any] | bytes) -> ParsedEvent:
    request = evo.webhook_request(body)
    adapter.verify(request)
    return adapter.parse(request)


def only_message(event: ParsedEvent):
    assert event.ignored == 0 and event.statuses == []
    assert len(event.messages) == 1
    return event.messages[0]


# ---- provider facts -------------------------------------------------------------------------------


def test_class_attributes() -> None:
    assert EvolutionAdapter.provider is Provider.evolution
    assert EvolutionAdapter.default_api_base_url == "http://localhost:8080"
    assert EvolutionAdapter.credential_fields == ("instance", "api_key", "webhook_secret")
    assert EvolutionAdapter.has_service_window is False


def test_handshake_is_not_supported(adapter) -> None:
    request = evo.webhook_request(b"", secret=None)
    with pytest.raises(WebhookRejected) as exc:
        adapter.handshake(request)
    assert exc.value.status_code == 405


def test_owner_webhook_url_carries_the_secret() -> None:
    assert webhook_url_for_owner(make_config(webhook_secret="a b/c")) == f"{WEBHOOK_URL}?secret=a%20b%2Fc"


# ---- verify -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["query", "header"])
def test_verify_accepts_the_secret(adapter, via: str) -> None:
    adapter.verify(evo.webhook_request(evo.text_event("oi"), via=via))


def test_verify_accepts_webhook_by_events_suffix(adapter) -> None:
    # "Webhook by events" appends /messages-upsert after our ?secret=...
    adapter.verify(evo.webhook_request(evo.text_event("oi"), secret=f"{evo.DEFAULT_SECRET}/messages-upsert"))


def test_verify_owner_secret_with_slash(adapter) -> None:
    slashed = EvolutionAdapter(make_config(webhook_secret="a/b"), adapter.http)
    slashed.verify(evo.webhook_request(evo.text_event("oi"), secret="a/b"))
    with pytest.raises(WebhookRejected):
        slashed.verify(evo.webhook_request(evo.text_event("oi"), secret="a"))


def test_verify_missing_secret_is_401(adapter) -> None:
    with pytest.raises(WebhookRejected) as exc:
        adapter.verify(evo.webhook_request(evo.text_event("oi"), secret=None))
    assert exc.value.status_code == 401


@pytest.mark.parametrize("via", ["query", "header"])
def test_verify_wrong_secret_is_403(adapter, via: str) -> None:
    with pytest.raises(WebhookRejected) as exc:
        adapter.verify(evo.webhook_request(evo.text_event("oi"), secret="nope", via=via))
    assert exc.value.status_code == 403


def test_verify_channel_without_secret_rejects_everything(adapter) -> None:
    unset = EvolutionAdapter(make_config(webhook_secret=""), adapter.http)
    with pytest.raises(WebhookRejected) as exc:
        unset.verify(evo.webhook_request(evo.text_event("oi"), secret="anything"))
    assert exc.value.status_code == 403


# ---- parse: messages ----------------------------------------------------------------------------------


def test_text(adapter) -> None:
    body = evo.text_event("Quanto custa o bolo?", message_id="3EB0AAA", timestamp=1_700_000_000, name="Ana")
    msg = only_message(parse(adapter, body))
    assert msg.kind is MessageKind.text
    assert msg.text == "Quanto custa o bolo?"
    assert msg.provider_message_id == "3EB0AAA"
    assert msg.from_phone == evo.DEFAULT_PHONE
    assert msg.from_name == "Ana"
    assert msg.timestamp == datetime.fromtimestamp(1_700_000_000, UTC)
    assert msg.is_group is False and msg.context_id is None and msg.media is None


def test_uppercase_event_name(adapter) -> None:
    msg = only_message(parse(adapter, evo.text_event("oi", event="MESSAGES_UPSERT")))
    assert msg.text == "oi"


def test_reply_context_v23_lifted_and_legacy_extended_text(adapter) -> None:
    lifted = only_message(parse(adapter, evo.text_event("esse aqui", reply_to="3EB0QUOTED")))
    assert lifted.context_id == "3EB0QUOTED"
    legacy = only_message(parse(adapter, evo.text_event("esse aqui", reply_to="3EB0QUOTED", extended=True)))
    assert legacy.kind is MessageKind.text and legacy.text == "esse aqui"
    assert legacy.context_id == "3EB0QUOTED"


def test_missing_push_name_and_string_timestamp(adapter) -> None:
    body = evo.text_event("oi", name=None)
    body["data"]["messageTimestamp"] = "1700000000"
    msg = only_message(parse(adapter, body))
    assert msg.from_name == ""
    assert msg.timestamp == datetime.fromtimestamp(1_700_000_000, UTC)


def test_list_shaped_data_and_from_me_echoes(adapter) -> None:
    first, second = evo.text_event("um"), evo.text_event("dois", phone="+5521977776666")
    echo = evo.from_me_echo("resposta da loja")
    body = dict(first, data=[first["data"], echo["data"], second["data"]])
    event = parse(adapter, body)
    assert [m.text for m in event.messages] == ["um", "dois"]
    assert event.messages[1].from_phone == "+5521977776666"
    assert event.ignored == 1


def test_from_me_echo_is_ignored(adapter) -> None:
    event = parse(adapter, evo.from_me_echo("Olá! Sou a assistente da loja."))
    assert event.messages == [] and event.ignored == 1


@pytest.mark.parametrize(
    ("kind", "options", "expected_kind", "expected_text", "mime", "filename", "voice"),
    [
        ("image", {"caption": "olha essa"}, MessageKind.image, "olha essa", "image/jpeg", None, False),
        ("video", {"caption": "vídeo"}, MessageKind.video, "vídeo", "video/mp4", None, False),
        ("audio", {"voice": True}, MessageKind.audio, "", "audio/ogg; codecs=opus", None, True),
        ("audio", {"voice": False, "mimetype": "audio/mpeg"}, MessageKind.audio, "", "audio/mpeg", None, False),
        ("sticker", {}, MessageKind.sticker, "", "image/webp", None, False),
        (
            "document",
            {"caption": "segue", "file_name": "pedido.pdf"},
            MessageKind.document,
            "segue",
            "application/pdf",
            "pedido.pdf",
            False,
        ),
    ],
)
def test_media(adapter, kind, options, expected_kind, expected_text, mime, filename, voice) -> None:
    body = evo.media_event(kind, message_id="3EB0MEDIA", **options)
    msg = only_message(parse(adapter, body))
    assert msg.kind is expected_kind
    assert msg.text == expected_text
    media = msg.media
    assert media is not None
    assert media.url == body["data"]["message"][f"{kind}Message"]["url"]
    assert media.mime_type == mime
    assert media.filename == filename
    assert media.voice is voice
    assert media.extra["key"] == body["data"]["key"]
    assert media.extra["message_type"] == f"{kind}Message"
    assert "base64" not in media.extra


def test_document_with_caption_wrapper(adapter) -> None:
    body = evo.media_event("document", caption="orçamento", file_name="orc.pdf", with_caption_wrapper=True)
    msg = only_message(parse(adapter, body))
    assert msg.kind is MessageKind.document
    assert msg.text == "orçamento"
    assert msg.media.filename == "orc.pdf"


def test_inline_base64_is_kept(adapter) -> None:
    msg = only_message(parse(adapter, evo.media_event("image", inline=b"\x89PNG fake")))
    assert base64.b64decode(msg.media.extra["base64"]) == b"\x89PNG fake"


def test_location(adapter) -> None:
    body = evo.location_event(-23.5614, -46.6559, place="Loja Paulista", address="Av. Paulista, 1000")
    msg = only_message(parse(adapter, body))
    assert msg.kind is MessageKind.location
    assert msg.location.latitude == pytest.approx(-23.5614)
    assert msg.location.longitude == pytest.approx(-46.6559)
    assert msg.location.name == "Loja Paulista"
    assert msg.location.address == "Av. Paulista, 1000"


@pytest.mark.parametrize(
    "body",
    [
        evo.button_reply_event("btn-comprar", "Quero comprar", reply_to="3EB0BUTTONS"),
        evo.list_reply_event("btn-comprar", "Quero comprar", description="Finalizar pedido", reply_to="3EB0BUTTONS"),
        evo.template_button_reply_event("btn-comprar", "Quero comprar"),
    ],
    ids=["buttons", "list", "template-button"],
)
def test_interactive_replies(adapter, body) -> None:
    msg = only_message(parse(adapter, body))
    assert msg.kind is MessageKind.interactive
    assert msg.reply_id == "btn-comprar"
    assert msg.text == "Quero comprar"
    if body["data"]["messageType"] != "templateButtonReplyMessage":
        assert msg.context_id == "3EB0BUTTONS"


def test_native_flow_button_reply(adapter) -> None:
    body = evo.text_event("x")
    body["data"]["messageType"] = "interactiveResponseMessage"
    body["data"]["message"] = {
        "interactiveResponseMessage": {
            "body": {"text": "Ver catálogo", "format": "DEFAULT"},
            "nativeFlowResponseMessage": {"name": "quick_reply", "paramsJson": '{"id":"catalogo"}', "version": 3},
        }
    }
    msg = only_message(parse(adapter, body))
    assert (msg.kind, msg.reply_id, msg.text) == (MessageKind.interactive, "catalogo", "Ver catálogo")


def test_reaction(adapter) -> None:
    msg = only_message(parse(adapter, evo.reaction_event("👍", "3EB0OURS")))
    assert msg.kind is MessageKind.reaction
    assert msg.text == "👍"
    assert msg.reaction_to == "3EB0OURS"


def test_unknown_type_is_unsupported(adapter) -> None:
    body = evo.text_event("x")
    body["data"]["messageType"] = "contactMessage"
    body["data"]["message"] = {"contactMessage": {"displayName": "Fulano", "vcard": "BEGIN:VCARD..."}}
    msg = only_message(parse(adapter, body))
    assert msg.kind is MessageKind.unsupported
    assert msg.provider_message_id == body["data"]["key"]["id"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(messageType="protocolMessage", message={"protocolMessage": {"type": "REVOKE"}}),
        lambda d: d["key"].update(remoteJid="status@broadcast"),
        lambda d: d["key"].update(remoteJid="120363000000000000@newsletter"),
        lambda d: d.update(message=None),
    ],
    ids=["protocol", "status-broadcast", "newsletter", "no-content"],
)
def test_housekeeping_is_ignored(adapter, mutate) -> None:
    body = evo.text_event("x")
    mutate(body["data"])
    event = parse(adapter, body)
    assert event.messages == [] and event.ignored == 1


# ---- parse: who wrote ------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["alt", "sender_pn", "swapped"])
def test_lid_with_phone_uses_the_phone(adapter, style: str) -> None:
    msg = only_message(parse(adapter, evo.lid_event("oi", phone="+5511955554444", style=style)))
    assert msg.from_phone == "+5511955554444"


def test_lid_only_gets_a_stable_pseudo_phone(adapter) -> None:
    first = only_message(parse(adapter, evo.lid_event("oi", lid="103899771998284")))
    second = only_message(parse(adapter, evo.lid_event("tudo bem?", lid="103899771998284")))
    assert first.from_phone == second.from_phone == "+103899771998284"
    assert first.text == "oi"


def test_group_message(adapter) -> None:
    msg = only_message(parse(adapter, evo.group_event("bom dia grupo", participant="+5531966665555")))
    assert msg.is_group is True
    assert msg.from_phone == "+5531966665555"


def test_group_message_from_lid_participant(adapter) -> None:
    body = evo.group_event("oi", participant="+5531966665555", participant_lid="98765432109876")
    assert only_message(parse(adapter, body)).from_phone == "+5531966665555"


def test_device_suffix_is_dropped(adapter) -> None:
    body = evo.text_event("oi")
    body["data"]["key"]["remoteJid"] = "5511988887777:12@s.whatsapp.net"
    assert only_message(parse(adapter, body)).from_phone == "+5511988887777"


# ---- parse: statuses and other events ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SERVER_ACK", DeliveryStatus.sent),
        ("DELIVERY_ACK", DeliveryStatus.delivered),
        ("READ", DeliveryStatus.read),
        ("PLAYED", DeliveryStatus.read),
        ("ERROR", DeliveryStatus.failed),
    ],
)
def test_status_mapping(adapter, raw: str, expected: DeliveryStatus) -> None:
    event = parse(adapter, evo.status_event("3EB0SENT", raw))
    assert event.messages == [] and event.ignored == 0
    [status] = event.statuses
    assert status.provider_message_id == "3EB0SENT"  # keyId, not Evolution's database messageId
    assert status.status is expected
    assert status.timestamp.tzinfo is not None
    assert (status.error is not None) is (expected is DeliveryStatus.failed)


def test_status_uppercase_event_name(adapter) -> None:
    [status] = parse(adapter, evo.status_event("3EB0SENT", "READ", event="MESSAGES_UPDATE")).statuses
    assert status.status is DeliveryStatus.read


@pytest.mark.parametrize(
    "body",
    [evo.status_event("3EB0SENT", "PENDING"), evo.status_event("3EB0THEIRS", "READ", from_me=False)],
    ids=["pending", "not-ours"],
)
def test_statuses_ignored(adapter, body) -> None:
    event = parse(adapter, body)
    assert event.statuses == [] and event.ignored == 1


def test_status_v1_shape(adapter) -> None:
    # v1 spread the message key into the payload: id instead of keyId, datetime in ms.
    data = {"id": "3EB0V1", "remoteJid": "5511988887777@s.whatsapp.net", "fromMe": True, "status": "DELIVERY_ACK"}
    data["datetime"] = 1_700_000_000_000
    [status] = parse(adapter, evo.envelope("messages.update", data)).statuses
    assert (status.provider_message_id, status.status) == ("3EB0V1", DeliveryStatus.delivered)
    assert status.timestamp == datetime.fromtimestamp(1_700_000_000, UTC)


@pytest.mark.parametrize(
    "body",
    [
        evo.connection_event("open"),
        evo.envelope("qrcode.updated", {"qrcode": {"code": "2@abc", "base64": "data:image/png;base64,AAAA"}}),
        evo.envelope("send.message", evo.from_me_echo("x")["data"]),
        evo.envelope("CONTACTS_UPSERT", [{"remoteJid": "5511988887777@s.whatsapp.net", "pushName": "Ana"}]),
    ],
    ids=["connection", "qrcode", "send-message", "contacts"],
)
def test_other_events_are_empty(adapter, body) -> None:
    assert parse(adapter, body) == ParsedEvent()


# ---- parse: malformed --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        json.dumps({"data": {}}).encode(),
        json.dumps({"event": "messages.upsert", "data": "oops"}).encode(),
        json.dumps({"event": "messages.upsert", "data": []}).encode(),
        json.dumps({"event": "messages.upsert", "data": {"message": {"conversation": "x"}}}).encode(),
        json.dumps({"event": "messages.upsert", "data": {"key": {"remoteJid": "5511@s.whatsapp.net"}}}).encode(),
        json.dumps({"event": "messages.update", "data": {"status": "READ", "fromMe": True}}).encode(),
    ],
    ids=["broken", "not-utf8", "array", "no-event", "data-str", "data-empty", "no-key", "no-id", "status-no-id"],
)
def test_malformed_is_400(adapter, body: bytes) -> None:
    with pytest.raises(WebhookRejected) as exc:
        parse(adapter, body)
    assert exc.value.status_code == 400
    assert exc.value.detail


def test_event_for_another_instance_is_400(adapter) -> None:
    with pytest.raises(WebhookRejected) as exc:
        parse(adapter, evo.text_event("oi", instance="outra-loja"))
    assert exc.value.status_code == 400
    assert "outra-loja" in exc.value.detail


# ---- media download ------------------------------------------------------------------------------------


def test_download_inline_base64_needs_no_request(adapter, fake, base_url) -> None:
    msg = only_message(parse(adapter, evo.media_event("image", inline=b"img")))
    got = call(make_config(base_url), lambda a: a.download_media(msg.media))
    assert (got.data, got.mime_type) == (b"img", "image/jpeg")
    assert fake.requests == []


def test_download_via_evolution(adapter, fake, base_url) -> None:
    body = evo.media_event("document", file_name="pedido.pdf", message_id="3EB0DOC")
    fake.add_media("3EB0DOC", b"%PDF-1.4 fake", "application/pdf", file_name="pedido.pdf")
    msg = only_message(parse(adapter, body))
    got = call(make_config(base_url), lambda a: a.download_media(msg.media))
    assert got.data == b"%PDF-1.4 fake"
    assert got.mime_type == "application/pdf"
    assert got.filename == "pedido.pdf"
    [request] = fake.requests
    assert request.path == f"/chat/getBase64FromMediaMessage/{evo.DEFAULT_INSTANCE}"
    assert request.headers["apikey"] == evo.DEFAULT_API_KEY
    assert request.json == {"message": {"key": body["data"]["key"]}, "convertToMp4": False}


@pytest.mark.parametrize("trouble", ["unknown-message", "server-error", "wrong-key", "no-key", "unreachable"])
def test_download_errors_are_media_errors(fake, base_url, trouble: str) -> None:
    config = make_config(base_url)
    media = Media(url="https://mmg.whatsapp.net/x.enc", mime_type="image/jpeg", extra={"key": {"id": "3EB0NONE"}})
    if trouble == "server-error":
        fake.add_media("3EB0NONE", b"x", "image/jpeg")
        fake.fail_next(1, status=500)
    elif trouble == "wrong-key":
        fake.add_media("3EB0NONE", b"x", "image/jpeg")
        config = make_config(base_url, api_key="wrong")
    elif trouble == "no-key":
        media = Media(url="https://mmg.whatsapp.net/x.enc", mime_type="image/jpeg")
    elif trouble == "unreachable":
        config = make_config(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(MediaError):
        call(config, lambda a: a.download_media(media))


# ---- send -------------------------------------------------------------------------------------------------


def send(base_url: str, message: OutboundMessage, **credentials: str):
    return call(make_config(base_url, **credentials), lambda a: a.send(message))


def test_send_text(fake, base_url) -> None:
    result = send(base_url, OutboundMessage(to_phone="+55 11 98888-7777", kind=MessageKind.text, text="Olá, Ana!"))
    [sent] = fake.sent
    assert sent.path == f"/message/sendText/{evo.DEFAULT_INSTANCE}"
    assert sent.headers["apikey"] == evo.DEFAULT_API_KEY
    assert sent.json == {"number": "5511988887777", "text": "Olá, Ana!"}
    assert result.provider_message_id == sent.message_id
    assert result.provider_message_id.startswith("3EB0")


def test_send_image_by_url(fake, base_url) -> None:
    media = OutboundMedia(mime_type="image/jpeg", url="https://cdn.example.com/bolo.jpg")
    msg = OutboundMessage(to_phone="+5511988887777", kind=MessageKind.image, text="Bolo de cenoura", media=media)
    result = send(base_url, msg)
    [sent] = fake.sent
    assert sent.path == f"/message/sendMedia/{evo.DEFAULT_INSTANCE}"
    assert sent.json == {
        "number": "5511988887777",
        "mediatype": "image",
        "mimetype": "image/jpeg",
        "media": "https://cdn.example.com/bolo.jpg",
        "caption": "Bolo de cenoura",
    }
    assert result.provider_message_id == sent.message_id


def test_send_document_bytes(fake, base_url) -> None:
    media = OutboundMedia(mime_type="application/pdf", data=b"%PDF-1.4 orcamento", filename="orcamento.pdf")
    send(base_url, OutboundMessage(to_phone="+5511988887777", kind=MessageKind.document, text="Segue", media=media))
    assert fake.sent[0].json == {
        "number": "5511988887777",
        "mediatype": "document",
        "mimetype": "application/pdf",
        "media": base64.b64encode(b"%PDF-1.4 orcamento").decode(),
        "caption": "Segue",
        "fileName": "orcamento.pdf",
    }


def test_send_document_without_filename_gets_one(fake, base_url) -> None:
    media = OutboundMedia(mime_type="application/pdf", data=b"%PDF")
    send(base_url, OutboundMessage(to_phone="+5511988887777", kind=MessageKind.document, media=media))
    assert fake.sent[0].json["fileName"] == "documento.pdf"
    assert "caption" not in fake.sent[0].json


def test_send_video(fake, base_url) -> None:
    media = OutboundMedia(mime_type="video/mp4", url="https://cdn.example.com/tour.mp4")
    send(base_url, OutboundMessage(to_phone="+5511988887777", kind=MessageKind.video, media=media))
    assert fake.sent[0].json == {
        "number": "5511988887777",
        "mediatype": "video",
        "mimetype": "video/mp4",
        "media": "https://cdn.example.com/tour.mp4",
    }


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        (OutboundMedia(mime_type="audio/ogg", url="https://cdn.example.com/a.ogg"), "https://cdn.example.com/a.ogg"),
        (OutboundMedia(mime_type="audio/ogg", data=b"OggS voice"), base64.b64encode(b"OggS voice").decode()),
    ],
    ids=["url", "bytes"],
)
def test_send_audio_as_voice_note(fake, base_url, media, expected) -> None:
    result = send(base_url, OutboundMessage(to_phone="+5511988887777", kind=MessageKind.audio, media=media))
    [sent] = fake.sent
    assert sent.path == f"/message/sendWhatsAppAudio/{evo.DEFAULT_INSTANCE}"
    assert sent.json == {"number": "5511988887777", "audio": expected}
    assert result.provider_message_id == sent.message_id


def test_send_to_a_jid_passes_through(fake, base_url) -> None:
    send(base_url, OutboundMessage(to_phone="103899771998284@lid", kind=MessageKind.text, text="oi"))
    assert fake.sent[0].json["number"] == "103899771998284@lid"


@pytest.mark.parametrize(
    "message",
    [
        OutboundMessage(to_phone="+5511988887777", kind=MessageKind.template, template=Template(name="boas_vindas")),
        OutboundMessage(to_phone="+5511988887777", kind=MessageKind.location),
        OutboundMessage(to_phone="+5511988887777", kind=MessageKind.image),
        OutboundMessage(to_phone="+5511988887777", kind=MessageKind.text, text=""),
        OutboundMessage(to_phone="sem número", kind=MessageKind.text, text="oi"),
    ],
    ids=["template", "location", "image-without-media", "empty-text", "bad-number"],
)
def test_refused_before_any_request(fake, base_url, message) -> None:
    with pytest.raises(SendError) as exc:
        send(base_url, message)
    assert exc.value.retryable is False
    assert fake.requests == []


@pytest.mark.parametrize(
    ("status", "failure"),
    [(500, SendFailure.unknown), (502, SendFailure.unknown), (429, SendFailure.retry), (400, SendFailure.refused)],
)
def test_send_errors_are_classified(fake, base_url, status: int, failure: SendFailure) -> None:
    """Only a 429 proves the message was not taken; a 5xx may come after it went out."""
    fake.fail_next(1, status=status)
    with pytest.raises(SendError) as exc:
        send(base_url, OutboundMessage(to_phone="+5511988887777", kind=MessageKind.text, text="oi"))
    assert (exc.value.status_code, exc.value.failure) == (status, failure)
    assert fake.sent == []


def test_number_not_on_whatsapp_is_not_retryable(fake, base_url) -> None:
    fake.unknown_numbers.add("5511900000000")
    with pytest.raises(SendError) as exc:
        send(base_url, OutboundMessage(to_phone="+5511900000000", kind=MessageKind.text, text="oi"))
    assert (exc.value.status_code, exc.value.retryable) == (400, False)
    assert '"exists":false' in exc.value.detail.replace(" ", "")


def test_wrong_api_key_is_401_not_retryable(fake, base_url) -> None:
    with pytest.raises(SendError) as exc:
        send(base_url, OutboundMessage(to_phone="+5511988887777", kind=MessageKind.text, text="oi"), api_key="x")
    assert (exc.value.status_code, exc.value.retryable) == (401, False)
    assert fake.requests[0].status == 401


def test_unknown_instance_is_404_not_retryable(fake, base_url) -> None:
    with pytest.raises(SendError) as exc:
        send(base_url, OutboundMessage(to_phone="+5511988887777", kind=MessageKind.text, text="oi"), instance="x")
    assert (exc.value.status_code, exc.value.retryable) == (404, False)


def test_unreachable_server_is_retryable() -> None:
    with pytest.raises(SendError) as exc:
        send(
            f"http://127.0.0.1:{free_port()}",
            OutboundMessage(to_phone="+5511988887777", kind=MessageKind.text, text="x"),
        )
    assert exc.value.retryable is True


def test_retry_after_failure_succeeds(fake, base_url) -> None:
    fake.fail_next(1, status=503)
    msg = OutboundMessage(to_phone="+5511988887777", kind=MessageKind.text, text="oi")
    with pytest.raises(SendError):
        send(base_url, msg)
    result = send(base_url, msg)
    assert [s.message_id for s in fake.sent] == [result.provider_message_id]
    assert [r.status for r in fake.requests] == [503, 201]


def test_a_download_bigger_than_the_media_limit_is_refused_while_streaming(fake, base_url, monkeypatch, fresh_settings):
    """The channel's Evolution server is the tenant's choice: its answer is read with a cap
    (MEDIA_MAX_BYTES, base64 and JSON included), never whole into memory whatever its size."""
    from runtime.config import get_settings

    monkeypatch.setenv("MEDIA_MAX_BYTES", "4096")
    get_settings.cache_clear()
    fake.add_media("3EB0BIG", b"x" * 60_000, "image/jpeg")
    media = Media(url="https://mmg.whatsapp.net/x.enc", mime_type="image/jpeg", extra={"key": {"id": "3EB0BIG"}})
    with pytest.raises(MediaError, match="limite"):
        call(make_config(base_url), lambda a: a.download_media(media))
    fake.add_media("3EB0OK", b"y" * 2000, "image/jpeg")
    small = Media(url="https://mmg.whatsapp.net/y.enc", mime_type="image/jpeg", extra={"key": {"id": "3EB0OK"}})
    assert call(make_config(base_url), lambda a: a.download_media(small)).data == b"y" * 2000
