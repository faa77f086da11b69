"""Evolution API v2 (self-hosted, unofficial WhatsApp gateway built on Baileys).

Wire format, as Evolution v2 posts it (one JSON object per event, no signature)::

    {"event": "messages.upsert", "instance": "<instance name>", "data": {...},
     "destination": "<our url>", "date_time": "...", "sender": "<own jid>",
     "server_url": "...", "apikey": "<instance token or null>"}

Authentication. Evolution signs nothing, so every channel gets its own random
``webhook_secret``. The webhook URL shown to the owner carries it in the query string
(``.../webhooks/evolution/{channel_id}?secret=...``, see ``webhook_url_for_owner``); Evolution
v2 can also send custom headers with each webhook (``webhook.headers``), so an
``X-Webhook-Secret: ...`` header is accepted too. Either is compared in constant time:
none given -> 401, a wrong one -> 403. "Webhook by events" makes Evolution append
``/messages-upsert`` etc. to the configured URL, which lands after our query string; a
``secret`` of the form ``<secret>/<event-slug>`` is therefore accepted too (generated secrets
never contain ``/``; an owner-chosen one with ``/`` still matches as a whole). The envelope's
``apikey`` field is not used: Evolution only fills it when
``AUTHENTICATION_EXPOSE_IN_FETCH_INSTANCES`` is on. Set up from Evolution's side with
``POST /webhook/set/{instance}`` ``{"webhook": {"enabled": true, "url": <webhook_url_for_owner>,
"headers": {"X-Webhook-Secret": <secret>} (optional), "byEvents": false, "base64": false|true,
"events": ["MESSAGES_UPSERT", "MESSAGES_UPDATE"]}}``.

Events handled (``MESSAGES_UPSERT`` / ``MESSAGES_UPDATE`` spellings accepted, ``data`` may be
an object or a list of them):

* ``messages.upsert`` -> InboundMessage. ``fromMe`` echoes (our own sends, or the owner
  typing on the phone) are counted in ``ignored``, as are status broadcasts, newsletters,
  protocol messages (revokes, key distribution, poll votes) and items without content.
  Evolution >= 2.3 rewrites ``extendedTextMessage`` into ``conversation`` and lifts its
  ``contextInfo`` to ``data.contextInfo``; older versions send it raw: both are read.
* ``messages.update`` -> StatusUpdate for our own (``fromMe``) messages only: SERVER_ACK ->
  sent, DELIVERY_ACK -> delivered, READ/PLAYED -> read, ERROR -> failed; PENDING and DELETED
  are ignored. The WhatsApp message id is ``keyId`` (v2), ``key.id`` or ``id`` (v1 spread the
  key into the payload); v2's ``messageId`` is Evolution's own database id and is used only
  when nothing else is there. An item without ``fromMe`` is accepted (the pipeline matches
  it by id, so an id that is not ours changes nothing).
* anything else (connection.update, qrcode.updated, send.message, ...) -> empty ParsedEvent.

An event whose ``instance`` is not the channel's (compared case-insensitively) is refused with
400: one webhook URL pasted into two instances would otherwise mix their conversations.
Malformed bodies (not JSON, no ``event``, ``data`` neither object nor list, items without
``key.remoteJid``/``key.id``) are refused with 400 too.

Senders. ``remoteJid`` is ``<digits>@s.whatsapp.net`` for a chat, ``<id>@g.us`` for a group
(the author is then ``key.participant``/``participantAlt``) and, since WhatsApp's privacy
change, sometimes ``<lid>@lid`` -- a "linked id" that hides the number. The phone number is
then looked up in ``remoteJidAlt`` (2.3.6+; 2.3.7 swaps the two fields so remoteJid is the
number again) or ``senderPn`` (2.3.0-2.3.5). When only the LID is known, ``from_phone`` is
``"+" + <lid digits>``: stable per person, so the conversation threads correctly, but not a
dialable number -- Evolution refuses replies to it (400 "exists: false", not retried). To
reply to such a contact anyway, ``send`` passes a ``to_phone`` containing ``@`` (e.g.
``"103899771998284@lid"``, accepted by Evolution >= 2.3.6) through untouched.

Media. Inbound media ``url`` values point at WhatsApp's CDN and are encrypted, so they are
never fetched directly: ``download_media`` uses the ``base64`` Evolution inlines when the
webhook's "base64" option is on, else asks ``POST /chat/getBase64FromMediaMessage/{instance}``
with the message key (Evolution finds the message in its own database, which it keeps by
default: ``DATABASE_SAVE_DATA_NEW_MESSAGE``). ``Media.extra`` holds ``key`` (the Evolution
message key), ``message_type`` and, when inlined, ``base64`` (which can be megabytes: don't
persist ``extra`` verbatim).

Sending: header ``apikey``; ``/message/sendText``, ``/message/sendMedia`` (image, document,
video) and ``/message/sendWhatsAppAudio`` (audio as a push-to-talk voice note). Evolution has
no templates (no 24-hour window either): a template send is refused, not retried.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from db.models import Provider
from runtime import egress
from runtime.config import get_settings
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
from .http import from_epoch, send_request
from .shared_secret import SECRET_HEADER, SECRET_QUERY_PARAM, WEBHOOK_SECRET, check_shared_secret

_UPSERT = "messages.upsert"
_UPDATE = "messages.update"

STATUS_MAP: dict[str, DeliveryStatus] = {
    "SERVER_ACK": DeliveryStatus.sent,
    "DELIVERY_ACK": DeliveryStatus.delivered,
    "READ": DeliveryStatus.read,
    "PLAYED": DeliveryStatus.read,
    "ERROR": DeliveryStatus.failed,
}
# Baileys' numeric WAMessageStatus, which Evolution maps to the names above (utils/renderStatus).
_NUMERIC_STATUS = {0: "ERROR", 1: "PENDING", 2: "SERVER_ACK", 3: "DELIVERY_ACK", 4: "READ", 5: "PLAYED"}

_MEDIA_KINDS: dict[str, MessageKind] = {
    "imageMessage": MessageKind.image,
    "videoMessage": MessageKind.video,
    "ptvMessage": MessageKind.video,  # round video note
    "audioMessage": MessageKind.audio,
    "documentMessage": MessageKind.document,
    "stickerMessage": MessageKind.sticker,
}
# Containers whose "message" holds the real content.
_WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
)
# Keys of data.message that are metadata, not content.
_NOT_CONTENT = frozenset({"messageContextInfo", "base64", "mediaUrl", "speechToText", "contextInfo"})
# Content types that are WhatsApp housekeeping, not something a person said.
_HOUSEKEEPING = frozenset(
    {
        "protocolMessage",
        "senderKeyDistributionMessage",
        "pollUpdateMessage",
        "encReactionMessage",
        "keepInChatMessage",
        "editedMessage",
        "messageHistoryBundle",
    }
)
_IGNORED_CHATS = ("status@broadcast",)
_IGNORED_SUFFIXES = ("@newsletter", "@broadcast")

_NON_DIGITS = re.compile(r"\D")


def webhook_url_for_owner(config: ChannelConfig) -> str:
    """The URL to paste into Evolution's webhook settings: ours plus ?secret=..."""
    secret = config.credentials.get("webhook_secret", "")
    sep = "&" if "?" in config.webhook_url else "?"
    return f"{config.webhook_url}{sep}{SECRET_QUERY_PARAM}={quote(secret, safe='')}"


class EvolutionAdapter:
    provider: ClassVar[Provider] = Provider.evolution
    slug: ClassVar[str] = "evolution"
    label: ClassVar[str] = "Evolution"
    description: ClassVar[str] = "Servidor próprio (self-hosted) conectado ao WhatsApp pelo QR code."
    setup_hint: ClassVar[str] = (
        "No Evolution, configure o webhook da instância e ative o evento MESSAGES_UPSERT. Recomendado: use o "
        "endereço sem o segredo e ponha o segredo no cabeçalho X-Webhook-Secret (campo headers do webhook), "
        "para que ele não apareça em logs de acesso. O endereço com ?secret= também funciona."
    )
    default_api_base_url: ClassVar[str] = "http://localhost:8080"  # self-hosted: the owner sets theirs
    self_hosted: ClassVar[bool] = True
    credential_specs: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("instance", "Nome da instância", False, "A instância criada no seu servidor Evolution."),
        CredentialSpec(
            "api_key", "Chave da API (apikey)", True, "A AUTHENTICATION_API_KEY do servidor ou a chave da instância."
        ),
        WEBHOOK_SECRET,
    )
    credential_fields: ClassVar[tuple[str, ...]] = tuple(c.key for c in credential_specs)
    api_credentials: ClassVar[tuple[str, ...]] = ("api_key",)
    webhook_secret_in_url: ClassVar[bool] = True
    custom_webhook_headers: ClassVar[bool] = True  # v2: the webhook's "headers" field
    webhook_ack: ClassVar[WebhookAck | None] = None
    has_service_window: ClassVar[bool] = False
    sends_media_bytes: ClassVar[bool] = True  # inlined as base64

    def __init__(self, config: ChannelConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http
        self.base_url = (config.api_base_url or self.default_api_base_url).rstrip("/")
        self.instance = config.credentials.get("instance", "")
        self._api_key = config.credentials.get("api_key", "")
        self._webhook_secret = config.credentials.get("webhook_secret", "")

    # ---- webhook ------------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest) -> str:
        raise WebhookRejected(405, "Evolution API webhooks have no GET handshake; it only POSTs events.")

    def verify(self, request: WebhookRequest) -> None:
        query = request.query.get(SECRET_QUERY_PARAM)
        check_shared_secret(
            (request.headers.get(SECRET_HEADER), query, _strip_event_suffix(query)), self._webhook_secret
        )

    def parse(self, request: WebhookRequest) -> ParsedEvent:
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WebhookRejected(400, f"Body is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise WebhookRejected(400, "Body must be a JSON object with 'event' and 'data'.")
        event = body.get("event")
        if not isinstance(event, str) or not event:
            raise WebhookRejected(400, "Missing 'event' in Evolution webhook body.")
        instance = body.get("instance")
        if isinstance(instance, str) and instance and self.instance and instance.lower() != self.instance.lower():
            raise WebhookRejected(
                400, f"Event is for instance {instance!r} but this channel is configured for {self.instance!r}."
            )
        name = event.strip().lower().replace("_", ".")
        if name == _UPSERT:
            return self._parse_upsert(_items(body, event))
        if name == _UPDATE:
            return self._parse_update(_items(body, event))
        return ParsedEvent()

    def _parse_upsert(self, items: list[dict[str, Any]]) -> ParsedEvent:
        messages: list[InboundMessage] = []
        ignored = 0
        for item in items:
            msg = _parse_message(item)
            if msg is None:
                ignored += 1
            else:
                messages.append(msg)
        return ParsedEvent(messages=messages, ignored=ignored)

    def _parse_update(self, items: list[dict[str, Any]]) -> ParsedEvent:
        statuses: list[StatusUpdate] = []
        ignored = 0
        for item in items:
            key = item.get("key") if isinstance(item.get("key"), dict) else {}
            message_id = item.get("keyId") or key.get("id") or item.get("id") or item.get("messageId")
            if not isinstance(message_id, str) or not message_id:
                raise WebhookRejected(400, "messages.update item without a message id (keyId / key.id).")
            from_me = item.get("fromMe", key.get("fromMe"))
            raw_status = item.get("status")
            if raw_status is None and isinstance(item.get("update"), dict):
                raw_status = item["update"].get("status")
            if isinstance(raw_status, int) and not isinstance(raw_status, bool):
                raw_status = _NUMERIC_STATUS.get(raw_status)
            status = STATUS_MAP.get(str(raw_status).upper()) if raw_status is not None else None
            if from_me is False or from_me == "false" or status is None:
                ignored += 1
                continue
            ts = item.get("messageTimestamp") or item.get("datetime") or item.get("dateTime")
            statuses.append(
                StatusUpdate(
                    provider_message_id=message_id,
                    status=status,
                    timestamp=_timestamp(ts),
                    error=f"Evolution reported status {raw_status}" if status is DeliveryStatus.failed else None,
                )
            )
        return ParsedEvent(statuses=statuses, ignored=ignored)

    # ---- media --------------------------------------------------------------------------------

    async def download_media(self, media: Media) -> DownloadedMedia:
        extra = media.extra or {}
        inline = extra.get("base64")
        if isinstance(inline, str) and inline:
            return DownloadedMedia(
                data=_b64decode(inline), mime_type=media.mime_type or _guess_mime(media), filename=media.filename
            )
        key = extra.get("key")
        if not isinstance(key, Mapping) or not key.get("id"):
            raise MediaError("Evolution media without a message key: nothing to ask Evolution for.")
        url = self._url("chat/getBase64FromMediaMessage")
        payload = {"message": {"key": dict(key)}, "convertToMp4": False}
        limit = get_settings().media_max_bytes
        # The file comes as base64 inside JSON: a third more bytes, and a little for the rest.
        cap = limit * 4 // 3 + 64_000
        try:
            async with self.http.stream("POST", url, json=payload, headers=self._headers()) as resp:
                if not resp.is_success:
                    body = (await resp.aread())[:300].decode(errors="replace")
                    raise MediaError(f"media download failed: HTTP {resp.status_code}: {body}")
                raw = bytearray()
                async for chunk in resp.aiter_bytes():  # read with a cap: the server is the tenant's choice
                    raw += chunk
                    if len(raw) > cap:
                        raise MediaError(
                            f"Arquivo maior que o limite de {egress.format_size(limit)}: não foi baixado. "
                            "Peça ao cliente um arquivo menor."
                        )
        except egress.EgressRefused as exc:
            raise MediaError(str(exc)) from exc
        except httpx.HTTPError as exc:
            raise MediaError(f"media download failed: {type(exc).__name__}") from exc
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise MediaError("media download failed: Evolution answered something other than JSON") from exc
        data = answer.get("base64") if isinstance(answer, dict) else None
        if not isinstance(data, str) or not data:
            raise MediaError("media download failed: Evolution's answer has no base64")
        decoded = _b64decode(data)
        if len(decoded) > limit:
            raise MediaError(
                f"Arquivo maior que o limite de {egress.format_size(limit)}: não foi baixado. "
                "Peça ao cliente um arquivo menor."
            )
        return DownloadedMedia(
            data=decoded,
            mime_type=answer.get("mimetype") or media.mime_type or _guess_mime(media),
            filename=media.filename or answer.get("fileName"),
        )

    # ---- send ---------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        number = _number(message.to_phone)
        kind = MessageKind(message.kind)
        if kind is MessageKind.text:
            if not message.text:
                raise SendError("empty text message", retryable=False)
            path, payload = "message/sendText", {"number": number, "text": message.text}
        elif kind in (MessageKind.image, MessageKind.document, MessageKind.video):
            media = _require_media(message)
            payload = {
                "number": number,
                "mediatype": kind.value,
                "mimetype": media.mime_type,
                "media": _media_ref(media),
            }
            if message.text:
                payload["caption"] = message.text
            filename = media.filename or (_default_filename(media.mime_type) if kind is MessageKind.document else None)
            if filename:
                payload["fileName"] = filename
            path = "message/sendMedia"
        elif kind is MessageKind.audio:  # voice notes carry no caption: message.text is not sent
            media = _require_media(message)
            path, payload = "message/sendWhatsAppAudio", {"number": number, "audio": _media_ref(media)}
        elif kind is MessageKind.template:
            raise SendError("Evolution API does not support WhatsApp templates", retryable=False)
        else:
            raise SendError(f"Evolution adapter cannot send {kind.value} messages", retryable=False)
        if not self.instance or not self._api_key:
            raise SendError("Evolution channel is missing its instance name or API key", retryable=False)
        resp = await send_request(self.http, "POST", self._url(path), json=payload, headers=self._headers())
        try:
            message_id = resp.json()["key"]["id"]
        except (ValueError, KeyError, TypeError) as exc:
            # Evolution took it (2xx): retrying could deliver twice.
            raise SendError(
                f"Evolution answered without key.id: {resp.text[:300]}", failure=SendFailure.unknown
            ) from exc
        if not isinstance(message_id, str) or not message_id:
            raise SendError(f"Evolution answered without key.id: {resp.text[:300]}", failure=SendFailure.unknown)
        return SendResult(message_id)

    # ---- helpers ------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path}/{quote(self.instance, safe='')}"

    def _headers(self) -> dict[str, str]:
        return {"apikey": self._api_key}


# ---- parsing helpers (module level: pure functions of the payload) ------------------------------


def _strip_event_suffix(secret: str | None) -> str | None:
    # "Webhook by events": Evolution posts to "<url>/messages-upsert", i.e. "?secret=<s>/messages-upsert".
    return secret.split("/", 1)[0] if secret else secret


def _items(body: dict[str, Any], event: str) -> list[dict[str, Any]]:
    data = body.get("data")
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(i, dict) for i in items):
        raise WebhookRejected(400, f"'{event}' needs 'data' as an object or a list of objects.")
    return items


def _parse_message(item: dict[str, Any]) -> InboundMessage | None:
    """One messages.upsert item -> InboundMessage, or None when deliberately ignored."""
    key = item.get("key")
    if not isinstance(key, dict):
        raise WebhookRejected(400, "messages.upsert item without 'key'.")
    remote = key.get("remoteJid")
    message_id = key.get("id")
    if not isinstance(remote, str) or not remote or not isinstance(message_id, str) or not message_id:
        raise WebhookRejected(400, "messages.upsert item without key.remoteJid / key.id.")
    if key.get("fromMe") is True or key.get("fromMe") == "true":
        return None
    if remote in _IGNORED_CHATS or remote.endswith(_IGNORED_SUFFIXES):
        return None
    message = item.get("message")
    if not isinstance(message, dict):
        return None
    is_group = remote.endswith("@g.us")
    phone = _sender_phone(key, item, is_group)
    if phone is None:
        return None

    message_type, content, inline_b64 = _content(message, item.get("messageType"))
    if message_type is None or message_type in _HOUSEKEEPING:
        return None
    base = {
        "provider_message_id": message_id,
        "from_phone": phone,
        "from_name": str(item.get("pushName") or "").strip(),
        "timestamp": _timestamp(item.get("messageTimestamp")),
        "context_id": _context_id(item, content),
        "is_group": is_group,
    }
    c = content if isinstance(content, dict) else {}

    if message_type == "conversation":
        return InboundMessage(kind=MessageKind.text, text=str(content or ""), **base)
    if message_type == "extendedTextMessage":
        return InboundMessage(kind=MessageKind.text, text=str(c.get("text") or ""), **base)
    if message_type in _MEDIA_KINDS:
        extra: dict[str, Any] = {"key": dict(key), "message_type": message_type}
        if inline_b64:
            extra["base64"] = inline_b64
        media = Media(
            url=c.get("url") if isinstance(c.get("url"), str) else None,
            mime_type=c.get("mimetype") or None,
            filename=c.get("fileName") or None,
            voice=message_type == "audioMessage" and bool(c.get("ptt")),
            extra=extra,
        )
        return InboundMessage(kind=_MEDIA_KINDS[message_type], text=str(c.get("caption") or ""), media=media, **base)
    if message_type in ("locationMessage", "liveLocationMessage"):
        try:
            location = Location(
                latitude=float(c["degreesLatitude"]),
                longitude=float(c["degreesLongitude"]),
                name=c.get("name") or None,
                address=c.get("address") or None,
            )
        except (KeyError, TypeError, ValueError):
            return InboundMessage(kind=MessageKind.unsupported, **base)
        return InboundMessage(kind=MessageKind.location, location=location, **base)
    if message_type == "buttonsResponseMessage":
        return _interactive(base, c.get("selectedButtonId"), c.get("selectedDisplayText"))
    if message_type == "listResponseMessage":
        reply = c.get("singleSelectReply") if isinstance(c.get("singleSelectReply"), dict) else {}
        return _interactive(base, reply.get("selectedRowId"), c.get("title"))
    if message_type == "templateButtonReplyMessage":
        return _interactive(base, c.get("selectedId"), c.get("selectedDisplayText"))
    if message_type == "interactiveResponseMessage":  # native-flow buttons
        flow = c.get("nativeFlowResponseMessage") if isinstance(c.get("nativeFlowResponseMessage"), dict) else {}
        try:
            params = json.loads(flow.get("paramsJson") or "{}")
        except (TypeError, ValueError):
            params = {}
        body = c.get("body") if isinstance(c.get("body"), dict) else {}
        reply_id = params.get("id") if isinstance(params, dict) else None
        return _interactive(base, reply_id, body.get("text"))
    if message_type == "reactionMessage":
        target = c.get("key") if isinstance(c.get("key"), dict) else {}
        return InboundMessage(
            kind=MessageKind.reaction, text=str(c.get("text") or ""), reaction_to=target.get("id") or None, **base
        )
    return InboundMessage(kind=MessageKind.unsupported, **base)


def _interactive(base: dict[str, Any], reply_id: Any, title: Any) -> InboundMessage:
    return InboundMessage(
        kind=MessageKind.interactive, text=str(title or ""), reply_id=str(reply_id) if reply_id else None, **base
    )


def _content(message: dict[str, Any], message_type: Any) -> tuple[str | None, Any, str | None]:
    """(content type, content, inline base64) of data.message, unwrapping ephemeral/view-once/..."""
    inline = message.get("base64") if isinstance(message.get("base64"), str) else None
    msg = message
    for _ in range(4):
        for wrapper in _WRAPPERS:
            inner = msg.get(wrapper)
            if isinstance(inner, dict) and isinstance(inner.get("message"), dict):
                msg = inner["message"]
                break
        else:
            break
    if isinstance(message_type, str) and message_type in msg and message_type not in _NOT_CONTENT:
        return message_type, msg[message_type], inline
    for name, value in msg.items():
        if name not in _NOT_CONTENT and value is not None:
            return name, value, inline
    return None, None, inline


def _context_id(item: dict[str, Any], content: Any) -> str | None:
    for ctx in (item.get("contextInfo"), content.get("contextInfo") if isinstance(content, dict) else None):
        if isinstance(ctx, dict) and isinstance(ctx.get("stanzaId"), str) and ctx["stanzaId"]:
            return ctx["stanzaId"]
    return None


def _sender_phone(key: dict[str, Any], item: dict[str, Any], is_group: bool) -> str | None:
    """E.164 of the author; a LID-only author gets '+<lid digits>' (see module docstring)."""
    if is_group:
        candidates = [
            key.get("participantAlt"),
            key.get("participantPn"),
            key.get("participant"),
            item.get("participant"),
        ]
    else:
        candidates = [key.get("remoteJid"), key.get("remoteJidAlt"), key.get("senderPn"), item.get("senderPn")]
    jids = [c for c in candidates if isinstance(c, str) and c]
    for jid in jids:  # a real phone number wins
        if jid.endswith(("@s.whatsapp.net", "@c.us")) or "@" not in jid:
            phone = _phone_from_jid(jid)
            if phone:
                return phone
    for jid in jids:  # else the LID, stable but not dialable
        if jid.endswith("@lid"):
            phone = _phone_from_jid(jid)
            if phone:
                return phone
    if is_group:  # no author at all: the group's own id, so the event is still attributable
        return _phone_from_jid(str(key.get("remoteJid", "")).split("-", 1)[0])
    return None


def _phone_from_jid(jid: str) -> str | None:
    local = jid.split("@", 1)[0].split(":", 1)[0]  # drop "@server" and ":device"
    digits = _NON_DIGITS.sub("", local)
    if not digits:
        return None
    try:
        return normalize_phone(digits)
    except ContactError:
        return "+" + digits[:31]


def _timestamp(value: Any) -> datetime:
    if isinstance(value, dict):  # a protobuf Long that escaped conversion: {"low", "high", "unsigned"}
        value = (int(value.get("high") or 0) << 32) + (int(value.get("low") or 0) & 0xFFFFFFFF)
    if value in (None, "", 0):
        return datetime.now(UTC)
    try:
        return from_epoch(value)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


# ---- send / media helpers ---------------------------------------------------------------------


def _number(to_phone: str) -> str:
    if "@" in to_phone:  # a JID (e.g. "<lid>@lid"): Evolution takes it as is
        return to_phone.strip()
    digits = _NON_DIGITS.sub("", to_phone or "")
    if not digits:
        raise SendError(f"invalid destination number {to_phone!r}", retryable=False)
    return digits


def _require_media(message: OutboundMessage) -> OutboundMedia:
    media = message.media
    if media is None or (not media.url and not media.data):
        raise SendError(f"{message.kind.value} message without media (url or data)", retryable=False)
    return media


def _media_ref(media: OutboundMedia) -> str:
    """Evolution takes media as a URL or as bare base64 (no data: prefix)."""
    if media.url:
        return media.url
    return base64.b64encode(media.data).decode("ascii")


def _default_filename(mime_type: str | None) -> str:
    ext = mimetypes.guess_extension((mime_type or "").split(";", 1)[0].strip()) or ""
    return f"documento{ext}"


def _b64decode(data: str) -> bytes:
    if data.startswith("data:") and "," in data:
        data = data.split(",", 1)[1]
    try:
        return base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise MediaError("media download failed: invalid base64 from Evolution") from exc


def _guess_mime(media: Media) -> str:
    if media.filename:
        guessed, _ = mimetypes.guess_type(media.filename)
        if guessed:
            return guessed
    return "application/octet-stream"
