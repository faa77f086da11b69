"""ZapiAdapter against FakeZapi on loopback, through a real httpx.AsyncClient (no database)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from runtime.channels.base import (
    DeliveryStatus,
    Media,
    MediaError,
    MessageKind,
    OutboundMedia,
    OutboundMessage,
    SendError,
    SendFailure,
    Template,
    WebhookRejected,
)
from runtime.channels.zapi import ZapiAdapter
from tests.fakes.servers import free_port
from tests.fakes.zapi import (
    LEAD_NAME,
    LEAD_PHONE,
    FakeZapi,
    button_reply_callback,
    connected_callback,
    delivery_callback,
    disconnected_callback,
    from_me_echo,
    group_callback,
    list_reply_callback,
    location_callback,
    media_callback,
    notification_callback,
    presence_callback,
    reaction_callback,
    status_callback,
    text_callback,
    webhook_request,
)

LEAD_E164 = "+" + LEAD_PHONE


@pytest.fixture(scope="module")
def running_fake() -> Iterator[FakeZapi]:
    fake = FakeZapi()
    with fake.running():
        yield fake


@pytest.fixture
def fake(running_fake: FakeZapi) -> FakeZapi:
    running_fake.reset()
    return running_fake


@pytest.fixture
def adapter() -> Iterator[ZapiAdapter]:
    """For webhook tests: no network involved."""
    http = httpx.AsyncClient()
    yield ZapiAdapter(FakeZapi().channel_config(), http)
    asyncio.run(http.aclose())


def run_adapter(fake: FakeZapi, call, **credential_overrides):
    """Run ``call(adapter)`` (a coroutine) with a fresh client against the fake."""

    async def go():
        async with httpx.AsyncClient(timeout=5) as http:
            return await call(ZapiAdapter(fake.channel_config(**credential_overrides), http))

    return asyncio.run(go())


def send(fake: FakeZapi, message: OutboundMessage, **credential_overrides):
    return run_adapter(fake, lambda a: a.send(message), **credential_overrides)


def one_message(adapter: ZapiAdapter, payload):
    event = adapter.parse(webhook_request(payload))
    assert event.statuses == [] and event.ignored == 0
    assert len(event.messages) == 1
    return event.messages[0]


# -- class shape and webhook authentication -------------------------------------------------------------


def test_adapter_declares_its_provider_contract():
    from db.models import Provider

    assert ZapiAdapter.provider is Provider.zapi
    assert ZapiAdapter.default_api_base_url == "https://api.z-api.io"
    assert ZapiAdapter.credential_fields == ("instance_id", "token", "client_token", "webhook_secret")
    assert ZapiAdapter.has_service_window is False


def test_handshake_is_not_supported(adapter):
    with pytest.raises(WebhookRejected) as exc:
        adapter.handshake(webhook_request({}, via="none"))
    assert exc.value.status_code == 405


@pytest.mark.parametrize("via", ["query", "header"])
def test_verify_accepts_the_channel_secret(adapter, via):
    adapter.verify(webhook_request(text_callback("oi"), via=via))


def test_verify_rejects_a_missing_secret_with_401(adapter):
    with pytest.raises(WebhookRejected) as exc:
        adapter.verify(webhook_request(text_callback("oi"), via="none"))
    assert exc.value.status_code == 401


@pytest.mark.parametrize("via", ["query", "header"])
def test_verify_rejects_a_wrong_secret_with_403(adapter, via):
    with pytest.raises(WebhookRejected) as exc:
        adapter.verify(webhook_request(text_callback("oi"), "not-the-secret", via=via))
    assert exc.value.status_code == 403


def test_verify_never_accepts_when_the_channel_has_no_secret():
    adapter = ZapiAdapter(FakeZapi().channel_config(webhook_secret=""), httpx.AsyncClient())
    for offered in ("anything", ""):
        with pytest.raises(WebhookRejected) as exc:
            adapter.verify(webhook_request(text_callback("oi"), offered))
        assert exc.value.status_code == (403 if offered else 401)


# -- parsing ReceivedCallback ---------------------------------------------------------------------------


def test_parse_text(adapter):
    payload = text_callback("Oi! Vocês têm o tênis 42?", message_id="3EB0796DC6B777C0C7CD", momment=1632228638000)
    msg = one_message(adapter, payload)
    assert msg.provider_message_id == "3EB0796DC6B777C0C7CD"
    assert msg.from_phone == LEAD_E164
    assert msg.from_name == LEAD_NAME
    assert msg.timestamp == datetime.fromtimestamp(1632228638, UTC)
    assert msg.kind is MessageKind.text
    assert msg.text == "Oi! Vocês têm o tênis 42?"
    assert msg.media is None and msg.context_id is None and msg.is_group is False


def test_parse_reply_keeps_the_quoted_message_id(adapter):
    msg = one_message(adapter, text_callback("esse aqui", reference_message_id="D241AB732339502B68"))
    assert msg.context_id == "D241AB732339502B68"


def test_parse_accepts_the_received_callback_spelling_of_the_docs_table(adapter):
    msg = one_message(adapter, text_callback("oi", overrides={"type": "ReceivedCallBack"}))
    assert msg.text == "oi"


def test_parse_falls_back_to_chat_name(adapter):
    msg = one_message(adapter, text_callback("oi", overrides={"senderName": "", "chatName": "Dona Ana"}))
    assert msg.from_name == "Dona Ana"


@pytest.mark.parametrize(
    ("kind", "expected_kind", "mime"),
    [
        ("image", MessageKind.image, "image/jpeg"),
        ("video", MessageKind.video, "video/mp4"),
        ("sticker", MessageKind.sticker, "image/webp"),
    ],
)
def test_parse_media(adapter, kind, expected_kind, mime):
    url = f"https://storage.z-api.io/abc/file.{kind}"
    msg = one_message(adapter, media_callback(kind, url, caption="olha" if kind != "sticker" else ""))
    assert msg.kind is expected_kind
    assert msg.media is not None
    assert (msg.media.url, msg.media.mime_type, msg.media.voice) == (url, mime, False)
    assert msg.text == ("olha" if kind != "sticker" else "")


@pytest.mark.parametrize("ptt", [True, False])
def test_parse_audio_marks_voice_notes(adapter, ptt):
    msg = one_message(adapter, media_callback("audio", "https://storage.z-api.io/a.ogg", ptt=ptt))
    assert msg.kind is MessageKind.audio
    assert msg.media == Media(url="https://storage.z-api.io/a.ogg", mime_type="audio/ogg; codecs=opus", voice=ptt)


def test_parse_document_keeps_file_name_and_caption(adapter):
    payload = media_callback(
        "document", "https://storage.z-api.io/d.pdf", file_name="orcamento.pdf", caption="segue o orçamento"
    )
    msg = one_message(adapter, payload)
    assert msg.kind is MessageKind.document
    assert msg.media.filename == "orcamento.pdf"
    assert msg.media.mime_type == "application/pdf"
    assert msg.text == "segue o orçamento"


def test_parse_location(adapter):
    msg = one_message(adapter, location_callback(-23.5489, -46.6388, name="Loja Centro", address="Rua A, 10"))
    assert msg.kind is MessageKind.location
    assert (msg.location.latitude, msg.location.longitude) == (-23.5489, -46.6388)
    assert (msg.location.name, msg.location.address) == ("Loja Centro", "Rua A, 10")


def test_parse_location_without_name_or_address(adapter):
    msg = one_message(adapter, location_callback(-23.5, -46.6))
    assert msg.location.name is None and msg.location.address is None


def test_parse_button_reply(adapter):
    msg = one_message(adapter, button_reply_callback("comprar", "Quero comprar", reference_message_id="ABC123"))
    assert msg.kind is MessageKind.interactive
    assert (msg.reply_id, msg.text, msg.context_id) == ("comprar", "Quero comprar", "ABC123")


def test_parse_list_reply_uses_the_row_title(adapter):
    msg = one_message(adapter, list_reply_callback("tam-42", "Tamanho 42", "Pronta entrega"))
    assert msg.kind is MessageKind.interactive
    assert (msg.reply_id, msg.text) == ("tam-42", "Tamanho 42")


def test_parse_reaction(adapter):
    msg = one_message(adapter, reaction_callback("❤️", "D241AB732339502B68"))
    assert msg.kind is MessageKind.reaction
    assert (msg.text, msg.reaction_to) == ("❤️", "D241AB732339502B68")


def test_parse_unknown_content_is_unsupported(adapter):
    contact = {"contact": {"displayName": "Cesar", "vCard": "BEGIN:VCARD\nEND:VCARD", "phones": ["5544999999999"]}}
    msg = one_message(adapter, text_callback("x", overrides={"text": None, **contact}))
    assert msg.kind is MessageKind.unsupported


def test_parse_ignores_our_own_echoes(adapter):
    event = adapter.parse(webhook_request(from_me_echo("Olá! Temos sim.")))
    assert event.messages == [] and event.statuses == [] and event.ignored == 1


def test_parse_group_message_comes_from_the_participant(adapter):
    msg = one_message(adapter, group_callback("alguém tem o catálogo?", participant_phone="5521977776666", name="Zé"))
    assert msg.is_group is True
    assert msg.from_phone == "+5521977776666"
    assert msg.from_name == "Zé"


@pytest.mark.parametrize(
    "payload",
    [
        text_callback("oi", phone="81896604192873@lid"),
        group_callback("oi", participant_phone=None),
        group_callback("oi", participant_phone="9999999999999@lid"),
        text_callback("oi", phone="123"),
    ],
    ids=["lid-chat", "group-without-participant", "lid-participant", "unusable-number"],
)
def test_parse_skips_senders_without_a_usable_phone(adapter, payload):
    event = adapter.parse(webhook_request(payload))
    assert event.messages == [] and event.ignored == 1


@pytest.mark.parametrize(
    "payload",
    [
        notification_callback("CALL_MISSED_VOICE"),
        text_callback("", overrides={"waitingMessage": True, "text": None}),
        text_callback("lista", phone="1774895799-broadcast", overrides={"broadcast": True}),
        text_callback("canal", phone="120363166555745933@newsletter", overrides={"isNewsletter": True}),
    ],
    ids=["notification", "waiting-message", "broadcast", "newsletter"],
)
def test_parse_skips_non_conversation_callbacks(adapter, payload):
    event = adapter.parse(webhook_request(payload))
    assert event.messages == [] and event.statuses == [] and event.ignored == 1


# -- statuses -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zapi_status", "expected"),
    [
        ("SENT", DeliveryStatus.sent),
        ("RECEIVED", DeliveryStatus.delivered),
        ("READ", DeliveryStatus.read),
        ("PLAYED", DeliveryStatus.read),
    ],
)
def test_parse_status_gives_one_update_per_id(adapter, zapi_status, expected):
    event = adapter.parse(webhook_request(status_callback(["ID1", "ID2", "ID3"], zapi_status, momment=1632234645000)))
    assert [s.provider_message_id for s in event.statuses] == ["ID1", "ID2", "ID3"]
    assert {s.status for s in event.statuses} == {expected}
    assert {s.timestamp for s in event.statuses} == {datetime.fromtimestamp(1632234645, UTC)}
    assert event.messages == [] and event.ignored == 0


def test_parse_status_read_by_me_is_ignored(adapter):
    event = adapter.parse(webhook_request(status_callback(["ID1"], "READ_BY_ME")))
    assert event.statuses == [] and event.ignored == 1


def test_parse_delivery_ack_is_sent(adapter):
    event = adapter.parse(webhook_request(delivery_callback("A800FB3697F1DE58C48D")))
    [update] = event.statuses
    assert (update.provider_message_id, update.status, update.error) == ("A800FB3697F1DE58C48D", "sent", None)


def test_parse_delivery_error_is_failed(adapter):
    payload = delivery_callback(
        "A800FB", "The message was not sent due to a likely shadow ban", error_code="SHADOW_BAN"
    )
    [update] = adapter.parse(webhook_request(payload)).statuses
    assert update.status is DeliveryStatus.failed
    assert update.error == "SHADOW_BAN: The message was not sent due to a likely shadow ban"


@pytest.mark.parametrize("payload", [connected_callback(), disconnected_callback(), presence_callback()])
def test_parse_other_callbacks_carry_nothing(adapter, payload):
    event = adapter.parse(webhook_request(payload))
    assert event.messages == [] and event.statuses == [] and event.ignored == 1


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "JSON"),
        (b"\xff\xfe", "JSON"),
        (b"[1, 2]", "object"),
        (b'{"phone": "5511988887777"}', "type"),
        (b'{"type": "ReceivedCallback", "phone": "5511988887777"}', "messageId"),
        (b'{"type": "MessageStatusCallback", "status": "READ"}', "ids"),
        (b'{"type": "MessageStatusCallback", "status": "READ", "ids": "ID1"}', "ids"),
        (b'{"type": "DeliveryCallback", "phone": "5511988887777"}', "messageId"),
    ],
)
def test_parse_rejects_malformed_bodies_with_400(adapter, body, needle):
    with pytest.raises(WebhookRejected) as exc:
        adapter.parse(webhook_request(body))
    assert exc.value.status_code == 400
    assert needle in exc.value.detail


def test_parse_rejects_media_without_url_and_bad_timestamps(adapter):
    for payload in (
        text_callback("x", overrides={"text": None, "image": {"mimeType": "image/jpeg", "caption": ""}}),
        text_callback("x", momment="ontem"),
        location_callback(-23.5, -46.6, overrides={"location": {"latitude": "norte"}}),
    ):
        with pytest.raises(WebhookRejected) as exc:
            adapter.parse(webhook_request(payload))
        assert exc.value.status_code == 400


# -- media ----------------------------------------------------------------------------------------------


def test_download_media(fake):
    url = fake.add_media(b"OggS\x00voice-bytes", "audio/ogg", "ogg")
    media = Media(url=url, mime_type="audio/ogg; codecs=opus", voice=True)
    got = run_adapter(fake, lambda a: a.download_media(media))
    assert got.data == b"OggS\x00voice-bytes"
    assert got.mime_type == "audio/ogg; codecs=opus"
    assert len(fake.media_requests) == 1


def test_download_media_uses_the_served_type_when_the_callback_had_none(fake):
    url = fake.add_media(b"%PDF-1.4", "application/pdf", "pdf")
    got = run_adapter(fake, lambda a: a.download_media(Media(url=url, filename="orcamento.pdf")))
    assert (got.mime_type, got.filename) == ("application/pdf", "orcamento.pdf")


def test_download_expired_media_is_a_media_error(fake):
    url = fake.add_media(b"x", "image/jpeg", "jpg")
    fake.expire_media(url)
    with pytest.raises(MediaError, match="404"):
        run_adapter(fake, lambda a: a.download_media(Media(url=url)))


def test_download_media_without_url_is_a_media_error(fake):
    with pytest.raises(MediaError):
        run_adapter(fake, lambda a: a.download_media(Media(id="123")))


# -- sending --------------------------------------------------------------------------------------------


def test_send_text(fake):
    result = send(fake, OutboundMessage(to_phone="+55 11 98888-7777", kind=MessageKind.text, text="Temos sim! 😊"))
    req = fake.last
    assert req.path == f"/instances/{fake.instance_id}/token/{fake.token}/send-text"
    assert req.json == {"phone": "5511988887777", "message": "Temos sim! 😊"}
    assert req.headers["client-token"] == fake.client_token
    assert req.headers["content-type"] == "application/json"
    assert result.provider_message_id == req.message_id


def test_send_image_by_url_with_caption(fake):
    media = OutboundMedia(mime_type="image/jpeg", url="https://cdn.example.com/tenis.jpg")
    send(fake, OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.image, text="Modelo novo", media=media))
    assert fake.last.action == "send-image"
    assert fake.last.json == {
        "phone": LEAD_PHONE,
        "image": "https://cdn.example.com/tenis.jpg",
        "caption": "Modelo novo",
    }


def test_send_image_bytes_as_data_uri(fake):
    media = OutboundMedia(mime_type="image/png", data=b"\x89PNG\r\n")
    send(fake, OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.image, media=media))
    assert fake.last.json == {
        "phone": LEAD_PHONE,
        "image": "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n").decode(),
    }


def test_send_document(fake):
    media = OutboundMedia(mime_type="application/pdf", url="https://cdn.example.com/c.pdf", filename="Catálogo.PDF")
    send(fake, OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.document, text="Nosso catálogo", media=media))
    req = fake.last
    assert req.path == f"/instances/{fake.instance_id}/token/{fake.token}/send-document/pdf"
    assert req.json == {
        "phone": LEAD_PHONE,
        "document": "https://cdn.example.com/c.pdf",
        "fileName": "Catálogo.PDF",
        "caption": "Nosso catálogo",
    }


def test_send_document_bytes_takes_the_extension_from_the_mime_type(fake):
    media = OutboundMedia(mime_type="application/pdf", data=b"%PDF-1.4")
    send(fake, OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.document, media=media))
    assert fake.last.action == "send-document/pdf"
    assert fake.last.json == {
        "phone": LEAD_PHONE,
        "document": "data:application/pdf;base64," + base64.b64encode(b"%PDF-1.4").decode(),
        "fileName": "documento.pdf",
    }


def test_send_audio(fake):
    media = OutboundMedia(mime_type="audio/ogg; codecs=opus", data=b"OggS")
    send(fake, OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.audio, media=media))
    assert fake.last.action == "send-audio"
    assert fake.last.json == {"phone": LEAD_PHONE, "audio": "data:audio/ogg;base64,T2dnUw==", "waveform": True}


def test_send_video(fake):
    media = OutboundMedia(mime_type="video/mp4", url="https://cdn.example.com/v.mp4")
    send(fake, OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.video, text="veja", media=media))
    assert fake.last.json == {"phone": LEAD_PHONE, "video": "https://cdn.example.com/v.mp4", "caption": "veja"}


@pytest.mark.parametrize(
    "message",
    [
        OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.template, template=Template(name="boas_vindas")),
        OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.image),
        OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.text, text=""),
        OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.location),
    ],
    ids=["template", "image-without-media", "empty-text", "location"],
)
def test_unsendable_messages_are_refused_without_a_request(fake, message):
    with pytest.raises(SendError) as exc:
        send(fake, message)
    assert exc.value.retryable is False
    assert fake.requests == []


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        ("Message has not been sent because it got invalid phone number", False),
        ("Phone number does not exist", False),
        ("Whatsapp rejected sending this message", False),
        ("Timeout on send message", True),
        ("Error on send message", True),
        ("It was not possible to send message to queue due to request error.", True),
        ("You are not connected.", True),
    ],
)
def test_an_ok_answer_with_an_error_field_is_a_send_error(fake, error, retryable):
    fake.fail_next(status=200, error=error)
    with pytest.raises(SendError) as exc:
        send(fake, OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.text, text="oi"))
    assert exc.value.retryable is retryable
    assert error in exc.value.detail


@pytest.mark.parametrize(
    ("status", "failure"),
    [
        (500, SendFailure.unknown),
        (503, SendFailure.unknown),
        (429, SendFailure.retry),
        (400, SendFailure.refused),
        (401, SendFailure.refused),
    ],
)
def test_http_errors_are_classified(fake, status, failure):
    fake.fail_next(status=status)
    with pytest.raises(SendError) as exc:
        send(fake, OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.text, text="oi"))
    assert (exc.value.status_code, exc.value.failure) == (status, failure)
    # the failure was one-shot: the retry goes through
    send(fake, OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.text, text="oi"))
    assert len(fake.sent) == 1


@pytest.mark.parametrize(
    ("overrides", "status"),
    [({"client_token": "wrong"}, 403), ({"token": "wrong"}, 404), ({"instance_id": "wrong"}, 404)],
)
def test_bad_credentials_are_not_retryable_and_not_leaked(fake, overrides, status):
    with pytest.raises(SendError) as exc:
        send(fake, OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.text, text="oi"), **overrides)
    assert (exc.value.status_code, exc.value.retryable) == (status, False)
    assert fake.token not in exc.value.detail and fake.client_token not in exc.value.detail
    assert fake.sent == []


def test_missing_credential_is_not_retryable(fake):
    with pytest.raises(SendError) as exc:
        send(fake, OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.text, text="oi"), client_token="")
    assert exc.value.retryable is False
    assert fake.requests == []


def test_unreachable_provider_is_retryable(fake):
    config = dataclasses.replace(fake.channel_config(), api_base_url=f"http://127.0.0.1:{free_port()}")

    async def go():
        async with httpx.AsyncClient(timeout=2) as http:
            return await ZapiAdapter(config, http).send(
                OutboundMessage(to_phone=LEAD_E164, kind=MessageKind.text, text="oi")
            )

    with pytest.raises(SendError) as exc:
        asyncio.run(go())
    assert exc.value.retryable is True


def test_fake_answers_like_zapi_without_client_token(fake):
    """The fake itself: Z-API's error JSON for a missing Client-Token (what a misconfigured account sees)."""
    url = f"{fake.base_url}/instances/{fake.instance_id}/token/{fake.token}/send-text"
    resp = httpx.post(url, json={"phone": LEAD_PHONE, "message": "oi"})
    assert resp.status_code == 400
    assert resp.json() == {"error": "your client-token is not configured"}
