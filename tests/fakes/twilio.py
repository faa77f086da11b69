"""A local Twilio speaking its WhatsApp wire format, and builders for the webhooks Twilio posts.

Server (``FakeTwilio``), run it with ``tests.fakes.servers.serve_in_thread(fake.app())`` and set
``fake.base_url`` to the URL it yields (that is the channel's ``api_base_url``):

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` -- HTTP Basic (account_sid,
  auth_token) or Twilio's 401 ``{"code": 20003, "message": "Authenticate", ...}``; answers 201
  with a Message resource (``{"sid": "SM<32 hex>", "status": "queued", ...}``). Every accepted
  send is in ``fake.sent``; every attempt (accepted, failed, refused) in ``fake.requests``.
* ``fail_next(n, status=500)`` makes the next n sends fail with Twilio's error JSON.
* ``add_media(data, content_type) -> url`` serves bytes at a Twilio media URL
  (``.../Messages/MM.../Media/ME...``) that requires Basic auth and, like Twilio, answers with a
  307 redirect to a short-lived "CDN" URL (``/cdn/<token>``, no auth needed); pass
  ``redirect=False`` to serve the bytes directly. ``fake.media_requests`` records the fetches.

Webhook builders (pure functions, no server needed) return the form fields exactly as Twilio
posts them for WhatsApp; ``signed_post`` encodes and signs them with the twilio SDK's
``RequestValidator.compute_signature``; ``webhook_request`` wraps that into the adapter's
``WebhookRequest``::

    params = inbound_text("Oi, tem pronta entrega?", account_sid=fake.account_sid)
    body, headers = signed_post(url, params, fake.auth_token)

Field lists follow Twilio's "request to your incoming message webhook URL" and status callback
docs, cross-checked against captured payloads (see the module's tests for the shapes).
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from runtime.channels.base import WebhookRequest

DEFAULT_CUSTOMER = "+5511999998888"  # the lead writing to the business
DEFAULT_BUSINESS = "+5511955550000"  # the Twilio WhatsApp sender
API_VERSION = "2010-04-01"

# Twilio error codes for the statuses fail_next() is used with.
_DEFAULT_ERRORS: dict[int, tuple[int, str]] = {
    400: (21211, "Invalid 'To' Phone Number"),
    401: (20003, "Authenticate"),
    403: (20003, "Permission Denied"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}

Params = dict[str, str]


def new_sid(prefix: str) -> str:
    """A Twilio SID: two-letter prefix + 32 lowercase hex (SM message, MM media message, ME media)."""
    return prefix + uuid.uuid4().hex


def error_body(status: int, code: int | None = None, message: str | None = None) -> dict[str, Any]:
    default_code, default_message = _DEFAULT_ERRORS.get(status, (20500, "Internal Server Error"))
    code = code or default_code
    return {
        "code": code,
        "message": message or default_message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass
class SentMessage:
    """One POST to Messages.json as the fake received it."""

    path: str
    headers: dict[str, str]  # lower-cased names
    form: dict[str, str]  # last value of each field
    fields: list[tuple[str, str]]  # every field, in order (repeated keys kept)
    sid: str | None = None  # the SID answered, None when the request was refused
    status_code: int = 201


@dataclass
class MediaRequest:
    path: str
    authorization: str | None


@dataclass
class _Failure:
    status: int
    code: int | None
    message: str | None


@dataclass
class FakeTwilio:
    account_sid: str = field(default_factory=lambda: new_sid("AC"))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    base_url: str = ""  # set to what serve_in_thread yields
    sent: list[SentMessage] = field(default_factory=list)
    requests: list[SentMessage] = field(default_factory=list)
    media_requests: list[MediaRequest] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    _media: dict[str, tuple[bytes, str, bool]] = field(default_factory=dict)  # path -> (data, type, redirect)
    _cdn: dict[str, str] = field(default_factory=dict)  # token -> media path

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{account_sid}/Messages.json", self.create_message, methods=["POST"]),
                Route(
                    "/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media/{media_sid}",
                    self.fetch_media,
                    methods=["GET"],
                ),
                Route("/cdn/{token}", self.cdn, methods=["GET"]),
            ]
        )

    # -- control ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget sends, failures and media (the credentials stay)."""
        self.sent.clear()
        self.requests.clear()
        self.media_requests.clear()
        self._failures.clear()
        self._media.clear()
        self._cdn.clear()

    def fail_next(self, n: int = 1, status: int = 500, *, code: int | None = None, message: str | None = None) -> None:
        """The next n sends answer `status` with Twilio's error JSON (after authentication)."""
        self._failures.extend(_Failure(status, code, message) for _ in range(n))

    def add_media(self, data: bytes, content_type: str, *, redirect: bool = True) -> str:
        """Serve `data` at a Twilio media URL (Basic auth required) and return that URL."""
        if not self.base_url:
            raise RuntimeError("set FakeTwilio.base_url before add_media()")
        path = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{new_sid('MM')}/Media/{new_sid('ME')}"
        self._media[path] = (data, content_type, redirect)
        return self.base_url.rstrip("/") + path

    @property
    def basic_auth(self) -> str:
        creds = f"{self.account_sid}:{self.auth_token}".encode()
        return "Basic " + base64.b64encode(creds).decode()

    # -- endpoints ----------------------------------------------------------------------------

    def _authenticated(self, request: Request) -> bool:
        return secrets.compare_digest(request.headers.get("authorization", ""), self.basic_auth) and (
            request.path_params["account_sid"] == self.account_sid
        )

    async def create_message(self, request: Request) -> JSONResponse:
        form = await request.form()
        fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        record = SentMessage(
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            form=dict(fields),
            fields=fields,
        )
        self.requests.append(record)
        if not self._authenticated(request):
            record.status_code = 401
            return JSONResponse(
                error_body(401), status_code=401, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'}
            )
        if self._failures:
            failure = self._failures.pop(0)
            record.status_code = failure.status
            return JSONResponse(error_body(failure.status, failure.code, failure.message), status_code=failure.status)
        problem = _missing_fields(record.form)
        if problem:
            record.status_code = 400
            return JSONResponse(error_body(400, *problem), status_code=400)

        record.sid = new_sid("SM")
        self.sent.append(record)
        now = format_datetime(datetime.now(UTC), usegmt=True)
        media_urls = [v for k, v in fields if k == "MediaUrl"]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{record.sid}"
        return JSONResponse(
            {
                "account_sid": self.account_sid,
                "api_version": API_VERSION,
                "body": record.form.get("Body", ""),
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": record.form["From"],
                "messaging_service_sid": None,
                "num_media": str(len(media_urls)),
                "num_segments": "1",
                "price": None,
                "price_unit": None,
                "sid": record.sid,
                "status": "queued",
                "subresource_uris": {"media": f"{uri}/Media.json"},
                "to": record.form["To"],
                "uri": f"{uri}.json",
            },
            status_code=201,
        )

    async def fetch_media(self, request: Request) -> Response:
        self.media_requests.append(MediaRequest(request.url.path, request.headers.get("authorization")))
        if not self._authenticated(request):
            return JSONResponse(error_body(401), status_code=401)
        stored = self._media.get(request.url.path)
        if stored is None:
            return JSONResponse(error_body(404), status_code=404)
        data, content_type, redirect = stored
        if not redirect:
            return Response(data, media_type=content_type)
        token = secrets.token_urlsafe(16)
        self._cdn[token] = request.url.path
        return RedirectResponse(f"{self.base_url.rstrip('/')}/cdn/{token}", status_code=307)

    async def cdn(self, request: Request) -> Response:
        self.media_requests.append(MediaRequest(request.url.path, request.headers.get("authorization")))
        path = self._cdn.get(request.path_params["token"])
        if path is None or path not in self._media:
            return Response(b"<Error><Code>AccessDenied</Code></Error>", status_code=403, media_type="application/xml")
        data, content_type, _ = self._media[path]
        return Response(data, media_type=content_type)


def _missing_fields(form: Mapping[str, str]) -> tuple[int, str] | None:
    if not form.get("To"):
        return 21604, "A 'To' phone number is required."
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return 21603, "A 'From' phone number is required."
    if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
        return 21602, "Message body is required."
    return None


# -- webhook builders -------------------------------------------------------------------------


def _wa(phone: str) -> str:
    return "whatsapp:" + phone


def _inbound(
    *,
    message_sid: str | None,
    sid_prefix: str,
    from_phone: str,
    to_phone: str,
    profile_name: str,
    account_sid: str | None,
    body: str,
    message_type: str,
    num_media: int = 0,
    replied_to: str | None = None,
) -> Params:
    sid = message_sid or new_sid(sid_prefix)
    params: Params = {
        "SmsMessageSid": sid,
        "NumMedia": str(num_media),
        "ProfileName": profile_name,
        "MessageType": message_type,
        "SmsSid": sid,
        "WaId": from_phone.lstrip("+"),
        "SmsStatus": "received",
        "Body": body,
        "To": _wa(to_phone),
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": account_sid or new_sid("AC"),
        "From": _wa(from_phone),
        "ApiVersion": API_VERSION,
    }
    if replied_to:
        params["OriginalRepliedMessageSender"] = _wa(to_phone)
        params["OriginalRepliedMessageSid"] = replied_to
    return params


def inbound_text(
    body: str,
    *,
    from_phone: str = DEFAULT_CUSTOMER,
    to_phone: str = DEFAULT_BUSINESS,
    profile_name: str = "Maria Cliente",
    account_sid: str | None = None,
    message_sid: str | None = None,
    replied_to: str | None = None,
) -> Params:
    """A WhatsApp text; `replied_to` is the SID of the message it quotes."""
    return _inbound(
        message_sid=message_sid,
        sid_prefix="SM",
        from_phone=from_phone,
        to_phone=to_phone,
        profile_name=profile_name,
        account_sid=account_sid,
        body=body,
        message_type="text",
        replied_to=replied_to,
    )


def _media_message_type(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    if content_type == "image/webp":
        return "sticker"
    if content_type in ("text/vcard", "text/x-vcard"):
        return "contacts"
    return {"image": "image", "audio": "audio", "video": "video"}.get(major, "document")


def inbound_media(
    urls_and_types: Sequence[tuple[str, str]],
    *,
    body: str = "",
    from_phone: str = DEFAULT_CUSTOMER,
    to_phone: str = DEFAULT_BUSINESS,
    profile_name: str = "Maria Cliente",
    account_sid: str | None = None,
    message_sid: str | None = None,
    replied_to: str | None = None,
) -> Params:
    """A WhatsApp media message: [(MediaUrl, MediaContentType), ...] and an optional caption."""
    params = _inbound(
        message_sid=message_sid,
        sid_prefix="MM",
        from_phone=from_phone,
        to_phone=to_phone,
        profile_name=profile_name,
        account_sid=account_sid,
        body=body,
        message_type=_media_message_type(urls_and_types[0][1]) if urls_and_types else "text",
        num_media=len(urls_and_types),
        replied_to=replied_to,
    )
    for i, (url, content_type) in enumerate(urls_and_types):
        params[f"MediaContentType{i}"] = content_type
        params[f"MediaUrl{i}"] = url
    return params


def inbound_location(
    latitude: float,
    longitude: float,
    *,
    address: str | None = None,
    label: str | None = None,
    from_phone: str = DEFAULT_CUSTOMER,
    to_phone: str = DEFAULT_BUSINESS,
    profile_name: str = "Maria Cliente",
    account_sid: str | None = None,
    message_sid: str | None = None,
) -> Params:
    """A shared location (a named place carries Address and Label)."""
    params = _inbound(
        message_sid=message_sid,
        sid_prefix="SM",
        from_phone=from_phone,
        to_phone=to_phone,
        profile_name=profile_name,
        account_sid=account_sid,
        body="",
        message_type="location",
    )
    params["Latitude"] = repr(float(latitude))
    params["Longitude"] = repr(float(longitude))
    if address is not None:
        params["Address"] = address
    if label is not None:
        params["Label"] = label
    return params


def inbound_button(
    text: str,
    payload: str,
    *,
    replied_to: str | None = None,
    from_phone: str = DEFAULT_CUSTOMER,
    to_phone: str = DEFAULT_BUSINESS,
    profile_name: str = "Maria Cliente",
    account_sid: str | None = None,
    message_sid: str | None = None,
) -> Params:
    """A tap on a quick-reply button of a template we sent (`replied_to`: that message's SID)."""
    params = _inbound(
        message_sid=message_sid,
        sid_prefix="SM",
        from_phone=from_phone,
        to_phone=to_phone,
        profile_name=profile_name,
        account_sid=account_sid,
        body=text,
        message_type="button",
        replied_to=replied_to or new_sid("SM"),
    )
    params["ButtonText"] = text
    params["ButtonPayload"] = payload
    return params


def status_callback(
    sid: str,
    status: str,
    error_code: int | str | None = None,
    *,
    error_message: str | None = None,
    to_phone: str = DEFAULT_CUSTOMER,
    from_phone: str = DEFAULT_BUSINESS,
    account_sid: str | None = None,
) -> Params:
    """The StatusCallback Twilio posts for an outbound message (sent, delivered, read, failed, ...)."""
    params: Params = {}
    if status in ("delivered", "read"):
        params["EventType"] = status.upper()
    params.update(
        {
            "SmsSid": sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "ChannelToAddress": to_phone,
            "To": _wa(to_phone),
            "ChannelPrefix": "whatsapp",
            "MessageSid": sid,
            "AccountSid": account_sid or new_sid("AC"),
            "From": _wa(from_phone),
            "ApiVersion": API_VERSION,
            "ChannelInstallSid": new_sid("XE"),
        }
    )
    if status == "sent":
        params["StructuredMessage"] = "false"
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    if error_message is not None:
        params["ErrorMessage"] = error_message
    return params


class _MultiParams(dict[str, list[str]]):
    def getall(self, name: str) -> list[str]:
        return self[name]


def sign(url: str, params: Mapping[str, str] | Iterable[tuple[str, str]], auth_token: str) -> str:
    """X-Twilio-Signature for a form POST to `url`, computed by the twilio SDK."""
    multi = _MultiParams()
    for name, value in params.items() if isinstance(params, Mapping) else params:
        multi.setdefault(name, []).append(value)
    return RequestValidator(auth_token).compute_signature(url, multi)


def signed_post(
    url: str, params: Mapping[str, str] | Iterable[tuple[str, str]], auth_token: str
) -> tuple[bytes, dict[str, str]]:
    """(body bytes, lower-cased headers) of the POST Twilio would make to `url`."""
    pairs = list(params.items() if isinstance(params, Mapping) else params)
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "user-agent": "TwilioProxy/1.1",
        "i-twilio-idempotency-token": str(uuid.uuid4()),
        "x-twilio-signature": sign(url, pairs, auth_token),
    }
    return urlencode(pairs).encode(), headers


def webhook_request(url: str, body: bytes, headers: Mapping[str, str]) -> WebhookRequest:
    """The adapter-level WebhookRequest for a signed POST (the public URL Twilio called)."""
    return WebhookRequest(method="POST", url=url, headers=dict(headers), query={}, body=body)
