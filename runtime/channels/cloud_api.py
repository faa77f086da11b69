"""Meta WhatsApp Cloud API (the official Graph API): webhook handshake, X-Hub-Signature-256,
the `messages` webhook normalized, media download and sends.

Wire format per Meta's developer docs (webhooks reference `messages`, Cloud API messages / media
references, Graph API error handling)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from db.models import Provider
from runtime.contacts import ContactError, normalize_phone
from runtime.egress import Fetched
from runtime.security import constant_time_equals

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
from .http import fetch_media, from_epoch, send_request

log = logging.getLogger(__name__)

GRAPH_VERSION = "v21.0"

SIGNATURE_HEADER = "x-hub-signature-256"

# Graph error codes that mean "later, not never", whatever the HTTP status (throttling comes as 400):
# 1 API unknown, 2 service, 4 too many calls, 17 user too many calls, 341 app limit, 80007 WABA rate
# limit, 130429 throughput, 131000 something went wrong, 131016 service unavailable, 131056 pair rate
# limit, 133004 server temporarily unavailable.
TRANSIENT_GRAPH_CODES = frozenset({1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131056, 133004})

_MEDIA_KINDS = {
    "image": MessageKind.image,
    "audio": MessageKind.audio,
    "video": MessageKind.video,
    "document": MessageKind.document,
    "sticker": MessageKind.sticker,
}
# Inbound types that are not a customer talking to us: a number change notice, the "chat opened" ping.
_IGNORED_TYPES = frozenset({"system", "request_welcome"})
_OUTBOUND_MEDIA_KINDS = frozenset({MessageKind.image, MessageKind.audio, MessageKind.video, MessageKind.document})
_CAPTIONED = frozenset({MessageKind.image, MessageKind.video, MessageKind.document})
_NON_DIGITS = re.compile(r"\D")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class CloudApiAdapter:
    provider: ClassVar[Provider] = Provider.cloud_api
    slug: ClassVar[str] = "cloud-api"
    label: ClassVar[str] = "Cloud API"
    description: ClassVar[str] = "A API oficial da Meta. Exige um app no Meta for Developers e um número verificado."
    setup_hint: ClassVar[str] = (
        "No app da Meta (WhatsApp > Configuração > Webhook), cole o endereço e o token de verificação e "
        "assine o campo messages. Dois números no mesmo app? Cadastre o endereço de cada canal como webhook "
        "do próprio número (webhook override na Graph API): eventos de outro número que chegarem aqui são "
        "ignorados."
    )
    default_api_base_url: ClassVar[str] = "https://graph.facebook.com"
    self_hosted: ClassVar[bool] = False
    credential_specs: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec(
            "phone_number_id", "ID do número de telefone", False, "Em WhatsApp > Configuração da API, no app da Meta."
        ),
        CredentialSpec(
            "access_token",
            "Token de acesso",
            True,
            "Um token permanente de usuário do sistema, com whatsapp_business_messaging.",
        ),
        CredentialSpec(
            "app_secret",
            "Chave secreta do app",
            True,
            "Em Configurações do app > Básico. Confere a assinatura dos webhooks.",
        ),
        CredentialSpec(
            "verify_token",
            "Token de verificação do webhook",
            False,
            "Deixe em branco para gerarmos um. Cole o mesmo valor na Meta ao cadastrar o webhook.",
        ),
    )
    credential_fields: ClassVar[tuple[str, ...]] = tuple(c.key for c in credential_specs)
    api_credentials: ClassVar[tuple[str, ...]] = ("access_token",)
    webhook_secret_in_url: ClassVar[bool] = False  # Meta signs every POST (X-Hub-Signature-256)
    custom_webhook_headers: ClassVar[bool] = False
    webhook_ack: ClassVar[WebhookAck | None] = None
    has_service_window: ClassVar[bool] = True
    sends_media_bytes: ClassVar[bool] = True  # uploaded to /{phone_number_id}/media first

    def __init__(self, config: ChannelConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http
        self._base = (config.api_base_url or self.default_api_base_url).rstrip("/")

    # -- webhook -------------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest) -> str:
        """Meta's subscription check: GET ?hub.mode=subscribe&hub.verify_token=..&hub.challenge=.."""
        expected = self._credential("verify_token")
        mode = request.query.get("hub.mode", "")
        token = request.query.get("hub.verify_token", "")
        challenge = request.query.get("hub.challenge")
        # Compare before looking at the mode so a wrong token costs the same whatever else is sent.
        token_ok = bool(expected) and constant_time_equals(token, expected)
        if not token_ok or mode != "subscribe":
            raise WebhookRejected(403, "verification failed: wrong hub.mode or hub.verify_token")
        if not challenge:
            raise WebhookRejected(400, "hub.challenge missing")
        return challenge

    def verify(self, request: WebhookRequest) -> None:
        """X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body keyed with the app secret>."""
        header = request.headers.get(SIGNATURE_HEADER)
        if not header:
            raise WebhookRejected(401, "X-Hub-Signature-256 header missing")
        secret = self._credential("app_secret")
        scheme, _, given = header.strip().partition("=")
        if not secret or scheme.lower() != "sha256" or not _HEX64.fullmatch(given):
            raise WebhookRejected(403, "invalid signature")
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), given.lower().encode()):
            raise WebhookRejected(403, "invalid signature")

    def parse(self, request: WebhookRequest) -> ParsedEvent:
        """Normalize the `messages` field of a whatsapp_business_account webhook.

        A malformed envelope is a 400. Inside a well-formed envelope nothing raises: other fields
        are skipped, unknown message types become MessageKind.unsupported, and a message or status
        that can't be read (no id, no usable sender) is counted in `ignored`."""
        try:
            payload = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WebhookRejected(400, f"body is not valid JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise WebhookRejected(400, "body is not a JSON object")
        if payload.get("object") != "whatsapp_business_account":
            raise WebhookRejected(400, f"unexpected object {payload.get('object')!r}: not a WhatsApp webhook")
        entries = payload.get("entry")
        if not isinstance(entries, list):
            raise WebhookRejected(400, "'entry' must be a list")

        messages: list[InboundMessage] = []
        statuses: list[StatusUpdate] = []
        ignored = misaddressed = 0
        own_number = self._credential("phone_number_id")
        for entry in entries:
            changes = entry.get("changes", []) if isinstance(entry, dict) else None
            if not isinstance(changes, list):
                raise WebhookRejected(400, "each entry must be an object with a 'changes' list")
            for change in changes:
                if not isinstance(change, dict) or not isinstance(change.get("value", {}), dict):
                    raise WebhookRejected(400, "each change must be an object with an object 'value'")
                if change.get("field") != "messages":
                    continue  # account/template/quality updates: not ours to handle
                value = change.get("value") or {}
                number = _phone_number_id(value)
                if not own_number or number != own_number:
                    # One Meta app, several numbers: this change is another number's (or nobody's).
                    skipped = len(_as_list(value.get("messages"))) + len(_as_list(value.get("statuses")))
                    misaddressed += skipped
                    if skipped:
                        log.info(
                            "cloud api channel=%s: ignored %d event(s) for phone_number_id %r (this channel: %r)",
                            self.config.channel_id,
                            skipped,
                            number,
                            own_number,
                        )
                    continue
                names = _contact_names(value.get("contacts"))
                for raw in _as_list(value.get("messages")):
                    msg = self._message(raw, names)
                    if msg is None:
                        ignored += 1
                    else:
                        messages.append(msg)
                for raw in _as_list(value.get("statuses")):
                    st = _status(raw)
                    if st is None:
                        ignored += 1
                    else:
                        statuses.append(st)
        return ParsedEvent(messages=messages, statuses=statuses, ignored=ignored, misaddressed=misaddressed)

    def _message(self, raw: Any, names: Mapping[str, str]) -> InboundMessage | None:
        if not isinstance(raw, dict) or not raw.get("id"):
            return None
        mtype = str(raw.get("type") or "")
        if mtype in _IGNORED_TYPES:
            return None
        sender = str(raw.get("from") or "")
        try:
            phone = normalize_phone(sender)
        except ContactError:
            return None  # e.g. a username-only sender: nobody we can answer by phone
        name = names.get(sender) or (next(iter(names.values())) if len(names) == 1 else "")
        context = raw.get("context") if isinstance(raw.get("context"), dict) else {}
        common: dict[str, Any] = {
            "provider_message_id": str(raw["id"]),
            "from_phone": phone,
            "from_name": name,
            "timestamp": _timestamp(raw.get("timestamp")),
            "context_id": context.get("id") or None,
            "is_group": bool(raw.get("group_id")),
        }
        body = raw.get(mtype) if isinstance(raw.get(mtype), dict) else {}

        if mtype == "text":
            return InboundMessage(kind=MessageKind.text, text=str(body.get("body") or ""), **common)
        if mtype in _MEDIA_KINDS:
            if not body.get("id"):
                return InboundMessage(kind=MessageKind.unsupported, **common)
            extra = {k: body[k] for k in ("sha256", "animated") if k in body}
            media = Media(
                id=str(body["id"]),
                mime_type=body.get("mime_type"),
                filename=body.get("filename"),
                voice=bool(body.get("voice")) if mtype == "audio" else False,
                extra=extra,
            )
            return InboundMessage(kind=_MEDIA_KINDS[mtype], text=str(body.get("caption") or ""), media=media, **common)
        if mtype == "location":
            try:
                loc = Location(
                    latitude=float(body["latitude"]),
                    longitude=float(body["longitude"]),
                    name=body.get("name"),
                    address=body.get("address"),
                )
            except (KeyError, TypeError, ValueError):
                return InboundMessage(kind=MessageKind.unsupported, **common)
            return InboundMessage(kind=MessageKind.location, location=loc, **common)
        if mtype == "interactive":
            itype = body.get("type")
            reply = body.get(itype) if itype in ("button_reply", "list_reply") else None
            if not isinstance(reply, dict):
                return InboundMessage(kind=MessageKind.unsupported, **common)  # flow replies etc.
            return InboundMessage(
                kind=MessageKind.interactive,
                text=str(reply.get("title") or ""),
                reply_id=str(reply["id"]) if reply.get("id") is not None else None,
                **common,
            )
        if mtype == "button":  # a template's quick-reply button
            payload = body.get("payload")
            return InboundMessage(
                kind=MessageKind.interactive,
                text=str(body.get("text") or payload or ""),
                reply_id=str(payload) if payload is not None else None,
                **common,
            )
        if mtype == "reaction":
            # An empty (or absent) emoji means the customer removed their reaction.
            return InboundMessage(
                kind=MessageKind.reaction,
                text=str(body.get("emoji") or ""),
                reaction_to=body.get("message_id") or None,
                **common,
            )
        return InboundMessage(kind=MessageKind.unsupported, **common)

    # -- media ---------------------------------------------------------------------------------

    async def download_media(self, media: Media) -> DownloadedMedia:
        """GET /{version}/{media_id} for a short-lived URL, then GET that URL; both with the bearer."""
        if not media.id:
            raise MediaError("Cloud API media has no id")
        headers = self._auth()
        info_resp = await fetch_media(f"{self._base}/{GRAPH_VERSION}/{media.id}", headers=headers)
        try:
            info = info_resp.json()
            url = info["url"]
        except (ValueError, KeyError, TypeError) as exc:
            raise MediaError("media lookup returned no url") from exc
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise MediaError("media lookup returned an invalid url")
        resp = await fetch_media(url, headers=headers)  # Meta wants the bearer on its media host too
        mime = info.get("mime_type") or media.mime_type or _content_type(resp) or "application/octet-stream"
        return DownloadedMedia(data=resp.content, mime_type=mime, filename=media.filename)

    # -- send ----------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        """POST /{version}/{phone_number_id}/messages; media given only as bytes is uploaded first."""
        to = _NON_DIGITS.sub("", message.to_phone)
        if not to:
            raise SendError("recipient phone number is empty", retryable=False)
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        kind = message.kind
        if kind == MessageKind.text:
            payload["type"] = "text"
            payload["text"] = {"preview_url": False, "body": message.text}
        elif kind in _OUTBOUND_MEDIA_KINDS:
            payload["type"] = kind.value
            payload[kind.value] = await self._media_object(message)
        elif kind == MessageKind.template:
            if message.template is None:
                raise SendError("template message without a template", retryable=False)
            tpl = message.template
            template: dict[str, Any] = {"name": tpl.name, "language": {"code": tpl.language}}
            if tpl.variables:
                params = [{"type": "text", "text": v} for v in tpl.variables]
                template["components"] = [{"type": "body", "parameters": params}]
            payload["type"] = "template"
            payload["template"] = template
        else:
            raise SendError(f"cannot send a {kind} message through the Cloud API", retryable=False)

        resp = await self._graph_post(self._phone_url("messages"), json=payload)
        try:
            return SendResult(str(resp.json()["messages"][0]["id"]))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            # Graph took it (2xx): retrying could deliver it twice.
            raise SendError(f"unexpected send response: {resp.text[:200]}", failure=SendFailure.unknown) from exc

    async def _media_object(self, message: OutboundMessage) -> dict[str, Any]:
        media = message.media
        if media is None:
            raise SendError(f"{message.kind} message without media", retryable=False)
        if media.url:
            obj: dict[str, Any] = {"link": media.url}
        elif media.data is not None:
            obj = {"id": await self._upload(media.data, media.mime_type, media.filename)}
        else:
            raise SendError("outbound media needs a url or data", retryable=False)
        if message.kind in _CAPTIONED and message.text:
            obj["caption"] = message.text
        if message.kind == MessageKind.document and media.filename:
            obj["filename"] = media.filename
        return obj

    async def _upload(self, data: bytes, mime_type: str, filename: str | None) -> str:
        resp = await self._graph_post(
            self._phone_url("media"),
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename or "file", data, mime_type)},
        )
        try:
            return str(resp.json()["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SendError(f"unexpected media upload response: {resp.text[:200]}", retryable=False) from exc

    async def _graph_post(self, url: str, **kwargs: Any) -> httpx.Response:
        token = self._credential("access_token")
        if not token or not self._credential("phone_number_id"):
            raise SendError("channel is missing access_token or phone_number_id", retryable=False)
        try:
            return await send_request(self.http, "POST", url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except SendError as exc:
            if exc.status_code is None:
                raise
            raise _graph_send_error(exc) from exc

    # -- helpers -------------------------------------------------------------------------------

    def _credential(self, name: str) -> str:
        return str(self.config.credentials.get(name) or "")

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._credential('access_token')}"}

    def _phone_url(self, edge: str) -> str:
        return f"{self._base}/{GRAPH_VERSION}/{self._credential('phone_number_id')}/{edge}"


def _phone_number_id(value: Mapping[str, Any]) -> str | None:
    """The business number a `messages` change is for: value.metadata.phone_number_id."""
    metadata = value.get("metadata")
    number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    return str(number) if number not in (None, "") else None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _contact_names(contacts: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for c in _as_list(contacts):
        if isinstance(c, dict) and c.get("wa_id"):
            profile = c.get("profile") if isinstance(c.get("profile"), dict) else {}
            names[str(c["wa_id"])] = str(profile.get("name") or "")
    return names


def _timestamp(value: Any) -> datetime:
    try:
        return from_epoch(value)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _status(raw: Any) -> StatusUpdate | None:
    if not isinstance(raw, dict) or not raw.get("id"):
        return None
    try:
        status = DeliveryStatus(raw.get("status"))
    except ValueError:
        return None  # "deleted", "warning", "played"...: nothing the pipeline tracks
    error = None
    errors = _as_list(raw.get("errors"))
    if errors and isinstance(errors[0], dict):
        error = _error_text(errors[0])
    elif status == DeliveryStatus.failed:
        error = "failed (no error detail)"
    return StatusUpdate(
        provider_message_id=str(raw["id"]), status=status, timestamp=_timestamp(raw.get("timestamp")), error=error
    )


def _error_text(err: Mapping[str, Any]) -> str:
    """'131047 Re-engagement message: <details>' from a webhook or Graph error object."""
    code = err.get("code")
    title = err.get("title") or err.get("message") or "error"
    data = err.get("error_data") if isinstance(err.get("error_data"), dict) else {}
    details = data.get("details")
    text = f"{code} {title}" if code is not None else str(title)
    if details and details != title:
        text += f": {details}"
    return text[:500]


def _graph_send_error(exc: SendError) -> SendError:
    """Rebuild send_request's HTTP error with Graph's error object: code, type, message, details."""
    body = exc.detail.partition(": ")[2]
    err: dict[str, Any] = {}
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            err = parsed["error"]
    except ValueError:
        # send_request keeps the first 500 characters only: fish out what's there.
        code = re.search(r'"code"\s*:\s*(\d+)', body)
        msg = re.search(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)"', body)
        if code:
            err["code"] = int(code.group(1))
        if msg:
            err["message"] = msg.group(1)
    if not err:
        return exc
    code = err.get("code")
    detail = f"HTTP {exc.status_code}: Graph error {_error_text(err)}"
    if err.get("type"):
        detail += f" [{err['type']}]"
    # Graph answered with an error object: Meta took nothing, so a transient code may be retried.
    transient = exc.retryable or (isinstance(code, int) and code in TRANSIENT_GRAPH_CODES)
    failure = SendFailure.retry if transient else SendFailure.refused
    return SendError(detail, failure=failure, status_code=exc.status_code, retry_after=exc.retry_after)


def _content_type(resp: httpx.Response | Fetched) -> str | None:
    value = resp.headers.get("content-type")
    return value.split(";")[0].strip() if value else None
