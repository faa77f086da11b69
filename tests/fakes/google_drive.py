"""A local Google that speaks the wire format the Drive integration uses: the OpenID pieces of
``tests.fakes.oidc.FakeGoogle`` (discovery, authorize, JWKS, ID tokens) plus

- the token endpoint's ``authorization_code`` grant (PKCE S256 checked) issuing a refresh token
  when ``access_type=offline`` was asked for, and the ``refresh_token`` grant, which answers
  ``invalid_grant`` for revoked tokens;
- Drive v3: ``files.get`` (metadata and ``alt=media``), ``files.export`` and ``files.list`` with
  ``'<id>' in parents and trashed=false``, paginated at most ``page_size`` items a page.

Files live in memory; helpers add, modify (bumping ``modifiedTime``) and remove them. Every
Drive request is recorded (path, query, Authorization header) so tests can assert what was
downloaded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.oidc import FakeGoogle

FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"
SHEET = "application/vnd.google-apps.spreadsheet"
SLIDES = "application/vnd.google-apps.presentation"
FORM = "application/vnd.google-apps.form"
# What each Google editors type can be exported to (a subset of Drive's real table).
EXPORTABLE = {
    DOC: {"text/plain", "text/html", "application/pdf"},
    SHEET: {"text/csv", "application/pdf"},
    SLIDES: {"text/plain", "application/pdf"},
}
_PARENTS_QUERY = re.compile(r"^'((?:[^'\\]|\\.)+)' in parents and trashed\s*=\s*false$")


@dataclass
class DriveItem:
    id: str
    name: str
    mime_type: str
    parents: list[str]
    modified_time: datetime
    content: bytes = b""
    trashed: bool = False

    def resource(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "drive#file",
            "id": self.id,
            "name": self.name,
            "mimeType": self.mime_type,
            "modifiedTime": self.modified_time.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{self.modified_time.microsecond // 1000:03d}Z",
            "trashed": self.trashed,
        }
        if not self.mime_type.startswith("application/vnd.google-apps."):
            out["size"] = str(len(self.content))  # Drive sends int64 as a string
            out["md5Checksum"] = hashlib.md5(self.content, usedforsecurity=False).hexdigest()
        return out


@dataclass
class FakeGoogleDrive(FakeGoogle):
    page_size: int = 2  # the most files.list returns per page, whatever pageSize asks
    items: dict[str, DriveItem] = field(default_factory=dict)
    issue_refresh_token: bool = True
    granted_scope: str | None = None  # None: the scope that was asked for
    deny_consent: bool = False  # the user clicks "Cancel" on the consent screen
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    refresh_tokens: dict[str, bool] = field(default_factory=dict)  # token -> revoked
    access_tokens: dict[str, str] = field(default_factory=dict)  # token -> refresh token ("" for none)
    requests: list[dict[str, Any]] = field(default_factory=list)  # Drive API requests, in order
    fail: dict[str, tuple[int, str]] = field(default_factory=dict)  # file id -> (status, reason) on download
    _clock: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 12, 0, tzinfo=UTC))

    # --- helpers for tests -------------------------------------------------------------

    def _tick(self) -> datetime:
        self._clock += timedelta(seconds=7, milliseconds=250)
        return self._clock

    def add_folder(self, name: str, parent: str | None = None) -> str:
        return self._add(name, FOLDER, b"", parent)

    def add_file(
        self, name: str, content: bytes | str, mime_type: str = "text/plain", parent: str | None = None
    ) -> str:
        return self._add(name, mime_type, content.encode() if isinstance(content, str) else content, parent)

    def add_google_doc(self, name: str, text: str, parent: str | None = None, mime_type: str = DOC) -> str:
        return self._add(name, mime_type, text.encode(), parent)

    def _add(self, name: str, mime_type: str, content: bytes, parent: str | None) -> str:
        item_id = "f" + secrets.token_hex(12)  # Drive ids: 25-44 URL-safe characters
        self.items[item_id] = DriveItem(item_id, name, mime_type, [parent] if parent else [], self._tick(), content)
        return item_id

    def modify(self, item_id: str, content: bytes | str | None = None, name: str | None = None) -> None:
        item = self.items[item_id]
        if content is not None:
            item.content = content.encode() if isinstance(content, str) else content
        if name is not None:
            item.name = name
        item.modified_time = self._tick()

    def remove(self, item_id: str) -> None:
        del self.items[item_id]

    def trash(self, item_id: str) -> None:
        self.items[item_id].trashed = True
        self.items[item_id].modified_time = self._tick()

    def revoke_all(self) -> None:
        """The user removed the app at myaccount.google.com/permissions."""
        for token in self.refresh_tokens:
            self.refresh_tokens[token] = True
        self.access_tokens.clear()

    def downloads(self, item_id: str | None = None) -> list[dict[str, Any]]:
        """Content requests (alt=media and exports), optionally for one file."""
        out = []
        for r in self.requests:
            m = re.match(r"^/drive/v3/files/([^/]+)(/export)?$", r["path"])
            if m and (m.group(2) or r["query"].get("alt") == "media") and item_id in (None, m.group(1)):
                out.append(r)
        return out

    def list_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == "/drive/v3/files"]

    # --- the server --------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/o/oauth2/v2/auth", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/oauth2/v3/certs", self.jwks),
                Route("/drive/v3/files", self.files_list),
                Route("/drive/v3/files/{file_id}", self.files_get),
                Route("/drive/v3/files/{file_id}/export", self.files_export),
            ]
        )

    async def authorize(self, request: Request) -> Response:
        q = dict(request.query_params)
        self.authorize_requests.append(q)
        if self.deny_consent:
            query = urlencode({"error": "access_denied", "state": q.get("state", "")})
            return RedirectResponse(f"{q['redirect_uri']}?{query}", 302)
        response = await super().authorize(request)
        location = response.headers.get("location", "")
        code = (parse_qs(urlsplit(location).query).get("code") or [""])[0]
        if code in self.codes:
            self.codes[code]["scope"] = q.get("scope", "")
            self.codes[code]["offline"] = q.get("access_type") == "offline"
        return response

    async def token(self, request: Request) -> JSONResponse:
        form = dict(await request.form())
        if form.get("grant_type") == "refresh_token":
            self.token_requests.append(form)
            if not self._client_ok(request, form):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            token = form.get("refresh_token", "")
            if token not in self.refresh_tokens or self.refresh_tokens[token]:
                return JSONResponse(
                    {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
                    status_code=400,
                )
            access = "ya29." + secrets.token_urlsafe(16)
            self.access_tokens[access] = token
            return JSONResponse(
                {"access_token": access, "token_type": "Bearer", "expires_in": 3599, "scope": self._scope(None)}
            )
        grant = self.codes.get(form.get("code", ""), {})
        response = await super().token(request)  # checks client, code, redirect_uri and PKCE
        if response.status_code != 200:
            return response
        body = json.loads(response.body)
        body["access_token"] = "ya29." + secrets.token_urlsafe(16)
        body["scope"] = self._scope(grant.get("scope"))
        refresh = ""
        if self.issue_refresh_token and grant.get("offline"):
            refresh = "1//" + secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = False
            body["refresh_token"] = refresh
        self.access_tokens[body["access_token"]] = refresh
        return JSONResponse(body)

    def _scope(self, asked: str | None) -> str:
        if self.granted_scope is not None:
            return self.granted_scope
        return (
            asked
            or "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/drive.readonly"
        )

    def _client_ok(self, request: Request, form: dict[str, Any]) -> bool:
        creds = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {creds}" or (
            form.get("client_id"),
            form.get("client_secret"),
        ) == (self.client_id, self.client_secret)

    # --- Drive v3 ------------------------------------------------------------------------

    def _record(self, request: Request) -> JSONResponse | None:
        auth = request.headers.get("authorization", "")
        self.requests.append({"path": request.url.path, "query": dict(request.query_params), "authorization": auth})
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        if token not in self.access_tokens:
            return _error(401, "Request had invalid authentication credentials.", "authError", "UNAUTHENTICATED")
        return None

    async def files_list(self, request: Request) -> Response:
        if denied := self._record(request):
            return denied
        q = request.query_params.get("q", "")
        match = _PARENTS_QUERY.match(q)
        if not match:
            return _error(400, f"Invalid Value: {q}", "invalid")
        parent = re.sub(r"\\(.)", r"\1", match.group(1))
        children = sorted(
            (i for i in self.items.values() if parent in i.parents and not i.trashed),
            key=lambda i: (i.name, i.id),
        )
        size = min(int(request.query_params.get("pageSize", 100)), 1000, self.page_size)
        start = (
            int(base64.urlsafe_b64decode(request.query_params["pageToken"]).decode())
            if "pageToken" in request.query_params
            else 0
        )
        page = children[start : start + size]
        body: dict[str, Any] = {
            "kind": "drive#fileList",
            "incompleteSearch": False,
            "files": [i.resource() for i in page],
        }
        if start + size < len(children):
            body["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return JSONResponse(body)

    async def files_get(self, request: Request) -> Response:
        if denied := self._record(request):
            return denied
        item = self.items.get(request.path_params["file_id"])
        if item is None:
            return _not_found(request.path_params["file_id"])
        if request.query_params.get("alt") != "media":
            return JSONResponse(item.resource())
        if item.mime_type.startswith("application/vnd.google-apps."):
            return _error(
                403,
                "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
                "fileNotDownloadable",
            )
        if item.id in self.fail:
            code, reason = self.fail[item.id]
            return _error(code, "Download failed.", reason)
        return Response(item.content, media_type=item.mime_type)

    async def files_export(self, request: Request) -> Response:
        if denied := self._record(request):
            return denied
        item = self.items.get(request.path_params["file_id"])
        if item is None:
            return _not_found(request.path_params["file_id"])
        wanted = request.query_params.get("mimeType", "")
        if wanted not in EXPORTABLE.get(item.mime_type, set()):
            return _error(400, "The requested conversion is not supported.", "badRequest")
        if item.id in self.fail:
            code, reason = self.fail[item.id]
            return _error(code, "Export failed.", reason)
        return Response(item.content, media_type=wanted)


def _error(code: int, message: str, reason: str, status: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"domain": "global", "reason": reason, "message": message}],
        }
    }
    if status:
        body["error"]["status"] = status
    return JSONResponse(body, status_code=code)


def _not_found(file_id: str) -> JSONResponse:
    return _error(404, f"File not found: {file_id}.", "notFound")
