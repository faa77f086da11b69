"""Twilio Programmable Messaging for WhatsApp.

Wire format (checked against Twilio's docs and captured payloads, see tests/fakes/twilio.py):

* Webhooks are ``application/x-www-form-urlencoded`` POSTs signed with ``X-Twilio-Signature``:
  base64(HMAC-SHA1(auth_token, url + sorted(name + value)...)). Validation uses the twilio SDK's
  ``RequestValidator`` so the canonicalization (ports, repeated keys) is Twilio's own; its
  ``compare`` walks every character of equal-length strings (constant time for the fixed-length
  signature). Webhooks carry no timestamp, so events are stamped with the time we receive them.
* An inbound message carries ``MessageSid``, ``From``/``To`` as ``whatsapp:+E164``, ``Body``,
  ``ProfileName``, ``WaId``, ``NumMedia`` + ``MediaUrl{N}``/``MediaContentType{N}``, ``MessageType``
  (text, image, audio, location, button, interactive, contacts...), ``Latitude``/``Longitude``/
  ``Address``/``Label``, ``ButtonText``/``ButtonPayload`` and ``OriginalRepliedMessageSid``;
  its ``SmsStatus`` is ``received`` and it has no ``MessageStatus``.
* A status callback carries ``MessageSid`` + ``MessageStatus`` (queued, sending, sent, delivered,
  read, failed, undelivered...) and, on failure, ``ErrorCode`` (+ sometimes ``ErrorMessage``).
* Twilio documents no reaction fields for inbound WhatsApp, so reactions are not parsed: a
  message we cannot name (MessageType reaction, contacts, ...) becomes ``MessageKind.unsupported``.
* A sender whose ``From`` is not a phone number (a WhatsApp business-scoped user id,
  ``whatsapp:<BSUID>``) and has no ``WaId`` digits is ignored: there is no number to answer.
* Sends are ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP Basic
  (account_sid, auth_token); errors come back as ``{"code", "message", "more_info", "status"}``.

The REST call goes through the shared async ``httpx`` client rather than the SDK's ``Client``:
the SDK's HTTP layer is synchronous ``requests`` and would block the event loop (and bypass the
shared timeouts and failure classification in ``runtime.channels.http``). The SDK is used for
what it is authoritative on: signature validation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import httpx
from twilio.request_validator import RequestValidator, get_signature_algorithm

from db.models import Provider
from runtime.contacts import ContactError, normalize_phone

from .base import (
    ChannelConfig,
    CredentialSpec,
    DeliveryStatus,
    DownloadedMedia,
    InboundMessage,
    Location,
    Media,
    MediaError,
    MessageKind,
    OutboundMessage,
    ParsedEvent,
    SendError,
    SendFailure,
    SendResult,
    StatusUpdate,
    WebhookAck,
    WebhookRejected,
    WebhookRequest,
)
from .http import fetch_media, send_request

_WHATSAPP_PREFIX = "whatsapp:"
_MAX_FORM_FIELDS = 500

# MessageStatus -> normalized status; None: understood, not worth recording (not yet sent).
_STATUSES: dict[str, DeliveryStatus | None] = {
    "accepted": None,
    "scheduled": None,
    "queued": None,
    "sending": None,
    "sent": DeliveryStatus.sent,
    "delivered": DeliveryStatus.delivered,
    "read": DeliveryStatus.read,
    "failed": DeliveryStatus.failed,
    "undelivered": DeliveryStatus.failed,
    "canceled": DeliveryStatus.failed,
}
_INBOUND_STATUSES = frozenset({"received", "receiving"})
_VCARD_TYPES = frozenset({"text/vcard", "text/x-vcard", "text/directory"})
_OUTBOUND_MEDIA_KINDS = frozenset({MessageKind.image, MessageKind.audio, MessageKind.video, MessageKind.document})


class _FormParams(dict[str, list[str]]):
    """Form fields with every value of a repeated key, in the shape the SDK's validator reads
    (it calls ``getall`` like a MultiDict, so repeated keys are signed exactly as Twilio does)."""

    def getall(self, name: str) -> list[str]:
        return self[name]

    def first(self, name: str) -> str | None:
        values = self.get(name)
        return values[0] if values else None


def _parse_form(body: bytes) -> _FormParams:
    """Strictly parse an x-www-form-urlencoded body; anything malformed is a 400."""
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=_MAX_FORM_FIELDS,
        )
    except ValueError as exc:  # UnicodeDecodeError included
        raise WebhookRejected(400, f"malformed form body: {type(exc).__name__}") from exc
    params = _FormParams()
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def _base_mime(mime: str | None) -> str:
    return (mime or "").split(";", 1)[0].strip().lower()


def _media_kind(mime: str, message_type: str) -> MessageKind:
    """WhatsApp media kind from Twilio's MediaContentType (MessageType as a hint)."""
    if message_type == "sticker" or mime == "image/webp":  # WhatsApp stickers are WebP
        return MessageKind.sticker
    if message_type == "contacts" or mime in _VCARD_TYPES:
        return MessageKind.unsupported  # a shared contact card: kept as media, not understood
    major = mime.split("/", 1)[0]
    if major == "image":
        return MessageKind.image
    if major == "audio":
        return MessageKind.audio
    if major == "video":
        return MessageKind.video
    if major in ("application", "text"):
        return MessageKind.document
    return MessageKind.unsupported


def _phone(value: str | None) -> str | None:
    """'whatsapp:+5511...' (or bare digits) -> E.164, or None when it is not a phone number
    (e.g. a WhatsApp business-scoped user id 'whatsapp:<BSUID>' with the number hidden)."""
    if not value:
        return None
    value = value.removeprefix(_WHATSAPP_PREFIX)
    if not value.lstrip("+").isdigit():
        return None
    try:
        return normalize_phone(value)
    except ContactError:
        return None


class TwilioAdapter:
    provider: ClassVar[Provider] = Provider.twilio
    slug: ClassVar[str] = "twilio"
    label: ClassVar[str] = "Twilio"
    description: ClassVar[str] = "API oficial do WhatsApp pela Twilio."
    setup_hint: ClassVar[str] = (
        "Na Twilio, no remetente do WhatsApp, cole este endereço em “When a message comes in” e em Status callback."
    )
    default_api_base_url: ClassVar[str] = "https://api.twilio.com"
    self_hosted: ClassVar[bool] = False
    credential_specs: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("account_sid", "Account SID", False, "No Console da Twilio, começa com AC."),
        CredentialSpec("auth_token", "Auth Token", True, "No Console da Twilio, ao lado do Account SID."),
        CredentialSpec(
            "from_number",
            "Número do WhatsApp (remetente)",
            False,
            "O número habilitado para WhatsApp na Twilio, ex. +55 11 99999-8888.",
        ),
    )
    credential_fields: ClassVar[tuple[str, ...]] = tuple(c.key for c in credential_specs)
    api_credentials: ClassVar[tuple[str, ...]] = ("auth_token",)
    webhook_secret_in_url: ClassVar[bool] = False  # Twilio signs every POST (X-Twilio-Signature)
    custom_webhook_headers: ClassVar[bool] = False
    # Twilio reads the answer as TwiML: an empty <Response> sends nothing back to the lead.
    webhook_ack: ClassVar[WebhookAck | None] = WebhookAck("<Response></Response>", "text/xml")
    has_service_window: ClassVar[bool] = True
    sends_media_bytes: ClassVar[bool] = False  # MediaUrl only: Twilio fetches the media itself

    def __init__(self, config: ChannelConfig, http: httpx.AsyncClient) -> None:
        self._config = config
        self._http = http
        self._account_sid = (config.credentials.get("account_sid") or "").strip()
        self._auth_token = config.credentials.get("auth_token") or ""
        self._from_number = (config.credentials.get("from_number") or "").strip()
        self._api_base = config.api_base_url.rstrip("/")

    # -- webhooks ---------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest) -> str:
        raise WebhookRejected(405, "Twilio webhooks are POSTs; there is no GET verification")

    def verify(self, request: WebhookRequest) -> None:
        signature = request.headers.get("x-twilio-signature", "")
        if not signature:
            raise WebhookRejected(401, "missing X-Twilio-Signature")
        if not self._auth_token:  # an empty HMAC key would let anyone sign
            raise WebhookRejected(403, "channel has no Twilio auth token")
        params = _parse_form(request.body)
        # Without the header this is Twilio's default (HMAC-SHA1 keyed with the auth token).
        algorithm = get_signature_algorithm(request.headers.get("x-twilio-webhooks-signature-settings"))
        if not RequestValidator(self._auth_token).validate(request.url, params, signature, algorithm):
            raise WebhookRejected(403, "invalid X-Twilio-Signature")

    def parse(self, request: WebhookRequest) -> ParsedEvent:
        params = _parse_form(request.body)
        sid = params.first("MessageSid") or params.first("SmsSid")
        if not sid:
            raise WebhookRejected(400, "not a Twilio messaging webhook: no MessageSid")
        now = datetime.now(UTC)
        status = (params.first("MessageStatus") or "").lower()
        if status and status not in _INBOUND_STATUSES:
            return self._parse_status(sid, status, params, now)
        message = self._parse_message(sid, params, now)
        return ParsedEvent(messages=[message]) if message else ParsedEvent(ignored=1)

    def _parse_status(self, sid: str, status: str, params: _FormParams, now: datetime) -> ParsedEvent:
        normalized = _STATUSES.get(status)
        if normalized is None:
            return ParsedEvent(ignored=1)
        error = None
        if normalized is DeliveryStatus.failed:
            code = params.first("ErrorCode")
            detail = params.first("ErrorMessage") or status
            error = f"Twilio {code}: {detail}" if code else detail
        return ParsedEvent(statuses=[StatusUpdate(sid, normalized, now, error)])

    def _parse_message(self, sid: str, params: _FormParams, now: datetime) -> InboundMessage | None:
        raw_from = params.first("From") or ""
        if not raw_from.startswith(_WHATSAPP_PREFIX):
            return None  # an SMS to the same Twilio number: not this channel's conversation
        phone = _phone(raw_from) or _phone(params.first("WaId"))
        if phone is None:
            return None  # no phone number to answer (WhatsApp username without a number)
        message_type = (params.first("MessageType") or "").lower()
        body = params.first("Body") or ""
        common: dict[str, Any] = {
            "provider_message_id": sid,
            "from_phone": phone,
            "from_name": params.first("ProfileName") or "",
            "timestamp": now,
            "context_id": params.first("OriginalRepliedMessageSid") or None,
        }

        latitude, longitude = params.first("Latitude"), params.first("Longitude")
        if latitude and longitude:
            try:
                location = Location(
                    latitude=float(latitude),
                    longitude=float(longitude),
                    name=params.first("Label") or None,
                    address=params.first("Address") or None,
                )
            except ValueError as exc:
                raise WebhookRejected(400, "malformed Latitude/Longitude") from exc
            return InboundMessage(**common, kind=MessageKind.location, text=body, location=location)

        button_text, button_payload = params.first("ButtonText"), params.first("ButtonPayload")
        if button_text is not None or button_payload is not None or message_type in ("button", "interactive"):
            return InboundMessage(
                **common,
                kind=MessageKind.interactive,
                text=button_text or body,
                reply_id=button_payload or None,
            )

        media = self._first_media(params, message_type)
        if media is not None:
            kind = _media_kind(media.mime_type or "", message_type)
            return InboundMessage(**common, kind=kind, text=body, media=media)

        if body or message_type in ("", "text"):
            return InboundMessage(**common, kind=MessageKind.text, text=body)
        return InboundMessage(**common, kind=MessageKind.unsupported, text=body)

    @staticmethod
    def _first_media(params: _FormParams, message_type: str) -> Media | None:
        """The first attachment. WhatsApp messages carry one medium each; should Twilio ever
        send more, the others are kept in ``extra['other_media']`` as (url, content type)."""
        try:
            count = int(params.first("NumMedia") or "0")
        except ValueError as exc:
            raise WebhookRejected(400, "malformed NumMedia") from exc
        items = [
            (url, params.first(f"MediaContentType{i}") or "")
            for i in range(min(max(count, 0), 10))
            if (url := params.first(f"MediaUrl{i}"))
        ]
        if not items:
            return None
        url, content_type = items[0]
        mime = _base_mime(content_type)
        extra: dict[str, Any] = {"num_media": count}
        if len(items) > 1:
            extra["other_media"] = items[1:]
        return Media(
            url=url,
            mime_type=mime or None,
            # WhatsApp voice notes arrive as audio/ogg (Opus); audio files as mp3/m4a/aac/amr.
            voice=mime == "audio/ogg" and message_type in ("", "audio", "voice"),
            extra=extra,
        )

    # -- media ------------------------------------------------------------------------------

    def _is_twilio_host(self, url: str) -> bool:
        """Only Twilio (or the configured API origin) ever sees the account credentials."""
        target, api = urlsplit(url), urlsplit(self._api_base)
        if (target.scheme, target.netloc) == (api.scheme, api.netloc):
            return True
        host = (target.hostname or "").lower()
        return target.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))

    async def download_media(self, media: Media) -> DownloadedMedia:
        if not media.url:
            raise MediaError("Twilio media has no URL")
        kwargs: dict[str, Any] = {}
        if self._is_twilio_host(media.url) and self._account_sid and self._auth_token:
            # Twilio answers with a redirect to a short-lived CDN URL; fetch_media drops the
            # credentials when a redirect leaves the origin, as it should.
            kwargs["auth"] = (self._account_sid, self._auth_token)
        resp = await fetch_media(media.url, **kwargs)
        mime = _base_mime(resp.headers.get("content-type")) or media.mime_type or "application/octet-stream"
        return DownloadedMedia(data=resp.content, mime_type=mime, filename=media.filename)

    # -- sending ----------------------------------------------------------------------------

    def _form(self, message: OutboundMessage) -> dict[str, str]:
        if not (self._account_sid and self._auth_token and self._from_number):
            raise SendError("Twilio channel is missing account_sid, auth_token or from_number", retryable=False)
        try:
            from_phone = normalize_phone(self._from_number.removeprefix(_WHATSAPP_PREFIX))
            to_phone = normalize_phone(message.to_phone.removeprefix(_WHATSAPP_PREFIX))
        except ContactError as exc:
            raise SendError(f"invalid phone number: {exc}", retryable=False) from exc
        form = {"From": _WHATSAPP_PREFIX + from_phone, "To": _WHATSAPP_PREFIX + to_phone}

        if message.kind == MessageKind.text:
            form["Body"] = message.text
        elif message.kind in _OUTBOUND_MEDIA_KINDS:
            media = message.media
            if media is None:
                raise SendError(f"{message.kind} message without media", retryable=False)
            if not media.url:
                raise SendError(
                    "Twilio only sends media from a public URL (MediaUrl); this media has only bytes",
                    retryable=False,
                )
            if message.text and message.kind != MessageKind.audio:  # WhatsApp audio has no caption
                form["Body"] = message.text
            form["MediaUrl"] = media.url
        elif message.kind == MessageKind.template:
            template = message.template
            if template is None or not template.name:
                raise SendError("template message without a ContentSid", retryable=False)
            form["ContentSid"] = template.name
            if template.variables:
                variables = {str(i): value for i, value in enumerate(template.variables, start=1)}
                form["ContentVariables"] = json.dumps(variables, ensure_ascii=False)
        else:
            raise SendError(f"Twilio adapter cannot send {message.kind} messages", retryable=False)

        if self._config.webhook_url:
            form["StatusCallback"] = self._config.webhook_url
        return form

    async def send(self, message: OutboundMessage) -> SendResult:
        form = self._form(message)
        url = f"{self._api_base}/2010-04-01/Accounts/{self._account_sid}/Messages.json"
        try:
            resp = await send_request(
                self._http,
                "POST",
                url,
                data=form,
                auth=(self._account_sid, self._auth_token),
                headers={"Accept": "application/json"},
            )
        except SendError as exc:
            raise _with_twilio_detail(exc) from exc
        try:
            sid = resp.json()["sid"]
        except (ValueError, KeyError, TypeError) as exc:
            # Twilio took the message; retrying could send it twice.
            raise SendError(
                "Twilio accepted the message but its answer has no sid", failure=SendFailure.unknown
            ) from exc
        return SendResult(str(sid))


def _with_twilio_detail(exc: SendError) -> SendError:
    """Rewrite send_request's 'HTTP 400: {json}' into Twilio's code + message + more_info."""
    if exc.status_code is None:
        return exc
    _, _, raw = exc.detail.partition(": ")
    try:
        payload: Mapping[str, Any] = json.loads(raw)
    except ValueError:
        return exc
    if not isinstance(payload, Mapping) or "code" not in payload:
        return exc
    detail = f"Twilio {payload.get('code')} (HTTP {exc.status_code}): {payload.get('message') or ''}".rstrip()
    if payload.get("detail"):
        detail += f" - {payload['detail']}"
    if payload.get("more_info"):
        detail += f" [{payload['more_info']}]"
    return SendError(detail, failure=exc.failure, status_code=exc.status_code, retry_after=exc.retry_after)
