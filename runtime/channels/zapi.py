"""Z-API (api.z-api.io): a Brazilian WhatsApp gateway over a linked phone (WhatsApp Web protocol).

Authentication of webhooks: Z-API signs nothing and sends no secret header of its own. Every channel
therefore gets an unguessable ``webhook_secret`` credential, and the webhook URL we ask the owner to paste
into the Z-API panel carries it as ``?secret=...``; a proxy in front may send it as ``X-Webhook-Secret``
instead. verify() compares it in constant time: missing -> 401, wrong -> 403. Anyone who learns that URL
can post events, so it is shown only to the workspace owner and can be rotated.

Wire format (developer.z-api.io, "Webhooks" and "Mensagens"):

* ``ReceivedCallback``: one message. ``phone`` is the chat (``<digits>``, ``<id>-group``, ``<id>@lid`` when
  WhatsApp hides the number, ``...-broadcast``, ``...@newsletter``), ``participantPhone`` the group member
  who wrote, ``momment`` epoch milliseconds (sic), ``fromMe`` true for our own sends echoed back (when
  "notify sent by me" is on). Content is one object: ``text``, ``image``, ``audio`` (``ptt`` = voice note),
  ``video``, ``document``, ``sticker``, ``location``, ``buttonsResponseMessage``, ``listResponseMessage``,
  ``reaction``; anything else (contact, poll, order...) becomes an ``unsupported`` message. Callbacks with
  a ``notification`` (calls, group events, profile changes) and ``waitingMessage`` placeholders are skipped.
  Edits (``isEdit``) come with the original ``messageId``; they are parsed as usual, so deduplication by
  provider id keeps the first version.
* ``MessageStatusCallback``: ``status`` SENT / RECEIVED / READ / PLAYED for ``ids: [...]`` (one update
  each). READ_BY_ME is the business reading an inbound message, not news about our sends: skipped.
* ``DeliveryCallback``: Z-API's own ack of a send; an ``error`` field (and sometimes ``errorCode``, e.g.
  ``SHADOW_BAN``) means WhatsApp did not take the message -> ``failed``, otherwise ``sent``.
* Other types (ConnectedCallback, DisconnectedCallback, PresenceChatCallback...) are understood and skipped.

Sends: ``POST {base}/instances/{instance_id}/token/{token}/send-text|send-image|send-video|send-audio|
send-document/{extension}`` with header ``Client-Token`` (the account security token); media go as a
public URL or a ``data:<mime>;base64,...`` URI. The answer is ``{"zaapId", "messageId", "id"}``;
``messageId`` is the WhatsApp id that status and delivery callbacks carry later. Z-API sometimes answers
2xx with ``{"error": "..."}``: that is a failed send, retryable only when the text points at a passing
condition (timeout, instance disconnected, queue trouble), because everything else (invalid number, no
permission, bad media URL) would fail the same way again. There are no templates and no 24-hour window.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

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
    OutboundMedia,
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
from .http import fetch_media, from_epoch, send_request
from .shared_secret import SECRET_HEADER, SECRET_QUERY_PARAM, WEBHOOK_SECRET, check_shared_secret

log = logging.getLogger(__name__)

# Where the per-channel webhook secret travels (names, not secrets).

# MessageStatusCallback.status -> ours. READ_BY_ME (we read *their* message) is deliberately absent.
_STATUSES = {
    "SENT": DeliveryStatus.sent,
    "RECEIVED": DeliveryStatus.delivered,
    "READ": DeliveryStatus.read,
    "PLAYED": DeliveryStatus.read,  # a voice note / video was played: it was read
}

# Media content objects of a ReceivedCallback: key -> (kind, URL field).
_MEDIA_FIELDS = {
    "image": (MessageKind.image, "imageUrl"),
    "audio": (MessageKind.audio, "audioUrl"),
    "video": (MessageKind.video, "videoUrl"),
    "document": (MessageKind.document, "documentUrl"),
    "sticker": (MessageKind.sticker, "stickerUrl"),
}

# Words in a 2xx ``error`` that mean "try again later" rather than "this message can never go".
_TRANSIENT_HINTS = (
    "error on send message",  # Z-API: "a connection error occurred in the system"
    "timeout",
    "timed out",
    "try again",
    "not connected",
    "disconnected",
    "connection",
    "queue",
    "temporar",
    "unavailable",
    "too many",
    "rate limit",
)

_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")


class ZapiAdapter:
    provider: ClassVar[Provider] = Provider.zapi
    slug: ClassVar[str] = "zapi"
    label: ClassVar[str] = "Z-API"
    description: ClassVar[str] = "Serviço brasileiro que conecta o seu WhatsApp pelo QR code."
    setup_hint: ClassVar[str] = (
        "Na Z-API, em Webhooks, cole este endereço em “Ao receber” e em “Status da mensagem”. A Z-API não envia "
        "cabeçalhos próprios, então o segredo vai no endereço: trate-o como uma senha. Com um proxy seu na "
        "frente, ele pode enviar o segredo no cabeçalho X-Webhook-Secret e chamar o endereço sem ?secret=."
    )
    default_api_base_url: ClassVar[str] = "https://api.z-api.io"
    self_hosted: ClassVar[bool] = False
    credential_specs: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("instance_id", "ID da instância", False, "No painel da Z-API, em Instâncias."),
        CredentialSpec("token", "Token da instância", True, "No painel da Z-API, ao lado do ID da instância."),
        CredentialSpec(
            "client_token", "Token de segurança da conta", True, "Em Segurança, no painel da Z-API (Client-Token)."
        ),
        WEBHOOK_SECRET,
    )
    credential_fields: ClassVar[tuple[str, ...]] = tuple(c.key for c in credential_specs)
    api_credentials: ClassVar[tuple[str, ...]] = ("token", "client_token")
    webhook_secret_in_url: ClassVar[bool] = True
    custom_webhook_headers: ClassVar[bool] = False  # only a proxy in front can add the header
    webhook_ack: ClassVar[WebhookAck | None] = None
    has_service_window: ClassVar[bool] = False
    sends_media_bytes: ClassVar[bool] = True  # inlined as a data: URI

    def __init__(self, config: ChannelConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http

    # -- webhooks -------------------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest) -> str:
        raise WebhookRejected(405, "Z-API does not verify webhooks with GET; it only POSTs events.")

    def verify(self, request: WebhookRequest) -> None:
        check_shared_secret(
            (request.query.get(SECRET_QUERY_PARAM), request.headers.get(SECRET_HEADER)),
            self.config.credentials.get("webhook_secret"),
        )

    def parse(self, request: WebhookRequest) -> ParsedEvent:
        try:
            payload = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WebhookRejected(400, f"body is not valid JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise WebhookRejected(400, "expected a JSON object (one Z-API callback)")
        kind = payload.get("type")
        if not isinstance(kind, str) or not kind:
            raise WebhookRejected(400, "callback without a 'type'")
        kind = kind.lower()
        if kind == "receivedcallback":  # the docs' tables also spell it 'ReceivedCallBack'
            return self._parse_received(payload)
        if kind == "messagestatuscallback":
            return self._parse_status(payload)
        if kind == "deliverycallback":
            return self._parse_delivery(payload)
        return ParsedEvent(ignored=1)  # connection, presence, ...: nothing for a conversation

    def _parse_received(self, p: dict[str, Any]) -> ParsedEvent:
        message_id = _str(p.get("messageId"))
        chat = _str(p.get("phone"))
        if not message_id or not chat:
            raise WebhookRejected(400, "ReceivedCallback without 'messageId' or 'phone'")
        if p.get("fromMe") is True:
            return ParsedEvent(ignored=1)  # our own send (or the owner's phone) echoed back
        if p.get("notification") or p.get("waitingMessage") is True:
            return ParsedEvent(ignored=1)  # call / group / profile events; undecrypted placeholders
        if p.get("broadcast") is True or p.get("isNewsletter") is True or chat.endswith(("-broadcast", "@newsletter")):
            return ParsedEvent(ignored=1)

        is_group = p.get("isGroup") is True or chat.endswith("-group")
        sender = _str(p.get("participantPhone")) if is_group else chat
        if not sender or "@" in sender:
            # '<id>@lid': WhatsApp hid the number. Inventing '+<lid digits>' would reply to a stranger.
            log.warning("zapi: message %s without a phone number (sender %r) skipped", message_id, sender)
            return ParsedEvent(ignored=1)
        try:
            from_phone = normalize_phone(sender)
        except ContactError:
            log.warning("zapi: message %s from unusable phone %r skipped", message_id, sender)
            return ParsedEvent(ignored=1)

        name = _str(p.get("senderName")) if is_group else _str(p.get("senderName")) or _str(p.get("chatName"))
        base: dict[str, Any] = {
            "provider_message_id": message_id,
            "from_phone": from_phone,
            "from_name": name,
            "timestamp": _timestamp(p.get("momment")),
            "context_id": _str(p.get("referenceMessageId")) or None,
            "is_group": is_group,
        }
        return ParsedEvent(messages=[InboundMessage(**base, **_content(p))])

    def _parse_status(self, p: dict[str, Any]) -> ParsedEvent:
        ids = p.get("ids")
        if ids is None and isinstance(p.get("id"), str):  # older docs name it 'id'
            ids = [p["id"]]
        if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
            raise WebhookRejected(400, "MessageStatusCallback without a list of 'ids'")
        status = _STATUSES.get(_str(p.get("status")).upper())
        if status is None:
            return ParsedEvent(ignored=1)  # READ_BY_ME or a status we do not track
        ts = _timestamp(p.get("momment"))
        return ParsedEvent(statuses=[StatusUpdate(provider_message_id=i, status=status, timestamp=ts) for i in ids])

    def _parse_delivery(self, p: dict[str, Any]) -> ParsedEvent:
        message_id = _str(p.get("messageId"))
        if not message_id:
            raise WebhookRejected(400, "DeliveryCallback without 'messageId'")
        ts = _timestamp(p.get("momment"))
        error = p.get("error")
        if error:
            code = _str(p.get("errorCode"))
            detail = f"{code}: {error}" if code else str(error)
            update = StatusUpdate(message_id, DeliveryStatus.failed, ts, error=detail[:500])
        else:
            update = StatusUpdate(message_id, DeliveryStatus.sent, ts)
        return ParsedEvent(statuses=[update])

    # -- media ----------------------------------------------------------------------------------------

    async def download_media(self, media: Media) -> DownloadedMedia:
        """Z-API hands out public, temporary storage URLs (kept 30 days): a plain GET, no credentials."""
        if not media.url:
            raise MediaError("Z-API media without a URL")
        resp = await fetch_media(media.url)
        header_type = resp.headers.get("content-type", "").split(";")[0].strip()
        mime = media.mime_type or header_type or "application/octet-stream"
        return DownloadedMedia(data=resp.content, mime_type=mime, filename=media.filename)

    # -- sending --------------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        phone = re.sub(r"\D", "", message.to_phone or "")
        if not phone:
            raise SendError("no destination phone", retryable=False)
        if message.kind == MessageKind.template:
            raise SendError("Z-API has no message templates: send text instead", retryable=False)

        if message.kind == MessageKind.text:
            if not message.text:
                raise SendError("empty text message", retryable=False)
            action, body = "send-text", {"phone": phone, "message": message.text}
        elif message.kind == MessageKind.image:
            body = {"phone": phone, "image": _media_ref(message.media)}
            if message.text:
                body["caption"] = message.text
            action = "send-image"
        elif message.kind == MessageKind.video:
            body = {"phone": phone, "video": _media_ref(message.media)}
            if message.text:
                body["caption"] = message.text
            action = "send-video"
        elif message.kind == MessageKind.audio:
            action, body = "send-audio", {"phone": phone, "audio": _media_ref(message.media), "waveform": True}
        elif message.kind == MessageKind.document:
            media = _require_media(message.media)
            ext = _extension(media)
            body = {"phone": phone, "document": _media_ref(media), "fileName": media.filename or f"documento.{ext}"}
            if message.text:
                body["caption"] = message.text
            action = f"send-document/{ext}"
        else:
            raise SendError(f"Z-API adapter cannot send {message.kind.value!r} messages", retryable=False)

        resp = await send_request(
            self.http, "POST", self._url(action), json=body, headers={"Client-Token": self._cred("client_token")}
        )
        return _send_result(resp)

    def _url(self, action: str) -> str:
        base = (self.config.api_base_url or self.default_api_base_url).rstrip("/")
        return f"{base}/instances/{self._cred('instance_id')}/token/{self._cred('token')}/{action}"

    def _cred(self, name: str) -> str:
        value = self.config.credentials.get(name)
        if not value:
            raise SendError(f"Z-API channel is missing the {name!r} credential", retryable=False)
        return value


# -- helpers ------------------------------------------------------------------------------------------


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _timestamp(value: Any) -> datetime:
    if value in (None, ""):
        return datetime.now(UTC)
    try:
        return from_epoch(value)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise WebhookRejected(400, f"invalid 'momment': {value!r}") from exc


def _obj(p: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = p.get(key)
    return value if isinstance(value, dict) else None


def _content(p: dict[str, Any]) -> dict[str, Any]:
    """The InboundMessage fields that depend on which content object the callback carries."""
    if (text := _obj(p, "text")) is not None:
        return {"kind": MessageKind.text, "text": _str(text.get("message"))}
    for key, (kind, url_field) in _MEDIA_FIELDS.items():
        if (m := _obj(p, key)) is None:
            continue
        url = _str(m.get(url_field))
        if not url:
            raise WebhookRejected(400, f"'{key}' without '{url_field}'")
        media = Media(
            url=url,
            mime_type=_str(m.get("mimeType")) or None,
            filename=_str(m.get("fileName")) or None,
            voice=key == "audio" and m.get("ptt") is True,
        )
        return {"kind": kind, "text": _str(m.get("caption")), "media": media}
    if (loc := _obj(p, "location")) is not None:
        try:
            location = Location(
                latitude=float(loc["latitude"]),
                longitude=float(loc["longitude"]),
                name=_str(loc.get("name")) or None,
                address=_str(loc.get("address")) or None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise WebhookRejected(400, "'location' without numeric 'latitude'/'longitude'") from exc
        return {"kind": MessageKind.location, "location": location}
    if (btn := _obj(p, "buttonsResponseMessage")) is not None:
        return {
            "kind": MessageKind.interactive,
            "text": _str(btn.get("message")),
            "reply_id": _str(btn.get("buttonId")) or None,
        }
    if (row := _obj(p, "listResponseMessage")) is not None:
        return {
            "kind": MessageKind.interactive,
            "text": _str(row.get("title")) or _str(row.get("message")),
            "reply_id": _str(row.get("selectedRowId")) or None,
        }
    if (reaction := _obj(p, "reaction")) is not None:
        ref = reaction.get("referencedMessage")
        ref_id = _str(ref.get("messageId")) if isinstance(ref, dict) else ""
        return {
            "kind": MessageKind.reaction,
            "text": _str(reaction.get("value")),  # '' when the reaction was removed
            "reaction_to": ref_id or None,
        }
    return {"kind": MessageKind.unsupported}  # contact, poll, product, order, payment, event...


def _require_media(media: OutboundMedia | None) -> OutboundMedia:
    if media is None or not (media.url or media.data):
        raise SendError("media message without a URL or bytes", retryable=False)
    return media


def _media_ref(media: OutboundMedia | None) -> str:
    """A public URL as is; bytes as the data URI Z-API accepts ('data:image/png;base64,...')."""
    media = _require_media(media)
    if media.url:
        return media.url
    mime = (media.mime_type or "application/octet-stream").split(";")[0].strip()
    return f"data:{mime};base64,{base64.b64encode(media.data or b'').decode()}"


def _extension(media: OutboundMedia) -> str:
    """send-document/{extension}: from the file name, else the MIME type."""
    if media.filename and "." in media.filename:
        ext = media.filename.rsplit(".", 1)[1].lower()
        if _EXTENSION.match(ext):
            return ext
    guessed = mimetypes.guess_extension((media.mime_type or "").split(";")[0].strip()) or ""
    ext = guessed.lstrip(".").lower()
    return ext if _EXTENSION.match(ext) else "bin"


def _send_result(resp: httpx.Response) -> SendResult:
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        # The provider took the request but we cannot tell what happened: retrying could double-send.
        raise SendError(
            f"unexpected Z-API answer: {resp.text[:200]!r}", failure=SendFailure.unknown, status_code=resp.status_code
        )
    error = data.get("error")
    if error:
        text = str(error) if not data.get("message") else f"{error}: {data['message']}"
        retryable = any(hint in text.lower() for hint in _TRANSIENT_HINTS)
        raise SendError(f"Z-API refused the send: {text[:500]}", retryable=retryable, status_code=resp.status_code)
    message_id = _str(data.get("messageId")) or _str(data.get("id"))
    if not message_id:
        raise SendError(f"Z-API answer without a message id: {resp.text[:200]!r}", failure=SendFailure.unknown)
    return SendResult(provider_message_id=message_id)
