"""A local Z-API: the send endpoints (checked and recorded), media served at public URLs, and builders
for the webhook callbacks Z-API posts, shaped as developer.z-api.io documents them.

Server::

    fake = FakeZapi()
    with fake.running():                      # starts it on a free loopback port, sets fake.base_url
        adapter = ZapiAdapter(fake.channel_config(), httpx.AsyncClient())
        url = fake.add_media(b"%PDF-1.4 ...", "application/pdf", "pdf")
        fake.fail_next(2, status=500)         # the next two sends answer 500
        ...
        fake.sent[-1].action, fake.sent[-1].json, fake.sent[-1].headers["client-token"]

Callbacks (plain dicts, exactly the JSON Z-API posts; ``overrides=`` merges extra/changed fields)::

    body, headers, query = webhook_post(text_callback("oi, tem pronta entrega?"), fake.webhook_secret)
    client.post(f"/webhooks/zapi/{channel_id}", content=body, headers=headers, params=query)
"""

from __future__ import annotations

import json
import secrets
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from db.models import Provider
from runtime.channels.base import ChannelConfig, WebhookRequest

from .servers import serve_in_thread

DEFAULT_INSTANCE_ID = "3C67AB641C8AA0412F6A2242B4E23AC7"
DEFAULT_TOKEN = "F5DA3871D271E4965BD44E3B"
DEFAULT_CLIENT_TOKEN = "Fe2b1c9a8d7e4f60b5a3c2d1e0f9a8b7S"
DEFAULT_WEBHOOK_SECRET = "zapi-webhook-secret-0123456789abcdef"
CONNECTED_PHONE = "5511955554444"  # the business number linked to the instance
LEAD_PHONE = "5511988887777"
LEAD_NAME = "Maria Cliente"
GROUP_ID = "120363019502650977"

# What each send endpoint requires in the body, besides "phone".
_CONTENT_FIELD = {"send-text": "message", "send-image": "image", "send-audio": "audio", "send-video": "video"}


@dataclass(frozen=True)
class ZapiRequest:
    """One POST to a send endpoint, as the fake saw it."""

    path: str  # '/instances/{id}/token/{token}/send-document/pdf'
    action: str  # 'send-text', 'send-image', 'send-audio', 'send-video', 'send-document/pdf'
    headers: dict[str, str]  # lower-cased names
    json: Any  # the parsed body (None when it was not JSON)
    status_code: int  # what the fake answered
    message_id: str | None = None  # the id it handed out, when it accepted the send


@dataclass
class FakeZapi:
    instance_id: str = DEFAULT_INSTANCE_ID
    token: str = DEFAULT_TOKEN
    client_token: str = DEFAULT_CLIENT_TOKEN
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET  # not Z-API's: ours, handed to channel_config()
    base_url: str = ""  # set by running()
    sent: list[ZapiRequest] = field(default_factory=list)  # accepted sends only
    requests: list[ZapiRequest] = field(default_factory=list)  # every send attempt, refused ones included
    media_requests: list[str] = field(default_factory=list)  # paths of media GETs
    _media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    _failures: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)

    # -- running ----------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/instances/{instance_id}/token/{token}/{action:path}", self._send, methods=["POST"]),
                Route("/media/{name}", self._media_get, methods=["GET"]),
            ]
        )

    @contextmanager
    def running(self, port: int | None = None) -> Iterator[str]:
        """Serve on loopback for the duration of the block; yields (and sets) base_url."""
        with serve_in_thread(self.app(), port) as url:
            self.base_url = url
            yield url

    def credentials(self, **overrides: str) -> dict[str, str]:
        creds = {
            "instance_id": self.instance_id,
            "token": self.token,
            "client_token": self.client_token,
            "webhook_secret": self.webhook_secret,
        }
        return {**creds, **overrides}

    def channel_config(
        self, channel_id: str = "00000000-0000-0000-0000-00000000a91e", **overrides: str
    ) -> ChannelConfig:
        """A ChannelConfig pointing at this fake; ``overrides`` replace credentials (e.g. a wrong token)."""
        return ChannelConfig(
            channel_id=channel_id,
            provider=Provider.zapi,
            api_base_url=self.base_url,
            credentials=self.credentials(**overrides),
            webhook_url=f"http://testserver/webhooks/zapi/{channel_id}?secret={self.webhook_secret}",
        )

    # -- scripting --------------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500, error: str | None = None) -> None:
        """The next ``n`` authenticated sends answer ``status`` with ``{"error": ...}``. status=200 plays
        Z-API's "200 with an error field" answer."""
        body = {"error": error or _default_error(status)}
        self._failures.extend([(status, body)] * n)

    def add_media(self, data: bytes, mime_type: str, ext: str = "bin") -> str:
        """Serve ``data`` at a public URL (as Z-API's storage does) and return it."""
        if not self.base_url:
            raise RuntimeError("start the fake first: `with fake.running(): ...`")
        name = f"{secrets.token_hex(16)}.{ext}"
        self._media[name] = (data, mime_type)
        return f"{self.base_url}/media/{name}"

    def expire_media(self, url: str) -> None:
        """Make a media URL answer 404, like an expired Z-API storage link."""
        self._media.pop(url.rsplit("/", 1)[-1], None)

    def reset(self) -> None:
        """Forget recorded requests, scripted failures and media (for a fake shared across tests)."""
        self.sent.clear()
        self.requests.clear()
        self.media_requests.clear()
        self._media.clear()
        self._failures.clear()

    @property
    def last(self) -> ZapiRequest:
        return self.sent[-1]

    # -- endpoints --------------------------------------------------------------------------------

    async def _send(self, request: Request) -> JSONResponse:
        action = request.path_params["action"]
        headers = {k.lower(): v for k, v in request.headers.items()}
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None

        def answer(status: int, payload: dict[str, Any], message_id: str | None = None) -> JSONResponse:
            self.requests.append(ZapiRequest(request.url.path, action, headers, body, status, message_id))
            return JSONResponse(payload, status_code=status)

        p = request.path_params
        if p["instance_id"] != self.instance_id or p["token"] != self.token:
            return answer(404, {"error": "Instance not found"})
        offered = headers.get("client-token")
        if not offered:
            return answer(400, {"error": "your client-token is not configured"})
        if offered != self.client_token:
            return answer(403, {"error": f"Client-Token {offered} not allowed"})
        if not (action in _CONTENT_FIELD or (action.startswith("send-document/") and action.count("/") == 1)):
            return answer(404, {"error": "Not found", "message": f"unknown endpoint {action}"})
        if "application/json" not in headers.get("content-type", ""):
            return answer(415, {"error": "Unsupported Media Type"})
        if self._failures:
            status, payload = self._failures.popleft()
            return answer(status, payload)
        problem = _validate(action, body)
        if problem:
            return answer(400, {"error": problem})

        message_id = secrets.token_hex(10).upper()
        payload = {"zaapId": secrets.token_hex(16).upper(), "messageId": message_id, "id": message_id}
        response = answer(200, payload, message_id)
        self.sent.append(self.requests[-1])
        return response

    async def _media_get(self, request: Request) -> Response:
        self.media_requests.append(request.url.path)
        item = self._media.get(request.path_params["name"])
        if item is None:
            return Response(b"<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml")
        data, mime_type = item
        return Response(data, media_type=mime_type)


def _default_error(status: int) -> str:
    if status == 200:
        return "Message has not been sent because it got invalid phone number"
    if status == 429:
        return "Too many requests"
    return "Internal server error" if status >= 500 else "Bad request"


def _validate(action: str, body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body must be a JSON object"
    phone = body.get("phone")
    if not isinstance(phone, str) or not phone.isdigit():
        return "phone is required (digits only: DDI DDD NUMBER)"
    field_name = "document" if action.startswith("send-document/") else _CONTENT_FIELD[action]
    if not isinstance(body.get(field_name), str) or not body[field_name]:
        return f"{field_name} is required"
    return None


# -- callback builders --------------------------------------------------------------------------------


def new_message_id() -> str:
    """An id shaped like WhatsApp's ('3EB0796DC6B777C0C7CD')."""
    return secrets.token_hex(10).upper()


def now_ms() -> int:
    return int(time.time() * 1000)


def _received(
    content: Mapping[str, Any],
    *,
    phone: str = LEAD_PHONE,
    name: str = LEAD_NAME,
    message_id: str | None = None,
    momment: int | None = None,
    reference_message_id: str | None = None,
    from_me: bool = False,
    instance_id: str = DEFAULT_INSTANCE_ID,
    connected_phone: str = CONNECTED_PHONE,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ReceivedCallback with the common attributes of Z-API's examples, then ``content`` and ``overrides``."""
    payload: dict[str, Any] = {
        "isStatusReply": False,
        "senderLid": "81896604192873@lid",
        "connectedPhone": connected_phone,
        "waitingMessage": False,
        "isEdit": False,
        "isGroup": False,
        "isNewsletter": False,
        "instanceId": instance_id,
        "messageId": message_id or new_message_id(),
        "phone": phone,
        "fromMe": from_me,
        "momment": momment if momment is not None else now_ms(),
        "status": "RECEIVED",
        "chatName": name,
        "senderPhoto": None,
        "senderName": name,
        "participantPhone": None,
        "participantLid": None,
        "photo": None,
        "broadcast": False,
        "referenceMessageId": reference_message_id,
        "forwarded": False,
        "type": "ReceivedCallback",
        **content,
    }
    return {**payload, **(overrides or {})}


def text_callback(text: str, **common: Any) -> dict[str, Any]:
    """A lead's text. ``common``: phone, name, message_id, momment, reference_message_id, overrides."""
    return _received({"text": {"message": text}}, **common)


MediaKind = Literal["image", "audio", "video", "document", "sticker"]
_DEFAULT_MIME = {
    "image": "image/jpeg",
    "audio": "audio/ogg; codecs=opus",
    "video": "video/mp4",
    "document": "application/pdf",
    "sticker": "image/webp",
}


def media_callback(
    kind: MediaKind,
    url: str,
    *,
    mime_type: str | None = None,
    caption: str = "",
    file_name: str | None = None,
    ptt: bool = True,
    **common: Any,
) -> dict[str, Any]:
    """An image / audio (``ptt`` = voice note) / video / document / sticker whose bytes live at ``url``."""
    mime = mime_type or _DEFAULT_MIME[kind]
    if kind == "image":
        obj = {"mimeType": mime, "imageUrl": url, "thumbnailUrl": url, "caption": caption, "width": 600, "height": 315}
    elif kind == "audio":
        obj = {"ptt": ptt, "seconds": 10, "audioUrl": url, "mimeType": mime}
    elif kind == "video":
        obj = {"videoUrl": url, "caption": caption, "mimeType": mime, "seconds": 13}
    elif kind == "document":
        fname = file_name or "catalogo.pdf"
        obj = {"documentUrl": url, "mimeType": mime, "title": fname.rsplit(".", 1)[0], "pageCount": 1}
        obj["fileName"] = fname
        if caption:
            obj["caption"] = caption
    elif kind == "sticker":
        obj = {"stickerUrl": url, "mimeType": mime}
    else:
        raise ValueError(f"unknown media kind {kind!r}")
    return _received({kind: obj}, **common)


def location_callback(
    latitude: float, longitude: float, *, name: str | None = None, address: str = "", **common: Any
) -> dict[str, Any]:
    loc: dict[str, Any] = {"longitude": longitude, "latitude": latitude, "address": address, "url": ""}
    if name is not None:
        loc["name"] = name
    return _received({"location": loc}, **common)


def button_reply_callback(button_id: str, text: str, **common: Any) -> dict[str, Any]:
    """A tap on a reply button (``reference_message_id`` = the message that had the buttons)."""
    common.setdefault("reference_message_id", new_message_id())
    return _received({"buttonsResponseMessage": {"buttonId": button_id, "message": text}}, **common)


def list_reply_callback(row_id: str, title: str, description: str = "", **common: Any) -> dict[str, Any]:
    """A row chosen in an option list: Z-API sends the row's title and its description as 'message'."""
    common.setdefault("reference_message_id", new_message_id())
    row = {"message": description, "title": title, "selectedRowId": row_id}
    return _received({"listResponseMessage": row}, **common)


def reaction_callback(emoji: str, referenced_message_id: str, **common: Any) -> dict[str, Any]:
    """A reaction (emoji '' = reaction removed) to one of our messages."""
    reaction = {
        "value": emoji,
        "time": now_ms(),
        "reactionBy": common.get("phone", LEAD_PHONE),
        "referencedMessage": {
            "messageId": referenced_message_id,
            "fromMe": True,
            "phone": common.get("phone", LEAD_PHONE),
            "participant": None,
        },
    }
    return _received({"reaction": reaction}, **common)


def from_me_echo(text: str, *, from_api: bool = True, **common: Any) -> dict[str, Any]:
    """Our own send (``from_api``) or the owner typing on the phone, echoed by "notify sent by me"."""
    overrides = {"status": "SENT", "fromApi": from_api, **(common.pop("overrides", None) or {})}
    return _received({"text": {"message": text}}, from_me=True, overrides=overrides, **common)


def group_callback(
    text: str,
    *,
    group_id: str = GROUP_ID,
    participant_phone: str | None = LEAD_PHONE,
    participant_lid: str | None = "9999999999999@lid",
    group_name: str = "Clientes VIP",
    name: str = LEAD_NAME,
    **common: Any,
) -> dict[str, Any]:
    """A text in a group: ``phone`` is '<group id>-group', the author is ``participantPhone``."""
    overrides = {
        "isGroup": True,
        "chatName": group_name,
        "senderName": name,
        "participantPhone": participant_phone,
        "participantLid": participant_lid,
        **(common.pop("overrides", None) or {}),
    }
    return _received({"text": {"message": text}}, phone=f"{group_id}-group", name=name, overrides=overrides, **common)


def notification_callback(notification: str = "CALL_MISSED_VOICE", **common: Any) -> dict[str, Any]:
    """A ReceivedCallback that is a notification (call, group event...), not a message."""
    return _received({"notification": notification, "notificationParameters": [], "callId": None}, **common)


def status_callback(
    ids: str | list[str],
    status: str = "READ",
    *,
    phone: str = LEAD_PHONE,
    momment: int | None = None,
    is_group: bool = False,
    instance_id: str = DEFAULT_INSTANCE_ID,
) -> dict[str, Any]:
    """A MessageStatusCallback: status SENT, RECEIVED, READ, READ_BY_ME or PLAYED for ``ids``."""
    return {
        "instanceId": instance_id,
        "status": status,
        "ids": [ids] if isinstance(ids, str) else list(ids),
        "momment": momment if momment is not None else now_ms(),
        "phoneDevice": 0,
        "phone": phone,
        "type": "MessageStatusCallback",
        "isGroup": is_group,
    }


def delivery_callback(
    message_id: str,
    error: str | None = None,
    *,
    error_code: str | None = None,
    phone: str = LEAD_PHONE,
    momment: int | None = None,
    instance_id: str = DEFAULT_INSTANCE_ID,
) -> dict[str, Any]:
    """A DeliveryCallback (Z-API's ack of our send); ``error`` present only when the send failed."""
    payload: dict[str, Any] = {
        "phone": phone,
        "messageId": message_id,
        "instanceId": instance_id,
        "zaapId": secrets.token_hex(16).upper(),
        "momment": momment if momment is not None else now_ms(),
        "type": "DeliveryCallback",
    }
    if error is not None:
        payload["error"] = error
    if error_code is not None:
        payload["errorCode"] = error_code
    return payload


def connected_callback(*, phone: str = CONNECTED_PHONE, instance_id: str = DEFAULT_INSTANCE_ID) -> dict[str, Any]:
    return {
        "type": "ConnectedCallback",
        "connected": True,
        "momment": now_ms(),
        "instanceId": instance_id,
        "phone": phone,
    }


def disconnected_callback(*, instance_id: str = DEFAULT_INSTANCE_ID) -> dict[str, Any]:
    return {
        "momment": now_ms(),
        "error": "Device has been disconnected",
        "disconnected": True,
        "type": "DisconnectedCallback",
        "instanceId": instance_id,
    }


def presence_callback(
    status: str = "COMPOSING", *, phone: str = LEAD_PHONE, instance_id: str = DEFAULT_INSTANCE_ID
) -> dict[str, Any]:
    return {
        "type": "PresenceChatCallback",
        "phone": phone,
        "status": status,
        "lastSeen": None,
        "instanceId": instance_id,
    }


# -- posting a callback -------------------------------------------------------------------------------

SecretVia = Literal["query", "header", "none"]


def webhook_post(
    payload: Mapping[str, Any] | bytes, secret: str = DEFAULT_WEBHOOK_SECRET, *, via: SecretVia = "query"
) -> tuple[bytes, dict[str, str], dict[str, str]]:
    """(body, headers, query) of Z-API posting ``payload`` to our webhook URL, whose ``?secret=`` carries
    the channel's secret (``via="header"``: in X-Webhook-Secret instead; ``"none"``: no secret).
    ``payload`` as bytes is sent verbatim (malformed-body tests)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    headers = {"content-type": "application/json", "user-agent": "Z-API"}
    query: dict[str, str] = {}
    if via == "query":
        query["secret"] = secret
    elif via == "header":
        headers["x-webhook-secret"] = secret
    return body, headers, query


def webhook_request(
    payload: Mapping[str, Any] | bytes,
    secret: str = DEFAULT_WEBHOOK_SECRET,
    *,
    via: SecretVia = "query",
    url: str = "https://app.example.com/webhooks/zapi/channel",
) -> WebhookRequest:
    """The same post as a WebhookRequest, for adapter-level tests."""
    body, headers, query = webhook_post(payload, secret, via=via)
    full_url = f"{url}?secret={secret}" if query else url
    return WebhookRequest(method="POST", url=full_url, headers=headers, query=query, body=body)
