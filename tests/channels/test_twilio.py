"""TwilioAdapter against FakeTwilio on loopback: signatures, parsing, media, sends, errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from urllib.parse import urlencode

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
    SendError,
    SendFailure,
    Template,
    WebhookRejected,
    WebhookRequest,
)
from runtime.channels.twilio import TwilioAdapter
from tests.fakes.servers import serve_in_thread
from tests.fakes.twilio import (
    DEFAULT_BUSINESS,
    DEFAULT_CUSTOMER,
    FakeTwilio,
    inbound_button,
    inbound_location,
    inbound_media,
    inbound_text,
    new_sid,
    sign,
    signed_post,
    status_callback,
    webhook_request,
)

WEBHOOK_URL = "https://piloto.example.com/webhooks/twilio/6f1c2d9e-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    with serve_in_thread(fake.app()) as base_url:
        fake.base_url = base_url
        yield fake


@pytest.fixture
def fake(server: FakeTwilio) -> FakeTwilio:
    server.reset()
    return server


def make_config(fake: FakeTwilio, **credentials: str) -> ChannelConfig:
    creds = {"account_sid": fake.account_sid, "auth_token": fake.auth_token, "from_number": DEFAULT_BUSINESS}
    creds.update(credentials)
    return ChannelConfig(
        channel_id="6f1c2d9e-0000-4000-8000-000000000001",
        provider=Provider.twilio,
        api_base_url=fake.base_url or TwilioAdapter.default_api_base_url,
        credentials=creds,
        webhook_url=WEBHOOK_URL,
    )


def run(fake: FakeTwilio, action, **credentials: str):
    """Run `await action(adapter)` with a real httpx client (as registry.http_client builds it)."""

    async def main():
        async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0)) as http:
            return await action(TwilioAdapter(make_config(fake, **credentials), http))

    return asyncio.run(main())


def adapter(fake: FakeTwilio) -> TwilioAdapter:
    """For the synchronous methods (verify/parse), which never touch the client."""
    return TwilioAdapter(make_config(fake), httpx.AsyncClient())


def signed(fake: FakeTwilio, params, url: str = WEBHOOK_URL) -> WebhookRequest:
    body, headers = signed_post(url, params, fake.auth_token)
    return webhook_request(url, body, headers)


def parse_one(fake: FakeTwilio, params):
    req = signed(fake, params)
    a = adapter(fake)
    a.verify(req)
    event = a.parse(req)
    assert not event.statuses and len(event.messages) == 1, event
    return event.messages[0]


# -- protocol surface ---------------------------------------------------------------------------


def test_class_attributes():
    assert TwilioAdapter.provider == Provider.twilio
    assert TwilioAdapter.default_api_base_url == "https://api.twilio.com"
    assert TwilioAdapter.credential_fields == ("account_sid", "auth_token", "from_number")
    assert TwilioAdapter.has_service_window is True


def test_handshake_is_not_supported(fake):
    req = WebhookRequest("GET", WEBHOOK_URL, {}, {"hub.challenge": "x"}, b"")
    with pytest.raises(WebhookRejected) as exc:
        adapter(fake).handshake(req)
    assert exc.value.status_code == 405


# -- signature ----------------------------------------------------------------------------------


def test_valid_signature_passes(fake):
    adapter(fake).verify(signed(fake, inbound_text("Oi")))


def test_signature_is_twilios_documented_algorithm(fake):
    """Independent check of the builder: HMAC-SHA1 over URL + sorted name/value pairs, base64."""
    import base64
    import hashlib
    import hmac

    params = {"Body": "Oi", "From": "whatsapp:+5511999998888", "MessageSid": "SM1"}
    data = WEBHOOK_URL + "".join(k + params[k] for k in sorted(params))
    expected = base64.b64encode(hmac.new(b"tok", data.encode(), hashlib.sha1).digest()).decode()
    assert sign(WEBHOOK_URL, params, "tok") == expected


def test_missing_signature_is_401(fake):
    req = signed(fake, inbound_text("Oi"))
    headers = {k: v for k, v in req.headers.items() if k != "x-twilio-signature"}
    with pytest.raises(WebhookRejected) as exc:
        adapter(fake).verify(WebhookRequest("POST", req.url, headers, {}, req.body))
    assert exc.value.status_code == 401


def test_forged_signature_is_403(fake):
    req = signed(fake, inbound_text("Oi"))
    headers = {**req.headers, "x-twilio-signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    with pytest.raises(WebhookRejected) as exc:
        adapter(fake).verify(WebhookRequest("POST", req.url, headers, {}, req.body))
    assert exc.value.status_code == 403


def test_signature_for_another_url_is_403(fake):
    other = "https://piloto.example.com/webhooks/twilio/another-channel"
    body, headers = signed_post(other, inbound_text("Oi"), fake.auth_token)
    with pytest.raises(WebhookRejected) as exc:
        adapter(fake).verify(webhook_request(WEBHOOK_URL, body, headers))
    assert exc.value.status_code == 403


def test_altered_param_is_403(fake):
    params = inbound_text("Quero 1 unidade")
    _, headers = signed_post(WEBHOOK_URL, params, fake.auth_token)
    tampered = urlencode({**params, "Body": "Quero 100 unidades"}).encode()
    with pytest.raises(WebhookRejected) as exc:
        adapter(fake).verify(webhook_request(WEBHOOK_URL, tampered, headers))
    assert exc.value.status_code == 403


def test_added_param_is_403(fake):
    params = inbound_text("Oi")
    body, headers = signed_post(WEBHOOK_URL, params, fake.auth_token)
    with pytest.raises(WebhookRejected) as exc:
        adapter(fake).verify(webhook_request(WEBHOOK_URL, body + b"&Extra=1", headers))
    assert exc.value.status_code == 403


def test_other_auth_token_is_403(fake):
    body, headers = signed_post(WEBHOOK_URL, inbound_text("Oi"), "some-other-accounts-token")
    with pytest.raises(WebhookRejected) as exc:
        adapter(fake).verify(webhook_request(WEBHOOK_URL, body, headers))
    assert exc.value.status_code == 403


def test_channel_without_auth_token_refuses_everything(fake):
    body, headers = signed_post(WEBHOOK_URL, inbound_text("Oi"), "")
    a = TwilioAdapter(make_config(fake, auth_token=""), httpx.AsyncClient())
    with pytest.raises(WebhookRejected) as exc:
        a.verify(webhook_request(WEBHOOK_URL, body, headers))
    assert exc.value.status_code == 403


def test_repeated_keys_are_signed_and_checked(fake):
    pairs = [*inbound_text("Oi").items(), ("Tag", "b"), ("Tag", "a")]
    adapter(fake).verify(signed(fake, pairs))
    # Dropping one of the repeated values breaks the signature.
    body, headers = signed_post(WEBHOOK_URL, pairs, fake.auth_token)
    with pytest.raises(WebhookRejected) as exc:
        adapter(fake).verify(webhook_request(WEBHOOK_URL, body.replace(b"&Tag=a", b""), headers))
    assert exc.value.status_code == 403


def test_url_with_explicit_default_port_still_validates(fake):
    """The SDK checks the URL with and without the port, as Twilio's signing is inconsistent."""
    body, headers = signed_post("https://piloto.example.com:443/webhooks/twilio/x", inbound_text("Oi"), fake.auth_token)
    adapter(fake).verify(webhook_request("https://piloto.example.com/webhooks/twilio/x", body, headers))


@pytest.mark.parametrize("body", [b"MessageSid=SM1&&Body=x", b"MessageSid", b"Body=%C3%28", b"\xff\xfe"])
def test_malformed_body_is_400(fake, body):
    headers = {"x-twilio-signature": sign(WEBHOOK_URL, {}, fake.auth_token)}
    req = WebhookRequest("POST", WEBHOOK_URL, headers, {}, body)
    for step in (adapter(fake).verify, adapter(fake).parse):
        with pytest.raises(WebhookRejected) as exc:
            step(req)
        assert exc.value.status_code == 400


def test_form_without_message_sid_is_400(fake):
    with pytest.raises(WebhookRejected) as exc:
        adapter(fake).parse(signed(fake, {"Body": "Oi"}))
    assert exc.value.status_code == 400


# -- inbound messages ---------------------------------------------------------------------------


def test_parse_text(fake):
    params = inbound_text("Oi, tem pronta entrega?", profile_name="Ana Souza", account_sid=fake.account_sid)
    msg = parse_one(fake, params)
    assert msg.provider_message_id == params["MessageSid"]
    assert msg.from_phone == DEFAULT_CUSTOMER
    assert msg.from_name == "Ana Souza"
    assert msg.kind == MessageKind.text
    assert msg.text == "Oi, tem pronta entrega?"
    assert msg.media is None and msg.location is None and msg.context_id is None
    assert msg.timestamp.tzinfo is not None
    assert msg.is_group is False


def test_parse_reply_carries_context_id(fake):
    quoted = new_sid("SM")
    msg = parse_one(fake, inbound_text("Esse mesmo", replied_to=quoted))
    assert msg.context_id == quoted


def test_parse_image_with_caption(fake):
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    msg = parse_one(fake, inbound_media([(url, "image/jpeg")], body="Tem nessa cor?"))
    assert msg.kind == MessageKind.image
    assert msg.text == "Tem nessa cor?"
    assert msg.media is not None
    assert (msg.media.url, msg.media.mime_type, msg.media.voice) == (url, "image/jpeg", False)


def test_parse_voice_note(fake):
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM2/Media/ME2"
    msg = parse_one(fake, inbound_media([(url, "audio/ogg")]))
    assert msg.kind == MessageKind.audio
    assert msg.media is not None and msg.media.voice is True and msg.media.mime_type == "audio/ogg"


def test_parse_audio_file_is_not_a_voice_note(fake):
    msg = parse_one(fake, inbound_media([("https://api.twilio.com/m/ME3", "audio/mpeg")]))
    assert msg.kind == MessageKind.audio
    assert msg.media is not None and msg.media.voice is False


def test_parse_pdf(fake):
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM4/Media/ME4"
    msg = parse_one(fake, inbound_media([(url, "application/pdf")], body="orcamento.pdf"))
    assert msg.kind == MessageKind.document
    assert msg.media is not None and msg.media.mime_type == "application/pdf"


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("video/mp4", MessageKind.video),
        ("image/webp", MessageKind.sticker),
        ("text/vcard", MessageKind.unsupported),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", MessageKind.document),
    ],
)
def test_parse_other_media_kinds(fake, content_type, kind):
    msg = parse_one(fake, inbound_media([("https://api.twilio.com/m/ME5", content_type)]))
    assert msg.kind == kind
    assert msg.media is not None and msg.media.url == "https://api.twilio.com/m/ME5"


def test_parse_several_media_keeps_the_first_and_the_rest_in_extra(fake):
    items = [("https://api.twilio.com/m/A", "image/jpeg"), ("https://api.twilio.com/m/B", "image/png")]
    msg = parse_one(fake, inbound_media(items))
    assert msg.media is not None and msg.media.url == "https://api.twilio.com/m/A"
    assert msg.media.extra["num_media"] == 2
    assert msg.media.extra["other_media"] == [("https://api.twilio.com/m/B", "image/png")]


def test_parse_location(fake):
    msg = parse_one(fake, inbound_location(-23.5617, -46.6559, address="Av. Paulista, 1578 - São Paulo", label="MASP"))
    assert msg.kind == MessageKind.location
    assert msg.location is not None
    assert (msg.location.latitude, msg.location.longitude) == (-23.5617, -46.6559)
    assert msg.location.name == "MASP"
    assert msg.location.address == "Av. Paulista, 1578 - São Paulo"


def test_parse_bare_location(fake):
    msg = parse_one(fake, inbound_location(-22.9, -43.2))
    assert msg.location is not None and msg.location.name is None and msg.location.address is None


def test_parse_button(fake):
    template_sid = new_sid("SM")
    msg = parse_one(fake, inbound_button("Quero comprar", "buy_now", replied_to=template_sid))
    assert msg.kind == MessageKind.interactive
    assert msg.text == "Quero comprar"
    assert msg.reply_id == "buy_now"
    assert msg.context_id == template_sid


def test_parse_unknown_message_type_is_unsupported(fake):
    params = inbound_text("")
    params["MessageType"] = "reaction"
    msg = parse_one(fake, params)
    assert msg.kind == MessageKind.unsupported


def test_sms_to_the_same_number_is_ignored(fake):
    params = inbound_text("oi")
    params["From"] = "+5511999998888"
    params["To"] = "+5511955550000"
    event = adapter(fake).parse(signed(fake, params))
    assert event.messages == [] and event.ignored == 1


def test_sender_without_phone_number_is_ignored(fake):
    params = inbound_text("oi")
    params["From"] = "whatsapp:BR.1234567890abcdef"
    del params["WaId"]
    event = adapter(fake).parse(signed(fake, params))
    assert event.messages == [] and event.ignored == 1


# -- status callbacks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [("sent", DeliveryStatus.sent), ("delivered", DeliveryStatus.delivered), ("read", DeliveryStatus.read)],
)
def test_parse_status(fake, status, expected):
    sid = new_sid("SM")
    req = signed(fake, status_callback(sid, status))
    adapter(fake).verify(req)
    event = adapter(fake).parse(req)
    assert event.messages == []
    [update] = event.statuses
    assert (update.provider_message_id, update.status, update.error) == (sid, expected, None)


def test_parse_failed_status_with_error_code(fake):
    sid = new_sid("SM")
    params = status_callback(sid, "failed", 63016, error_message="Outside the allowed window")
    [update] = adapter(fake).parse(signed(fake, params)).statuses
    assert update.status == DeliveryStatus.failed
    assert update.error == "Twilio 63016: Outside the allowed window"


def test_parse_undelivered_status_with_code_only(fake):
    [update] = adapter(fake).parse(signed(fake, status_callback("SM1", "undelivered", 30003))).statuses
    assert update.status == DeliveryStatus.failed
    assert update.error == "Twilio 30003: undelivered"


@pytest.mark.parametrize("status", ["queued", "sending", "accepted", "something-new"])
def test_intermediate_statuses_are_ignored(fake, status):
    event = adapter(fake).parse(signed(fake, status_callback("SM1", status)))
    assert event.statuses == [] and event.messages == [] and event.ignored == 1


# -- media download -----------------------------------------------------------------------------


def test_download_media_with_basic_auth_and_redirect(fake):
    url = fake.add_media(b"OggS\x00voice", "audio/ogg")
    downloaded = run(fake, lambda a: a.download_media(Media(url=url, mime_type="audio/ogg", voice=True)))
    assert downloaded.data == b"OggS\x00voice"
    assert downloaded.mime_type == "audio/ogg"
    api, cdn = fake.media_requests
    assert api.authorization == fake.basic_auth
    assert cdn.path.startswith("/cdn/")


def test_download_media_served_directly(fake):
    url = fake.add_media(b"%PDF-1.7", "application/pdf", redirect=False)
    downloaded = run(fake, lambda a: a.download_media(Media(url=url)))
    assert (downloaded.data, downloaded.mime_type) == (b"%PDF-1.7", "application/pdf")


def test_download_media_with_wrong_credentials_is_media_error(fake):
    url = fake.add_media(b"x", "image/jpeg")
    with pytest.raises(MediaError):
        run(fake, lambda a: a.download_media(Media(url=url)), auth_token="wrong")


def test_download_missing_media_is_media_error(fake):
    with pytest.raises(MediaError):
        run(fake, lambda a: a.download_media(Media(url=f"{fake.base_url}/2010-04-01/Accounts/x/Messages/y/Media/z")))
    with pytest.raises(MediaError):
        run(fake, lambda a: a.download_media(Media(url=None)))


def test_credentials_never_go_to_a_foreign_host(fake):
    adapter_ = adapter(fake)
    assert adapter_._is_twilio_host(f"{fake.base_url}/2010-04-01/x")
    assert adapter_._is_twilio_host("https://api.twilio.com/2010-04-01/x")
    assert not adapter_._is_twilio_host("https://evil.example.com/twilio.com/x")
    assert not adapter_._is_twilio_host("https://api.twilio.com.evil.example/x")
    assert not adapter_._is_twilio_host("http://api.twilio.com/x")


# -- sending ------------------------------------------------------------------------------------


def test_send_text(fake):
    result = run(
        fake, lambda a: a.send(OutboundMessage(to_phone="+55 11 98888-7777", kind=MessageKind.text, text="Olá!"))
    )
    [sent] = fake.sent
    assert result.provider_message_id == sent.sid
    assert sent.sid is not None and sent.sid.startswith("SM") and len(sent.sid) == 34
    assert sent.path == f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    assert sent.headers["authorization"] == fake.basic_auth
    assert sent.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert sent.form == {
        "From": f"whatsapp:{DEFAULT_BUSINESS}",
        "To": "whatsapp:+5511988887777",
        "Body": "Olá!",
        "StatusCallback": WEBHOOK_URL,
    }


def test_send_accepts_from_number_with_whatsapp_prefix(fake):
    run(
        fake,
        lambda a: a.send(OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.text, text="oi")),
        from_number=f"whatsapp:{DEFAULT_BUSINESS}",
    )
    assert fake.sent[0].form["From"] == f"whatsapp:{DEFAULT_BUSINESS}"


def test_send_image_by_url(fake):
    media = OutboundMedia(mime_type="image/jpeg", url="https://cdn.loja.example/tenis.jpg")
    msg = OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.image, text="Olha esse", media=media)
    run(fake, lambda a: a.send(msg))
    assert fake.sent[0].form == {
        "From": f"whatsapp:{DEFAULT_BUSINESS}",
        "To": f"whatsapp:{DEFAULT_CUSTOMER}",
        "Body": "Olha esse",
        "MediaUrl": "https://cdn.loja.example/tenis.jpg",
        "StatusCallback": WEBHOOK_URL,
    }


def test_send_audio_has_no_caption(fake):
    media = OutboundMedia(mime_type="audio/ogg", url="https://cdn.loja.example/a.ogg")
    msg = OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.audio, text="ignored", media=media)
    run(fake, lambda a: a.send(msg))
    assert "Body" not in fake.sent[0].form and fake.sent[0].form["MediaUrl"] == media.url


def test_send_template(fake):
    template = Template(name="HX" + "b" * 32, variables=["Maria", "sexta-feira às 14h"])
    msg = OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.template, template=template)
    run(fake, lambda a: a.send(msg))
    form = fake.sent[0].form
    assert form["ContentSid"] == template.name
    assert json.loads(form["ContentVariables"]) == {"1": "Maria", "2": "sexta-feira às 14h"}
    assert "Body" not in form
    assert form["StatusCallback"] == WEBHOOK_URL


def test_send_template_without_variables(fake):
    msg = OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.template, template=Template(name="HX1"))
    run(fake, lambda a: a.send(msg))
    assert "ContentVariables" not in fake.sent[0].form


def test_bytes_only_media_is_refused_without_a_request(fake):
    media = OutboundMedia(mime_type="image/png", data=b"\x89PNG")
    msg = OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.image, media=media)
    with pytest.raises(SendError) as exc:
        run(fake, lambda a: a.send(msg))
    assert exc.value.retryable is False
    assert "public URL" in exc.value.detail
    assert fake.requests == []


@pytest.mark.parametrize(
    "msg",
    [
        OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.location),
        OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.template),
        OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.document),
        OutboundMessage(to_phone="123", kind=MessageKind.text, text="x"),
    ],
)
def test_unsendable_messages_are_not_retryable(fake, msg):
    with pytest.raises(SendError) as exc:
        run(fake, lambda a: a.send(msg))
    assert exc.value.retryable is False
    assert fake.requests == []


@pytest.mark.parametrize(
    ("status", "failure"),
    [(500, SendFailure.unknown), (503, SendFailure.unknown), (429, SendFailure.retry), (400, SendFailure.refused)],
)
def test_error_classification(fake, status, failure):
    """Only a 429 (or a 503 with Retry-After) proves Twilio took nothing; a bare 5xx may not."""
    fake.fail_next(1, status=status)
    with pytest.raises(SendError) as exc:
        run(fake, lambda a: a.send(OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.text, text="oi")))
    assert exc.value.failure is failure
    assert exc.value.status_code == status
    code = {500: 20500, 503: 20503, 429: 20429, 400: 21211}[status]
    assert f"Twilio {code}" in exc.value.detail
    assert f"https://www.twilio.com/docs/errors/{code}" in exc.value.detail
    assert fake.sent == []
    # The failure is consumed: the next attempt goes through.
    run(fake, lambda a: a.send(OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.text, text="oi")))
    assert len(fake.sent) == 1


def test_wrong_credentials_are_401_not_retryable(fake):
    with pytest.raises(SendError) as exc:
        run(
            fake,
            lambda a: a.send(OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.text, text="oi")),
            auth_token="wrong",
        )
    assert (exc.value.status_code, exc.value.retryable) == (401, False)
    assert "Twilio 20003" in exc.value.detail and "Authenticate" in exc.value.detail


def test_twilio_business_error_detail(fake):
    fake.fail_next(1, status=400, code=63016, message="Failed to send freeform message outside the window")
    with pytest.raises(SendError) as exc:
        run(fake, lambda a: a.send(OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.text, text="oi")))
    assert exc.value.detail.startswith("Twilio 63016 (HTTP 400): Failed to send freeform message")
    assert exc.value.retryable is False


def test_connection_refused_is_retryable(fake):
    from tests.fakes.servers import free_port

    async def send(a: TwilioAdapter):
        a._api_base = f"http://127.0.0.1:{free_port()}"
        return await a.send(OutboundMessage(to_phone=DEFAULT_CUSTOMER, kind=MessageKind.text, text="oi"))

    with pytest.raises(SendError) as exc:
        run(fake, send)
    assert exc.value.retryable is True and exc.value.status_code is None


# -- the builders look like Twilio's posts ------------------------------------------------------


def test_builders_carry_twilios_fields():
    text = inbound_text("oi")
    assert text["SmsStatus"] == "received" and "MessageStatus" not in text
    assert text["From"] == f"whatsapp:{DEFAULT_CUSTOMER}" and text["WaId"] == DEFAULT_CUSTOMER[1:]
    assert text["MessageSid"] == text["SmsSid"] == text["SmsMessageSid"] and len(text["MessageSid"]) == 34
    media = inbound_media([("https://x/m", "image/jpeg")])
    assert media["MessageSid"].startswith("MM") and media["NumMedia"] == "1"
    status = status_callback("SM1", "delivered")
    assert status["MessageStatus"] == status["SmsStatus"] == "delivered" and status["EventType"] == "DELIVERED"
    assert "Body" not in status and "NumMedia" not in status
