"""A local stand-in for Meta's Graph API (WhatsApp Cloud API) plus builders of the webhooks Meta sends.

Server side — `FakeGraph`, a Starlette app; run it with tests.fakes.servers.serve_in_thread:

    graph = FakeGraph()
    with serve_in_thread(graph.app()) as base_url:   # use base_url as the channel's api_base_url
        ...
        graph.messages          # JSON bodies of the accepted POST /{version}/{phone_number_id}/messages
        graph.sent              # every POST (messages and media uploads, refused ones too), with headers and answer

Webhook side — pure functions returning the payload dicts Meta POSTs (object/entry/changes/value with
metadata and contacts), `merge()` to put several in one delivery and `signed()` to get the raw bytes and
the X-Hub-Signature-256 header:

    body, headers = signed(text_message("Oi, tem pronta entrega?"), app_secret)

Shapes follow Meta's docs (webhooks reference `messages`, Cloud API messages/media references, Graph
API error handling)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

GRAPH_VERSION = "v21.0"  # same as runtime.channels.cloud_api.GRAPH_VERSION; the fake accepts any version

DEFAULT_ACCESS_TOKEN = "EAAG-test-access-token"
DEFAULT_PHONE_NUMBER_ID = "106540352242922"
DEFAULT_DISPLAY_PHONE = "5511955550000"  # the business number, digits only as Meta writes it
DEFAULT_WABA_ID = "102290129340398"
DEFAULT_CUSTOMER = "5511999998888"  # wa_id / from: digits, no '+'
DEFAULT_CUSTOMER_NAME = "Maria Cliente"

# What Graph answers for a failure of each HTTP status (code, message, details) unless told otherwise.
_DEFAULT_ERRORS: dict[int, tuple[int, str, str]] = {
    400: (100, "(#100) Invalid parameter", "Parameter value is not valid"),
    401: (190, "Invalid OAuth access token - Cannot parse access token", ""),
    429: (130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    500: (131000, "(#131000) Something went wrong", "Message failed to send because of an unknown error."),
    503: (133004, "(#133004) Server temporarily unavailable", "Try again later."),
}


def graph_error(code: int, message: str, details: str = "", type_: str = "OAuthException") -> dict[str, Any]:
    """A Graph API error body: {"error": {message, type, code, error_data: {messaging_product, details},
    fbtrace_id}}."""
    err: dict[str, Any] = {"message": message, "type": type_, "code": code, "fbtrace_id": secrets.token_urlsafe(9)}
    if details:
        err["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": err}


@dataclass
class GraphRequest:
    """One POST the fake received.

    kind: "message" (POST /{v}/{id}/messages) or "upload" (POST /{v}/{id}/media).
    json: the parsed JSON body (messages); form: the multipart text fields (uploads);
    files: multipart files as field -> (filename, content_type, bytes); status_code: what the fake answered;
    response: the JSON it answered with."""

    kind: str
    path: str
    version: str
    headers: dict[str, str]
    json: dict[str, Any] | None = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    status_code: int = 0
    response: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoredMedia:
    data: bytes
    mime_type: str
    filename: str | None = None
    url: str | None = None  # where the media lookup says the bytes are (None = this fake's own route)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]


@dataclass
class FakeGraph:
    """Graph API for one business phone number.

    Routes (any `{version}` is accepted and recorded):
      POST /{version}/{phone_number_id}/messages -> {"messaging_product","contacts":[{input,wa_id}],
                                                     "messages":[{"id":"wamid.…"}]}
      POST /{version}/{phone_number_id}/media     multipart file/type/messaging_product -> {"id"}
      GET  /{version}/{media_id}                  -> {messaging_product,url,mime_type,sha256,file_size,id}
      GET  /whatsapp_business/attachments/?mid=…  -> the bytes (the url above points here)
    Every route wants `Authorization: Bearer <access_token>` (401 with Graph error 190 otherwise). An
    unknown phone number id or media id is Graph's 400 error 100; a message body without
    messaging_product=whatsapp, `to` or a body for its `type` is a 400 error 100 too."""

    access_token: str = DEFAULT_ACCESS_TOKEN
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID
    sent: list[GraphRequest] = field(default_factory=list)
    media: dict[str, StoredMedia] = field(default_factory=dict)
    media_downloads: list[str] = field(default_factory=list)  # media ids whose bytes were fetched
    _failures: list[_Failure] = field(default_factory=list, init=False, repr=False)
    _delays: list[float] = field(default_factory=list, init=False, repr=False)

    # -- test controls -------------------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """JSON bodies of the message sends that were accepted (2xx), in order."""
        return [r.json or {} for r in self.sent if r.kind == "message" and 200 <= r.status_code < 300]

    def fail_next(self, n: int = 1, status: int = 500, *, code: int | None = None, message: str | None = None) -> None:
        """The next n POSTs (message sends and media uploads alike) answer `status` with a Graph error
        body; code/message default to what Graph says for that status (e.g. 429 -> 130429 Rate limit hit)."""
        d_code, d_message, details = _DEFAULT_ERRORS.get(status, (1, "An unknown error has occurred.", ""))
        body = graph_error(code if code is not None else d_code, message or d_message, details)
        self._failures.extend(_Failure(status, body) for _ in range(n))

    def delay_next(self, seconds: float, n: int = 1) -> None:
        """The next n POSTs wait `seconds` before answering (a client timeout shorter than that sees a
        timeout). Like the real thing, the request was received: it is recorded and, if the client is
        still there when the delay ends, processed; if it has hung up it is recorded with status 0."""
        self._delays.extend(seconds for _ in range(n))

    def add_media(self, data: bytes, mime_type: str, filename: str | None = None, *, url: str | None = None) -> str:
        """Store media as if a customer had sent it; returns its media id (use it in media_message()).
        `url`: the download URL the media lookup answers instead of this fake's own (like Graph's
        lookaside host, or whatever a server posing as Graph says)."""
        media_id = str(secrets.randbelow(10**15) + 10**15)
        self.media[media_id] = StoredMedia(data, mime_type, filename, url)
        return media_id

    def reset(self) -> None:
        self.sent.clear()
        self.media.clear()
        self.media_downloads.clear()
        self._failures.clear()
        self._delays.clear()

    # -- app -----------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/whatsapp_business/attachments/", self._download, methods=["GET"]),
                Route("/{version}/{node}/messages", self._send, methods=["POST"]),
                Route("/{version}/{node}/media", self._upload, methods=["POST"]),
                Route("/{version}/{media_id}", self._media_info, methods=["GET"]),
            ]
        )

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.access_token}"

    def _unauthorized(self, record: GraphRequest | None = None) -> JSONResponse:
        code, message, _ = _DEFAULT_ERRORS[401]
        body = graph_error(code, message)
        if record is not None:
            self.sent.append(record)
            record.status_code, record.response = 401, body
        return JSONResponse(body, status_code=401)

    async def _answer(self, request: Request, record: GraphRequest, ok: dict[str, Any]) -> Response:
        """Shared tail of the POST routes: delay, injected failure, or success."""
        self.sent.append(record)
        if self._delays:
            deadline = time.monotonic() + self._delays.pop(0)
            while time.monotonic() < deadline:
                if await request.is_disconnected():
                    return Response(status_code=499)  # nobody is listening; record stays at status 0
                await asyncio.sleep(0.02)
        if self._failures:
            failure = self._failures.pop(0)
            record.status_code, record.response = failure.status, failure.body
            return JSONResponse(failure.body, status_code=failure.status)
        record.status_code, record.response = 200, ok
        return JSONResponse(ok)

    def _bad(self, record: GraphRequest, message: str, details: str = "") -> JSONResponse:
        body = graph_error(100, message, details)
        self.sent.append(record)
        record.status_code, record.response = 400, body
        return JSONResponse(body, status_code=400)

    async def _send(self, request: Request) -> Response:
        version, node = request.path_params["version"], request.path_params["node"]
        record = GraphRequest("message", request.url.path, version, dict(request.headers))
        try:
            body = await request.json()
        except ValueError:
            body = None
        record.json = body if isinstance(body, dict) else None
        if not self._authorized(request):
            return self._unauthorized(record)
        if body is None:
            return self._bad(record, "(#100) Invalid parameter", "request body is not JSON")
        if node != self.phone_number_id:
            return self._bad(record, f"Unsupported post request. Object with ID '{node}' does not exist")
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return self._bad(record, "(#100) The parameter messaging_product is required.")
        mtype = body.get("type", "text")
        if not body.get("to") or not isinstance(body.get(mtype), dict):
            return self._bad(record, "(#100) Invalid parameter", f"missing 'to' or '{mtype}' object")
        to = str(body["to"])
        ok = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [{"id": new_wamid()}],
        }
        return await self._answer(request, record, ok)

    async def _upload(self, request: Request) -> Response:
        version, node = request.path_params["version"], request.path_params["node"]
        record = GraphRequest("upload", request.url.path, version, dict(request.headers))
        try:
            form = await request.form()
        except Exception:  # any unparsable body is Graph's 400
            return self._bad(record, "(#100) Invalid parameter", "expected multipart/form-data")
        try:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    record.files[key] = (value.filename or "", value.content_type or "", data)
                else:
                    record.form[key] = value
        finally:
            await form.close()
        if not self._authorized(request):
            return self._unauthorized(record)
        if node != self.phone_number_id:
            return self._bad(record, f"Unsupported post request. Object with ID '{node}' does not exist")
        if record.form.get("messaging_product") != "whatsapp" or "file" not in record.files:
            return self._bad(record, "(#100) Invalid parameter", "messaging_product=whatsapp and file are required")
        media_id = str(secrets.randbelow(10**15) + 10**15)
        filename, content_type, data = record.files["file"]
        response = await self._answer(request, record, {"id": media_id})
        if record.status_code == 200:
            self.media[media_id] = StoredMedia(data, record.form.get("type") or content_type, filename or None)
        return response

    async def _media_info(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        media_id = request.path_params["media_id"]
        stored = self.media.get(media_id)
        if stored is None:
            return JSONResponse(
                graph_error(
                    100,
                    f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot be loaded "
                    "due to missing permissions, or does not support this operation.",
                    type_="GraphMethodException",
                ),
                status_code=400,
            )
        url = stored.url or f"{str(request.base_url).rstrip('/')}/whatsapp_business/attachments/?mid={media_id}"
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": stored.mime_type,
                "sha256": stored.sha256,
                "file_size": len(stored.data),
                "id": media_id,
            }
        )

    async def _download(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        media_id = request.query_params.get("mid", "")
        stored = self.media.get(media_id)
        if stored is None:
            return Response("Not Found", status_code=404)
        self.media_downloads.append(media_id)
        return Response(stored.data, media_type=stored.mime_type)


# -- webhook builders ------------------------------------------------------------------------------


def new_wamid() -> str:
    """A message id in Graph's style ('wamid.' + base64-ish)."""
    return "wamid." + secrets.token_urlsafe(36)


def webhook(
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    contacts: list[dict[str, Any]] | None = None,
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
    display_phone_number: str = DEFAULT_DISPLAY_PHONE,
    waba_id: str = DEFAULT_WABA_ID,
    field_name: str = "messages",
) -> dict[str, Any]:
    """The envelope: {"object": "whatsapp_business_account", "entry": [{"id", "changes": [{"field",
    "value": {"messaging_product", "metadata", "contacts"?, "messages"?, "statuses"?}}]}]}."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
    }
    if contacts:
        value["contacts"] = contacts
    if messages:
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": field_name}]}],
    }


def _inbound(
    mtype: str,
    content: dict[str, Any] | None,
    *,
    from_phone: str,
    name: str,
    message_id: str | None,
    timestamp: int | None,
    context_id: str | None,
    phone_number_id: str,
) -> dict[str, Any]:
    wa_id = from_phone.lstrip("+")
    msg: dict[str, Any] = {
        "from": wa_id,
        "id": message_id or new_wamid(),
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "type": mtype,
    }
    if context_id:
        msg["context"] = {"from": DEFAULT_DISPLAY_PHONE, "id": context_id}
    if content is not None:
        msg[mtype] = content
    contacts = [{"profile": {"name": name}, "wa_id": wa_id}]
    return webhook(messages=[msg], contacts=contacts, phone_number_id=phone_number_id)


# Every inbound builder takes these keyword arguments:
#   from_phone: the customer ('5511999998888' or '+5511999998888'; sent as digits) — name: their profile
#   name — message_id: the wamid (random when None) — timestamp: epoch seconds (now when None) —
#   context_id: the wamid this message replies to — phone_number_id: the business number's id.
_COMMON_DEFAULTS: dict[str, Any] = {
    "from_phone": DEFAULT_CUSTOMER,
    "name": DEFAULT_CUSTOMER_NAME,
    "message_id": None,
    "timestamp": None,
    "context_id": None,
    "phone_number_id": DEFAULT_PHONE_NUMBER_ID,
}


def _common(kwargs: dict[str, Any]) -> dict[str, Any]:
    unknown = set(kwargs) - set(_COMMON_DEFAULTS)
    if unknown:
        raise TypeError(f"unexpected keyword arguments: {sorted(unknown)}")
    return {**_COMMON_DEFAULTS, **kwargs}


def text_message(body: str, **common: Any) -> dict[str, Any]:
    """A customer's text: type "text", text.body."""
    return _inbound("text", {"body": body}, **_common(common))


def media_message(
    kind: str,
    media_id: str,
    mime_type: str,
    caption: str | None = None,
    filename: str | None = None,
    voice: bool = False,
    sha256: str | None = None,
    **common: Any,
) -> dict[str, Any]:
    """kind: image | audio | video | document | sticker. Content {id, mime_type, sha256, caption?,
    filename? (documents), voice (audio: true for a push-to-talk note)}."""
    if kind not in ("image", "audio", "video", "document", "sticker"):
        raise ValueError(f"not a media kind: {kind}")
    content: dict[str, Any] = {"mime_type": mime_type, "sha256": sha256 or secrets.token_hex(32), "id": media_id}
    if caption is not None and kind in ("image", "video", "document"):
        content["caption"] = caption
    if filename is not None and kind == "document":
        content["filename"] = filename
    if kind == "audio":
        content["voice"] = voice
    if kind == "sticker":
        content["animated"] = False
    return _inbound(kind, content, **_common(common))


def location_message(
    latitude: float, longitude: float, name: str | None = None, address: str | None = None, **common: Any
) -> dict[str, Any]:
    """type "location": {latitude, longitude, name?, address?}."""
    content: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if name is not None:
        content["name"] = name
    if address is not None:
        content["address"] = address
    return _inbound("location", content, **_common(common))


def button_reply(reply_id: str, title: str, **common: Any) -> dict[str, Any]:
    """A tap on a reply button we sent: type "interactive", interactive {type: button_reply,
    button_reply: {id, title}}. Pass context_id= the wamid of the message with the buttons."""
    content = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
    return _inbound("interactive", content, **_common(common))


def list_reply(reply_id: str, title: str, description: str | None = None, **common: Any) -> dict[str, Any]:
    """A row picked from a list message: interactive {type: list_reply, list_reply: {id, title, description?}}."""
    row: dict[str, Any] = {"id": reply_id, "title": title}
    if description is not None:
        row["description"] = description
    return _inbound("interactive", {"type": "list_reply", "list_reply": row}, **_common(common))


def template_button(text: str, payload: str, **common: Any) -> dict[str, Any]:
    """A tap on a template's quick-reply button: type "button", button {text, payload}."""
    return _inbound("button", {"text": text, "payload": payload}, **_common(common))


def reaction(message_id: str, emoji: str, **common: Any) -> dict[str, Any]:
    """type "reaction": {message_id: the reacted-to wamid, emoji}. emoji="" is a removed reaction."""
    return _inbound("reaction", {"message_id": message_id, "emoji": emoji}, **_common(common))


def unsupported_message(mtype: str = "unsupported", **common: Any) -> dict[str, Any]:
    """What Meta sends for a type the Cloud API can't deliver (e.g. a poll): type "unsupported" with
    errors [{code 131051, title, message, error_data.details}] and no content object."""
    payload = _inbound(mtype, None, **_common(common))
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["errors"] = [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }
    ]
    return payload


def status(
    message_id: str,
    status: str,
    error: tuple[int, str] | None = None,
    *,
    recipient: str = DEFAULT_CUSTOMER,
    timestamp: int | None = None,
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
) -> dict[str, Any]:
    """A status of one of our messages: sent | delivered | read | failed. error=(code, title) adds
    errors[{code, title, message, error_data.details, href}] (Meta sends it with "failed")."""
    st: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "recipient_id": recipient.lstrip("+"),
    }
    if status in ("sent", "delivered", "read"):
        st["conversation"] = {"id": secrets.token_hex(16), "origin": {"type": "service"}}
        st["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
    if error is not None:
        code, title = error
        st["errors"] = [
            {
                "code": code,
                "title": title,
                "message": title,
                "error_data": {"details": f"{title} (details)"},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    return webhook(statuses=[st], phone_number_id=phone_number_id)


def merge(*payloads: dict[str, Any]) -> dict[str, Any]:
    """Several builder payloads as one delivery: one entry, one change, all messages/statuses in order,
    contacts de-duplicated by wa_id (how Meta batches under load)."""
    messages: list[dict[str, Any]] = []
    statuses: list[dict[str, Any]] = []
    contacts: dict[str, dict[str, Any]] = {}
    first_value = payloads[0]["entry"][0]["changes"][0]["value"] if payloads else {}
    for p in payloads:
        for entry in p["entry"]:
            for change in entry["changes"]:
                v = change["value"]
                messages += v.get("messages", [])
                statuses += v.get("statuses", [])
                for c in v.get("contacts", []):
                    contacts.setdefault(c["wa_id"], c)
    meta = first_value.get("metadata", {})
    return webhook(
        messages=messages,
        statuses=statuses,
        contacts=list(contacts.values()),
        phone_number_id=meta.get("phone_number_id", DEFAULT_PHONE_NUMBER_ID),
        display_phone_number=meta.get("display_phone_number", DEFAULT_DISPLAY_PHONE),
    )


def encode(payload: dict[str, Any]) -> bytes:
    """The bytes Meta would POST (compact JSON, non-ASCII escaped as \\uXXXX like Meta does)."""
    return json.dumps(payload, separators=(",", ":")).encode()


def signature(body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 value for raw bytes: 'sha256=' + hex HMAC-SHA256 keyed with the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signed(body: dict[str, Any] | bytes, app_secret: str) -> tuple[bytes, dict[str, str]]:
    """(raw bytes, headers) for a webhook POST signed as Meta does; header names are lower-case."""
    raw = body if isinstance(body, bytes) else encode(body)
    headers = {
        "content-type": "application/json",
        "user-agent": "facebookexternalua",
        "x-hub-signature-256": signature(raw, app_secret),
    }
    return raw, headers


def handshake_query(verify_token: str, challenge: str = "1158201444", mode: str = "subscribe") -> dict[str, str]:
    """The query string of Meta's GET verification request."""
    return {"hub.mode": mode, "hub.verify_token": verify_token, "hub.challenge": challenge}
