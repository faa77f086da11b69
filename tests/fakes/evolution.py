"""A local Evolution API v2 speaking its wire format, plus builders of the webhooks it posts.

Server (run it with ``tests.fakes.servers.serve_in_thread(fake.app())``)::

    fake = FakeEvolution()                       # api_key=DEFAULT_API_KEY, instance=DEFAULT_INSTANCE
    with serve_in_thread(fake.app()) as base_url:
        ...                                      # point the channel's api_base_url at base_url
    fake.sent[-1].json == {"number": "5511988887777", "text": "Olá!"}

Endpoints, as Evolution v2 routes them (``{instance}`` must equal ``fake.instance``, else 404)::

    POST /message/sendText/{instance}               {"number", "text"}
    POST /message/sendMedia/{instance}              {"number", "mediatype", "mimetype", "caption", "media", "fileName"}
    POST /message/sendWhatsAppAudio/{instance}      {"number", "audio"}
    POST /chat/getBase64FromMediaMessage/{instance} {"message": {"key": {"id", ...}}, "convertToMp4"}

Every request needs the header ``apikey: <fake.api_key>`` (401 otherwise). Errors use Evolution's
shape: ``{"status": 401, "error": "Unauthorized", "response": {"message": ...}}``. Sends answer 201
with the message Evolution would store: ``{"key": {"remoteJid", "fromMe": true, "id"}, "message",
"messageType", "messageTimestamp", "status": "PENDING", ...}``.

State and knobs:
    ``sent``               accepted sends (SentMessage: path, headers, json, message_id), in order
    ``requests``           every request received (RecordedRequest: path, headers, json, status)
    ``fail_next(n, status=500, message=...)``   the next n authenticated requests fail with that status
    ``add_media(message_id, data, mimetype, file_name=None)``  bytes getBase64FromMediaMessage returns
    ``unknown_numbers``    digits that are "not on WhatsApp": sends to them answer 400 exists:false
    ``reset()``            forget everything above

Webhook builders return the JSON body Evolution POSTs (``{"event", "instance", "data", ...}``),
shaped as v2.3.x sends it: ``text_event``, ``media_event``, ``location_event``,
``button_reply_event``, ``list_reply_event``, ``template_button_reply_event``, ``reaction_event``,
``from_me_echo``, ``lid_event``, ``group_event``, ``status_event``, ``connection_event``, and
``envelope(event, data)`` for anything else; then
``post_args(body, secret)`` -> ``(content, headers, params)`` for an HTTP client, or
``webhook_request(body, secret)`` -> a ``WebhookRequest`` for adapter-level tests.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DEFAULT_INSTANCE = "loja-teste"
DEFAULT_API_KEY = "evo-test-api-key"
DEFAULT_SECRET = "evo-webhook-secret"
DEFAULT_PHONE = "+5511988887777"  # the customer writing in
DEFAULT_NAME = "Cliente Teste"
OWN_JID = "5511900001111@s.whatsapp.net"  # the business number connected to the instance
SERVER_URL = "http://localhost:8080"

_NON_DIGITS = re.compile(r"\D")
_DOC_NAME = re.compile(r".*/(.+?)\.")

# ---- helpers shared by the server and the builders -----------------------------------------------


def new_message_id() -> str:
    """A WhatsApp-style message id, as Baileys generates them ('3EB0' + uppercase hex)."""
    return "3EB0" + secrets.token_hex(9).upper()


def jid(phone: str) -> str:
    """'+5511988887777' -> '5511988887777@s.whatsapp.net'."""
    return _NON_DIGITS.sub("", phone) + "@s.whatsapp.net"


def evolution_error(status: int, message: Any) -> dict[str, Any]:
    """Evolution's error body (its Express error handler)."""
    return {"status": status, "error": HTTPStatus(status).phrase, "response": {"message": message}}


# ---- the fake server -------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]  # lower-cased names
    json: Any  # parsed body, or None when it was not JSON
    status: int  # what the fake answered


@dataclass
class SentMessage:
    """A send the fake accepted."""

    path: str  # e.g. "/message/sendText/loja-teste"
    headers: dict[str, str]
    json: dict[str, Any]
    message_id: str  # the key.id it answered

    @property
    def endpoint(self) -> str:
        """'sendText', 'sendMedia' or 'sendWhatsAppAudio'."""
        return self.path.split("/")[2]

    @property
    def number(self) -> str:
        return str(self.json.get("number", ""))

    @property
    def text(self) -> str:
        """The text, or a media caption."""
        return str(self.json.get("text") or self.json.get("caption") or "")


@dataclass
class FakeEvolution:
    api_key: str = DEFAULT_API_KEY
    instance: str = DEFAULT_INSTANCE
    sent: list[SentMessage] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    unknown_numbers: set[str] = field(default_factory=set)
    _failures: list[tuple[int, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/message/sendText/{instance}", self._send_text, methods=["POST"]),
                Route("/message/sendMedia/{instance}", self._send_media, methods=["POST"]),
                Route("/message/sendWhatsAppAudio/{instance}", self._send_audio, methods=["POST"]),
                Route("/chat/getBase64FromMediaMessage/{instance}", self._get_base64, methods=["POST"]),
            ]
        )

    # -- knobs

    def fail_next(self, n: int = 1, status: int = 500, message: Any = "Internal Server Error") -> None:
        """The next n authenticated requests answer `status` with Evolution's error body."""
        with self._lock:
            self._failures.extend([(status, message)] * n)

    def add_media(self, message_id: str, data: bytes, mimetype: str, file_name: str | None = None) -> None:
        """Bytes getBase64FromMediaMessage returns for the message whose key.id is message_id."""
        self.media[message_id] = {"data": data, "mimetype": mimetype, "fileName": file_name}

    def reset(self) -> None:
        with self._lock:
            self.sent.clear()
            self.requests.clear()
            self.media.clear()
            self.unknown_numbers.clear()
            self._failures.clear()

    # -- plumbing

    async def _gate(self, request: Request) -> tuple[Any, JSONResponse | None]:
        """(parsed body, early answer or None): auth, instance, injected failures, JSON."""
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in request.headers.items()}
        answer: JSONResponse | None = None
        if headers.get("apikey") != self.api_key:
            answer = self._error(401, "Unauthorized")
        elif request.path_params["instance"] != self.instance:
            answer = self._error(404, [f'The "{request.path_params["instance"]}" instance does not exist'])
        else:
            with self._lock:
                failure = self._failures.pop(0) if self._failures else None
            if failure:
                answer = self._error(*failure)
            elif not isinstance(body, dict):
                answer = self._error(400, ["request body must be a JSON object"])
        record = RecordedRequest(request.url.path, headers, body, answer.status_code if answer else 201)
        request.state.record = record
        self.requests.append(record)
        return body, answer

    def _error(self, status: int, message: Any) -> JSONResponse:
        return JSONResponse(evolution_error(status, message), status_code=status)

    def _reject(self, request: Request, status: int, message: Any) -> JSONResponse:
        request.state.record.status = status
        return self._error(status, message)

    def _accept(
        self, request: Request, body: dict[str, Any], message: dict[str, Any], message_type: str
    ) -> JSONResponse:
        number = str(body["number"])
        if _NON_DIGITS.sub("", number) in self.unknown_numbers:
            remote = number if "@" in number else jid(number)
            return self._reject(request, 400, [{"jid": remote, "exists": False, "number": number}])
        message_id = new_message_id()
        self.sent.append(SentMessage(request.url.path, request.state.record.headers, body, message_id))
        remote = number if "@" in number else jid(number)
        return JSONResponse(
            {
                "key": {"remoteJid": remote, "fromMe": True, "id": message_id},
                "pushName": "",
                "status": "PENDING",
                "message": message,
                "contextInfo": None,
                "messageType": message_type,
                "messageTimestamp": int(time.time()),
                "instanceId": str(uuid.uuid5(uuid.NAMESPACE_URL, self.instance)),
                "source": "unknown",
            },
            status_code=201,
        )

    # -- endpoints

    async def _send_text(self, request: Request) -> JSONResponse:
        body, answer = await self._gate(request)
        if answer:
            return answer
        if not body.get("number") or not isinstance(body.get("text"), str) or not body["text"]:
            return self._reject(request, 400, ['"number" and "text" are required'])
        return self._accept(request, body, {"conversation": body["text"]}, "conversation")

    async def _send_media(self, request: Request) -> JSONResponse:
        body, answer = await self._gate(request)
        if answer:
            return answer
        mediatype = body.get("mediatype")
        if not body.get("number") or not body.get("media") or mediatype not in ("image", "document", "video", "audio"):
            return self._reject(request, 400, ['"number", "mediatype" and "media" are required'])
        if mediatype == "document" and not body.get("fileName") and not _DOC_NAME.match(str(body["media"])):
            # Evolution derives a missing document name with this regex; base64 never matches and it crashes.
            return self._reject(request, 500, "TypeError: Cannot read properties of null (reading '1')")
        content = {
            "url": f"https://mmg.whatsapp.net/fake/{new_message_id()}.enc",
            "mimetype": body.get("mimetype") or "application/octet-stream",
            "caption": body.get("caption"),
            "fileName": body.get("fileName"),
        }
        message_type = f"{mediatype}Message"
        return self._accept(request, body, {message_type: content}, message_type)

    async def _send_audio(self, request: Request) -> JSONResponse:
        body, answer = await self._gate(request)
        if answer:
            return answer
        if not body.get("number") or not body.get("audio"):
            return self._reject(request, 400, ['"number" and "audio" are required'])
        content = {"url": "https://mmg.whatsapp.net/fake/audio.enc", "mimetype": "audio/ogg; codecs=opus", "ptt": True}
        return self._accept(request, body, {"audioMessage": content}, "audioMessage")

    async def _get_base64(self, request: Request) -> JSONResponse:
        body, answer = await self._gate(request)
        if answer:
            return answer
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        key = message.get("key") if isinstance(message.get("key"), dict) else {}
        stored = self.media.get(str(key.get("id")))
        if stored is None:
            return self._reject(request, 400, ["Message not found"])
        mimetype = stored["mimetype"]
        return JSONResponse(
            {
                "mediaType": _media_type_for(mimetype),
                "fileName": stored["fileName"],
                "caption": None,
                "size": {"fileLength": str(len(stored["data"])), "height": None, "width": None},
                "mimetype": mimetype,
                "base64": base64.b64encode(stored["data"]).decode("ascii"),
            },
            status_code=201,
        )


def _media_type_for(mimetype: str) -> str:
    top = mimetype.split("/", 1)[0]
    return {"image": "imageMessage", "audio": "audioMessage", "video": "videoMessage"}.get(top, "documentMessage")


# ---- webhook builders ------------------------------------------------------------------------------


def envelope(event: str, data: Any, *, instance: str = DEFAULT_INSTANCE, webhook_url: str = "") -> dict[str, Any]:
    """The body Evolution v2 POSTs to the webhook for any event (webhook.controller emit())."""
    return {
        "event": event,
        "instance": instance,
        "data": data,
        "destination": webhook_url,
        "date_time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "sender": OWN_JID,
        "server_url": SERVER_URL,
        "apikey": None,  # only filled when AUTHENTICATION_EXPOSE_IN_FETCH_INSTANCES is on
    }


def _upsert(
    message: dict[str, Any],
    message_type: str,
    *,
    key: dict[str, Any],
    name: str | None,
    timestamp: int | None,
    instance: str,
    context_info: dict[str, Any] | None = None,
    event: str = "messages.upsert",
) -> dict[str, Any]:
    data = {
        "key": key,
        "pushName": name,
        "status": "DELIVERY_ACK",
        "message": {
            **message,
            "messageContextInfo": {"deviceListMetadata": {}, "deviceListMetadataVersion": 2},
        },
        "contextInfo": context_info,
        "messageType": message_type,
        "messageTimestamp": timestamp if timestamp is not None else int(time.time()),
        "instanceId": str(uuid.uuid5(uuid.NAMESPACE_URL, instance)),
        "source": "android",
    }
    return envelope(event, data, instance=instance)


def _key(phone: str, message_id: str | None, from_me: bool = False) -> dict[str, Any]:
    return {"remoteJid": jid(phone), "fromMe": from_me, "id": message_id or new_message_id()}


def _reply_context(reply_to: str | None) -> dict[str, Any] | None:
    if not reply_to:
        return None
    return {"stanzaId": reply_to, "participant": OWN_JID, "quotedMessage": {"conversation": "..."}}


def text_event(
    text: str,
    *,
    phone: str = DEFAULT_PHONE,
    name: str | None = DEFAULT_NAME,
    message_id: str | None = None,
    timestamp: int | None = None,
    reply_to: str | None = None,
    extended: bool = False,
    instance: str = DEFAULT_INSTANCE,
    event: str = "messages.upsert",
) -> dict[str, Any]:
    """A text from a customer. v2.3 sends every text as 'conversation' (reply context lifted to
    data.contextInfo); extended=True gives the raw 'extendedTextMessage' older versions send."""
    context = _reply_context(reply_to)
    if extended:
        inner: dict[str, Any] = {"text": text}
        if context:
            inner["contextInfo"] = context
        message, message_type = {"extendedTextMessage": inner}, "extendedTextMessage"
    else:
        message, message_type = {"conversation": text}, "conversation"
    return _upsert(
        message,
        message_type,
        key=_key(phone, message_id),
        name=name,
        timestamp=timestamp,
        instance=instance,
        context_info=context,
        event=event,
    )


_MEDIA_DEFAULT_MIME = {
    "image": "image/jpeg",
    "audio": "audio/ogg; codecs=opus",
    "video": "video/mp4",
    "document": "application/pdf",
    "sticker": "image/webp",
}


def media_event(
    kind: str,
    *,
    caption: str = "",
    mimetype: str | None = None,
    file_name: str | None = None,
    voice: bool = True,
    inline: bytes | None = None,
    phone: str = DEFAULT_PHONE,
    name: str | None = DEFAULT_NAME,
    message_id: str | None = None,
    timestamp: int | None = None,
    with_caption_wrapper: bool = False,
    instance: str = DEFAULT_INSTANCE,
) -> dict[str, Any]:
    """kind: image, audio, video, document or sticker. voice: an audio's ptt flag. inline: bytes
    Evolution adds as data.message.base64 when the webhook's base64 option is on.
    with_caption_wrapper: a captioned document inside 'documentWithCaptionMessage'."""
    if kind not in _MEDIA_DEFAULT_MIME:
        raise ValueError(f"unknown media kind {kind!r}")
    mime = mimetype or _MEDIA_DEFAULT_MIME[kind]
    content: dict[str, Any] = {
        "url": f"https://mmg.whatsapp.net/v/t62.7118-24/{new_message_id()}.enc?ccb=11-4&oh=x&oe=y&mms3=true",
        "mimetype": mime,
        "fileSha256": base64.b64encode(secrets.token_bytes(32)).decode(),
        "fileLength": str(len(inline) if inline else 12345),
        "mediaKey": base64.b64encode(secrets.token_bytes(32)).decode(),
        "directPath": "/v/t62.7118-24/fake.enc",
        "mediaKeyTimestamp": str(int(time.time())),
    }
    if kind in ("image", "video", "document") and caption:
        content["caption"] = caption
    if kind == "audio":
        content.update({"seconds": 7, "ptt": voice})
    if kind in ("image", "video", "sticker"):
        content.update({"height": 640, "width": 480})
    if kind == "document":
        content.update({"fileName": file_name or "catalogo.pdf", "title": file_name or "catalogo.pdf"})
    message_type = f"{kind}Message"
    message: dict[str, Any] = {message_type: content}
    if with_caption_wrapper:
        message = {"documentWithCaptionMessage": {"message": message}}
        message_type = "documentWithCaptionMessage"
    if inline is not None:
        message["base64"] = base64.b64encode(inline).decode("ascii")
    return _upsert(
        message, message_type, key=_key(phone, message_id), name=name, timestamp=timestamp, instance=instance
    )


def location_event(
    latitude: float,
    longitude: float,
    *,
    place: str | None = None,
    address: str | None = None,
    phone: str = DEFAULT_PHONE,
    name: str | None = DEFAULT_NAME,
    message_id: str | None = None,
    instance: str = DEFAULT_INSTANCE,
) -> dict[str, Any]:
    content: dict[str, Any] = {"degreesLatitude": latitude, "degreesLongitude": longitude}
    if place:
        content["name"] = place
    if address:
        content["address"] = address
    return _upsert(
        {"locationMessage": content},
        "locationMessage",
        key=_key(phone, message_id),
        name=name,
        timestamp=None,
        instance=instance,
    )


def button_reply_event(
    button_id: str,
    title: str,
    *,
    reply_to: str | None = None,
    phone: str = DEFAULT_PHONE,
    name: str | None = DEFAULT_NAME,
    message_id: str | None = None,
    instance: str = DEFAULT_INSTANCE,
) -> dict[str, Any]:
    """The customer tapped a reply button of a buttons message we sent (reply_to: its id)."""
    context = _reply_context(reply_to)
    content: dict[str, Any] = {"selectedButtonId": button_id, "selectedDisplayText": title, "type": "DISPLAY_TEXT"}
    if context:
        content["contextInfo"] = context
    return _upsert(
        {"buttonsResponseMessage": content},
        "buttonsResponseMessage",
        key=_key(phone, message_id),
        name=name,
        timestamp=None,
        instance=instance,
        context_info=context,
    )


def list_reply_event(
    row_id: str,
    title: str,
    *,
    description: str | None = None,
    reply_to: str | None = None,
    phone: str = DEFAULT_PHONE,
    name: str | None = DEFAULT_NAME,
    message_id: str | None = None,
    instance: str = DEFAULT_INSTANCE,
) -> dict[str, Any]:
    """The customer picked a row of a list message we sent."""
    context = _reply_context(reply_to)
    content: dict[str, Any] = {
        "title": title,
        "listType": "SINGLE_SELECT",
        "singleSelectReply": {"selectedRowId": row_id},
    }
    if description:
        content["description"] = description
    if context:
        content["contextInfo"] = context
    return _upsert(
        {"listResponseMessage": content},
        "listResponseMessage",
        key=_key(phone, message_id),
        name=name,
        timestamp=None,
        instance=instance,
        context_info=context,
    )


def template_button_reply_event(
    button_id: str,
    title: str,
    *,
    phone: str = DEFAULT_PHONE,
    name: str | None = DEFAULT_NAME,
    message_id: str | None = None,
    instance: str = DEFAULT_INSTANCE,
) -> dict[str, Any]:
    content = {"selectedId": button_id, "selectedDisplayText": title, "selectedIndex": 0}
    return _upsert(
        {"templateButtonReplyMessage": content},
        "templateButtonReplyMessage",
        key=_key(phone, message_id),
        name=name,
        timestamp=None,
        instance=instance,
    )


def reaction_event(
    emoji: str,
    target_message_id: str,
    *,
    phone: str = DEFAULT_PHONE,
    name: str | None = DEFAULT_NAME,
    message_id: str | None = None,
    instance: str = DEFAULT_INSTANCE,
) -> dict[str, Any]:
    """The customer reacted to one of our messages ('' = reaction removed)."""
    content = {
        "key": {"remoteJid": jid(phone), "fromMe": True, "id": target_message_id},
        "text": emoji,
        "senderTimestampMs": str(int(time.time() * 1000)),
    }
    return _upsert(
        {"reactionMessage": content},
        "reactionMessage",
        key=_key(phone, message_id),
        name=name,
        timestamp=None,
        instance=instance,
    )


def from_me_echo(
    text: str,
    *,
    phone: str = DEFAULT_PHONE,
    message_id: str | None = None,
    instance: str = DEFAULT_INSTANCE,
) -> dict[str, Any]:
    """A message sent by the business itself (our API send, or the owner typing on the phone)."""
    return _upsert(
        {"conversation": text},
        "conversation",
        key=_key(phone, message_id, from_me=True),
        name="",
        timestamp=None,
        instance=instance,
    )


def lid_event(
    text: str,
    *,
    lid: str = "103899771998284",
    phone: str | None = None,
    style: str = "alt",
    name: str | None = DEFAULT_NAME,
    message_id: str | None = None,
    instance: str = DEFAULT_INSTANCE,
) -> dict[str, Any]:
    """A text from a contact WhatsApp addresses by LID ('<lid>@lid').

    phone=None: only the LID is known (what many 2.2/2.3 installs send). With a phone, style says
    where the number is: "alt" (2.3.6: remoteJid=LID, remoteJidAlt=number), "sender_pn" (2.3.0-2.3.5:
    key.senderPn) or "swapped" (2.3.7+: remoteJid=number, remoteJidAlt=LID)."""
    lid_jid = f"{lid}@lid"
    key: dict[str, Any] = {"remoteJid": lid_jid, "fromMe": False, "id": message_id or new_message_id()}
    if phone is not None:
        if style == "alt":
            key.update({"remoteJidAlt": jid(phone), "addressingMode": "lid"})
        elif style == "sender_pn":
            key.update({"senderPn": jid(phone)})
        elif style == "swapped":
            key.update({"remoteJid": jid(phone), "remoteJidAlt": lid_jid, "addressingMode": "pn"})
        else:
            raise ValueError(f"unknown LID style {style!r}")
    return _upsert({"conversation": text}, "conversation", key=key, name=name, timestamp=None, instance=instance)


def group_event(
    text: str,
    *,
    group_id: str = "120363025246125486@g.us",
    participant: str = DEFAULT_PHONE,
    participant_lid: str | None = None,
    name: str | None = DEFAULT_NAME,
    message_id: str | None = None,
    instance: str = DEFAULT_INSTANCE,
) -> dict[str, Any]:
    """A text in a group. participant_lid: the author is addressed by LID (key.participant) and
    the number comes in key.participantAlt."""
    key: dict[str, Any] = {"remoteJid": group_id, "fromMe": False, "id": message_id or new_message_id()}
    if participant_lid:
        key.update({"participant": f"{participant_lid}@lid", "participantAlt": jid(participant)})
    else:
        key["participant"] = jid(participant)
    return _upsert({"conversation": text}, "conversation", key=key, name=name, timestamp=None, instance=instance)


def status_event(
    message_id: str,
    status: str = "DELIVERY_ACK",
    *,
    phone: str = DEFAULT_PHONE,
    from_me: bool = True,
    instance: str = DEFAULT_INSTANCE,
    event: str = "messages.update",
) -> dict[str, Any]:
    """A delivery receipt for a message (ours when from_me): SERVER_ACK, DELIVERY_ACK, READ,
    PLAYED, ERROR, PENDING or DELETED. messageId is Evolution's own database id, not WhatsApp's."""
    data = {
        "messageId": "cm" + secrets.token_hex(11),
        "keyId": message_id,
        "remoteJid": jid(phone),
        "fromMe": from_me,
        "participant": None,
        "status": status,
        "instanceId": str(uuid.uuid5(uuid.NAMESPACE_URL, instance)),
    }
    return envelope(event, data, instance=instance)


def connection_event(state: str = "open", *, instance: str = DEFAULT_INSTANCE) -> dict[str, Any]:
    data = {"instance": instance, "wuid": OWN_JID, "profileName": "Loja Teste", "state": state, "statusReason": 200}
    return envelope("connection.update", data, instance=instance)


# ---- delivering a body ------------------------------------------------------------------------------


def post_args(
    body: dict[str, Any] | bytes, secret: str | None = DEFAULT_SECRET, *, via: str = "query"
) -> tuple[bytes, dict[str, str], dict[str, str]]:
    """(content, headers, query params) to POST a webhook body as Evolution does.

    via="query": the secret rides in ?secret=... (the URL we show the owner); via="header": in
    X-Webhook-Secret (Evolution v2 webhook custom headers). secret=None sends none."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json", "user-agent": "axios/1.7.9"}
    params: dict[str, str] = {}
    if secret is not None:
        if via == "query":
            params["secret"] = secret
        elif via == "header":
            headers["x-webhook-secret"] = secret
        else:
            raise ValueError(f"via must be 'query' or 'header', not {via!r}")
    return content, headers, params


def webhook_request(
    body: dict[str, Any] | bytes,
    secret: str | None = DEFAULT_SECRET,
    *,
    via: str = "query",
    url: str = "http://testserver/webhooks/evolution/00000000-0000-0000-0000-000000000000",
):
    """A runtime.channels.base.WebhookRequest carrying `body` as Evolution would POST it."""
    from runtime.channels.base import WebhookRequest

    content, headers, params = post_args(body, secret, via=via)
    full_url = f"{url}?{urlencode(params)}" if params else url
    return WebhookRequest(method="POST", url=full_url, headers=headers, query=params, body=content)
