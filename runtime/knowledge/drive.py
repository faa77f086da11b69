"""Google Drive folders as a knowledge source: connect once (OAuth, offline access), then sync
incrementally on a self-rescheduling job.

What a sync does, for one connection:

1. Exchanges the stored (encrypted) refresh token for an access token at the token endpoint of
   the discovery document. ``invalid_grant`` (revoked, expired, password changed) marks the
   connection ``needs_reauth`` with a pt-BR message; nothing raises.
2. Checks the folder still exists (``files.get``): a folder that was deleted, trashed or
   unshared is an error that keeps every document (an empty listing must never wipe the base).
3. Lists the folder **recursively** (``files.list`` with ``'<id>' in parents``, every page):
   owners organise price lists and policies in sub-folders and expect "connect this folder" to
   mean everything in it. Depth is capped at ``MAX_DEPTH``; folders seen twice are walked once.
4. Per file: Google Docs and Slides are exported as text, Sheets as CSV (the first tab: that is
   what the Drive CSV export gives); other files are downloaded (``alt=media``) only when the
   loaders read their type; anything else is skipped with a reason. A file is downloaded only
   when it is new or its ``modifiedTime`` changed; ``add_document`` replaces a known Drive file
   in place (by ``external_id``). Files gone from the folder are deleted. Every file is its own
   transaction: one bad file is reported and the sync goes on.

Job ``knowledge.drive_sync`` (payload ``workspace_id``, ``connection_id``) runs a sync and
schedules the next one after ``drive_sync_interval_minutes``. Exactly one chain per connection:
the job that runs writes ``next_sync_at`` and enqueues the next link in one transaction, and a
chain job whose ``run_at`` is not the connection's ``next_sync_at`` (superseded by an on-demand
sync or a reconnect) does nothing. Two syncs of one connection never overlap (a lease,
``sync_started_at``, renewed with every file).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import delete, func, text
from sqlmodel import Session, select

from db.models import DriveConnection, KnowledgeDocument, utcnow
from db.tenancy import tenant_session
from runtime.config import get_settings
from runtime.crypto import decrypt, encrypt
from runtime.jobs import get_queue, job
from runtime.jobs.names import DRIVE_SYNC as SYNC_JOB
from runtime.pgtext import pg_json, pg_text

from . import documents

log = logging.getLogger(__name__)

SCOPES = "openid email https://www.googleapis.com/auth/drive.readonly"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.readonly"

PAGE_SIZE = 200  # files.list pageSize (Drive allows up to 1000; it may return fewer)
MAX_DEPTH = 8  # sub-folder levels walked below the connected folder
LEASE = timedelta(minutes=15)  # a sync silent for this long is taken as dead (renewed per file)
RETRY_DELAYS = (1.0, 3.0)  # 429 / 5xx / network errors: waits before the 2nd and 3rd attempts
DISCOVERY_TTL_S = 3600.0
HTTP_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
USER_AGENT = "PilotoDeVendas/1.0 (+drive-sync)"

FOLDER = "application/vnd.google-apps.folder"
SHORTCUT = "application/vnd.google-apps.shortcut"
GOOGLE_APPS = "application/vnd.google-apps."
# Google editors files: (export MIME type, extension of the stored file).
EXPORTS = {
    "application/vnd.google-apps.document": ("text/plain", ".txt"),
    "application/vnd.google-apps.spreadsheet": ("text/csv", ".csv"),
    "application/vnd.google-apps.presentation": ("text/plain", ".txt"),
}
# Binary files the loaders read, by MIME type (-> extension) and by extension.
DOWNLOADABLE = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/csv": ".csv",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "text/html": ".html",
    "image/png": ".png",
    "image/jpeg": ".jpg",
}
EXTENSIONS = {".pdf", ".docx", ".xlsx", ".csv", ".txt", ".md", ".markdown", ".html", ".htm", ".png", ".jpg", ".jpeg"}
ACCEPTED_HINT = (
    "Formatos aceitos: PDF, DOCX, XLSX, CSV, TXT, Markdown, HTML, imagens PNG/JPG e "
    "Documentos, Planilhas e Apresentações Google."
)

REAUTH_MESSAGE = "O acesso ao Google Drive foi revogado ou expirou. Conecte a pasta de novo para voltar a sincronizar."
SCOPE_MESSAGE = (
    "O Google não deu permissão de leitura do Drive. Conecte a pasta de novo e marque a permissão de "
    "acesso aos arquivos do Google Drive."
)
FOLDER_GONE_MESSAGE = (
    "A pasta do Google Drive não foi encontrada: ela foi apagada, movida para a lixeira ou deixou de "
    "ser compartilhada com a conta conectada. Os documentos já importados foram mantidos."
)
BUSY_MESSAGE = "Uma sincronização desta pasta já está em andamento."

# Codes of the ?erro= the connect flow redirects with, and what the panel should say.
CONNECT_ERRORS = {
    "drive_desativado": "A integração com o Google não está configurada neste servidor.",
    "drive_pasta_invalida": "Link de pasta inválido. Cole o link da pasta do Google Drive (ou o ID dela).",
    "drive_negado": "Você não autorizou o acesso ao Google Drive.",
    "drive_sem_permissao": "A permissão de leitura do Google Drive não foi concedida. Tente de novo e marque-a.",
    "drive_sem_refresh_token": (
        "O Google não enviou o acesso permanente (refresh token). Remova o acesso do PilotoDeVendas em "
        "myaccount.google.com/permissions e conecte de novo."
    ),
    "drive_pasta_nao_encontrada": "Pasta não encontrada, ou a conta Google escolhida não tem acesso a ela.",
    "drive_nao_e_pasta": "O link informado é de um arquivo, não de uma pasta.",
    "drive_sessao": "A conexão expirou ou foi iniciada em outra sessão. Tente de novo.",
    "drive_indisponivel": "Não foi possível falar com o Google agora. Tente de novo em instantes.",
    "drive_falhou": "Não foi possível conectar o Google Drive. Tente de novo.",
}


class DriveError(Exception):
    """A Drive or token-endpoint failure; the message is pt-BR and safe to show."""


class DriveAuthError(DriveError):
    """The grant is gone (invalid_grant) or lacks the Drive scope: the owner must reconnect."""


class DriveNotFound(DriveError):
    pass


class DriveNotAFolder(DriveError):
    pass


class _Disconnected(Exception):
    """The connection was removed while a sync ran."""


@dataclass
class SyncReport:
    """Names of the files in each outcome. ``failed``/``skipped``: (name, reason in pt-BR).
    ``error``: the sync as a whole did not run (then nothing was added or deleted)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    needs_reauth: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self, limit: int = 50) -> dict[str, Any]:
        """Counts, and the files not imported with their reasons: kept on the connection for the panel."""
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "deleted": len(self.deleted),
            "unchanged": len(self.unchanged),
            "failed": [list(item) for item in self.failed[:limit]],
            "skipped": [list(item) for item in self.skipped[:limit]],
        }


@dataclass(frozen=True)
class DriveFile:
    id: str
    name: str
    mime_type: str
    modified_time: datetime | None
    size: int | None = None
    md5: str | None = None
    path: str = ""  # sub-folder path below the connected folder ("" at the top)

    @property
    def display_name(self) -> str:
        return f"{self.path}/{self.name}" if self.path else self.name


# --- settings ----------------------------------------------------------------------------


def api_url() -> str:
    return get_settings().google_drive_api_url.rstrip("/")


def sync_interval() -> timedelta | None:
    minutes = get_settings().drive_sync_interval_minutes
    return timedelta(minutes=minutes) if minutes and minutes > 0 else None


def folder_url(folder_id: str) -> str:
    return f"https://drive.google.com/drive/folders/{folder_id}"


_ID = re.compile(r"^[A-Za-z0-9_-]{10,200}$")
_FOLDER_PATH = re.compile(r"/folders/([A-Za-z0-9_-]+)")


def parse_folder_ref(value: str | None) -> str | None:
    """A folder id from what an owner pastes: the id itself or a drive.google.com folder link
    (``/drive/folders/<id>``, ``/drive/u/0/folders/<id>``, ``/open?id=<id>``). None if neither."""
    value = (value or "").strip()
    if _ID.match(value):
        return value
    parts = urlsplit(value if "://" in value else "https://" + value)
    host = (parts.hostname or "").lower()
    if host != "drive.google.com":
        return None
    match = _FOLDER_PATH.search(parts.path)
    candidate = match.group(1) if match else (parse_qs(parts.query).get("id") or [""])[0]
    return candidate if _ID.match(candidate) else None


# --- OAuth tokens ------------------------------------------------------------------------

_discovery: dict[str, tuple[float, dict[str, Any]]] = {}


def _metadata(http: httpx.Client) -> dict[str, Any]:
    url = get_settings().google_discovery_url
    cached = _discovery.get(url)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_S:
        return cached[1]
    try:
        response = http.get(url)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DriveError("Não foi possível falar com o Google agora; a sincronização será tentada de novo.") from exc
    _discovery[url] = (time.monotonic(), data)
    return data


def refresh_access_token(http: httpx.Client, refresh_token: str) -> str:
    """A fresh access token for the stored refresh token (RFC 6749 §6)."""
    s = get_settings()
    if not s.google_enabled:
        raise DriveError("A integração com o Google não está configurada neste servidor.")
    endpoint = _metadata(http).get("token_endpoint")
    if not endpoint:
        raise DriveError("O documento de descoberta do Google não informa o endpoint de tokens.")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": s.google_client_id,
        "client_secret": s.google_client_secret.get_secret_value(),
    }
    response = _send(http, "POST", endpoint, data=form)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200 and body.get("access_token"):
        granted = body.get("scope")
        if granted and DRIVE_SCOPE not in granted.split():
            raise DriveAuthError(SCOPE_MESSAGE)
        return body["access_token"]
    error = body.get("error") if isinstance(body, dict) else None
    if error == "invalid_grant":
        raise DriveAuthError(REAUTH_MESSAGE)
    if error in ("invalid_client", "unauthorized_client"):
        raise DriveError("As credenciais do Google deste servidor foram recusadas (GOOGLE_CLIENT_ID/SECRET).")
    raise DriveError(f"O Google recusou a renovação do acesso (HTTP {response.status_code}); será tentado de novo.")


def _send(http: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
    """One request, retried on network errors, 429, 5xx and Drive's 403 rate limits."""
    attempts = len(RETRY_DELAYS) + 1
    for attempt in range(attempts):
        last = attempt + 1 == attempts
        try:
            response = http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            if last:
                raise DriveError("Não foi possível falar com o Google agora; será tentado de novo.") from exc
            time.sleep(RETRY_DELAYS[attempt])
            continue
        if last or not _retryable(response):
            return response
        time.sleep(_retry_after(response, RETRY_DELAYS[attempt]))
    raise AssertionError("unreachable")


def _retryable(response: httpx.Response) -> bool:
    if response.status_code == 429 or response.status_code >= 500:
        return True
    return response.status_code == 403 and "ateLimitExceeded" in response.text  # (user)rateLimitExceeded


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return min(max(float(response.headers.get("retry-after", default)), 0.0), 30.0)
    except ValueError:
        return default


# --- Drive v3 ----------------------------------------------------------------------------


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _drive_error(response: httpx.Response, what: str) -> DriveError:
    try:
        err = response.json().get("error") or {}
    except (ValueError, AttributeError):
        err = {}
    errors = err.get("errors") if isinstance(err, dict) else None
    reasons = {e.get("reason") for e in errors or [] if isinstance(e, dict)}
    code = response.status_code
    if "insufficientPermissions" in reasons:  # the token lacks the Drive scope
        return DriveAuthError(SCOPE_MESSAGE)
    if code == 404 or (what == "pasta" and "insufficientFilePermissions" in reasons):
        return DriveNotFound(f"{what}: não encontrado no Google Drive.")
    if "exportSizeLimitExceeded" in reasons:
        return DriveError("O documento é grande demais para exportar do Google (limite de 10 MB).")
    if reasons & {"cannotDownloadFile", "cannotDownloadAbusiveFile", "fileNotDownloadable"}:
        return DriveError("O Google Drive não permite baixar este arquivo (o dono bloqueou o download).")
    if code in (401, 403):
        return DriveError(f"O Google Drive recusou o acesso a este arquivo (HTTP {code}).")
    return DriveError(f"O Google Drive respondeu com erro (HTTP {code}).")


class DriveApi:
    """The few Drive v3 calls a sync needs, with the bearer token refreshed once on a 401."""

    def __init__(
        self,
        http: httpx.Client,
        access_token: str,
        refresh: Callable[[], str] | None = None,
        base_url: str | None = None,
    ) -> None:
        self.http = http
        self.token = access_token
        self._refresh = refresh
        self.base = (base_url or api_url()) + "/drive/v3"

    def _get(self, path: str, params: dict[str, Any], *, stream_limit: int | None = None) -> httpx.Response:
        for first in (True, False):
            headers = {"Authorization": f"Bearer {self.token}", "User-Agent": USER_AGENT}
            response = _send(self.http, "GET", self.base + path, params=params, headers=headers)
            if response.status_code == 401 and first and self._refresh is not None:
                self.token = self._refresh()
                continue
            return response
        raise AssertionError("unreachable")

    def get_folder(self, folder_id: str) -> dict[str, Any]:
        """The folder's metadata; DriveNotFound when missing or trashed, DriveError when not a folder.
        Names are whatever the owner typed in Drive: cleaned of what PostgreSQL refuses (NUL)."""
        response = self._get(f"/files/{folder_id}", {"fields": "id,name,mimeType,trashed", "supportsAllDrives": "true"})
        if response.status_code != 200:
            raise _drive_error(response, "pasta")
        meta = pg_json(response.json())
        if meta.get("trashed"):
            raise DriveNotFound("pasta: está na lixeira.")
        if meta.get("mimeType") != FOLDER:
            raise DriveNotAFolder("O link informado é de um arquivo, não de uma pasta.")
        return meta

    def list_children(self, folder_id: str) -> Iterator[dict[str, Any]]:
        """Every non-trashed item directly in the folder, page after page."""
        escaped = folder_id.replace("\\", "\\\\").replace("'", "\\'")
        params: dict[str, Any] = {
            "q": f"'{escaped}' in parents and trashed=false",
            "fields": "nextPageToken,files(id,name,mimeType,modifiedTime,size,md5Checksum)",
            "pageSize": PAGE_SIZE,
            "supportsAllDrives": "true",
            "includeItemsFromAllDrives": "true",
        }
        while True:
            response = self._get("/files", params)
            if response.status_code != 200:
                raise _drive_error(response, "pasta")
            body = response.json()
            yield from body.get("files") or []
            token = body.get("nextPageToken")
            if not token:
                return
            params = {**params, "pageToken": token}

    def walk(self, folder_id: str) -> tuple[list[DriveFile], list[tuple[str, str]]]:
        """Files below the folder (sub-folders included) and the items skipped while walking."""
        files: list[DriveFile] = []
        skipped: list[tuple[str, str]] = []
        seen = {folder_id}
        pending: list[tuple[str, str, int]] = [(folder_id, "", 0)]
        while pending:
            current, path, depth = pending.pop(0)
            for item in self.list_children(current):
                mime = item.get("mimeType") or ""
                name = pg_text(item.get("name") or item.get("id") or "sem nome").replace("/", "-")
                shown = f"{path}/{name}" if path else name
                if mime == FOLDER:
                    if item.get("id") in seen:
                        continue
                    if depth + 1 > MAX_DEPTH:
                        skipped.append((shown, f"Subpasta com mais de {MAX_DEPTH} níveis: não foi sincronizada."))
                        continue
                    seen.add(item["id"])
                    pending.append((item["id"], shown, depth + 1))
                    continue
                size = item.get("size")
                files.append(
                    DriveFile(
                        id=item["id"],
                        name=name,
                        mime_type=mime,
                        modified_time=_parse_time(item.get("modifiedTime")),
                        size=int(size) if size and str(size).isdigit() else None,
                        md5=item.get("md5Checksum"),
                        path=path,
                    )
                )
        return files, skipped

    def fetch(self, f: DriveFile, max_bytes: int) -> tuple[bytes, str, str]:
        """(bytes, filename to store, MIME type): Google editors files exported, others downloaded."""
        if f.mime_type in EXPORTS:
            export_mime, ext = EXPORTS[f.mime_type]
            response = self._get(f"/files/{f.id}/export", {"mimeType": export_mime})
            filename, mime = f.name + ext, export_mime
        else:
            response = self._get(f"/files/{f.id}", {"alt": "media", "supportsAllDrives": "true"})
            filename, mime = stored_filename(f), f.mime_type
        if response.status_code != 200:
            raise _drive_error(response, "arquivo")
        data = response.content
        if len(data) > max_bytes:
            raise DriveError(f"Arquivo maior que o limite de {max_bytes // 1_000_000} MB.")
        return data, filename, mime


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def unsupported_reason(f: DriveFile) -> str | None:
    """Why the file is not imported, or None when it is."""
    if f.mime_type in EXPORTS:
        return None
    if f.mime_type == SHORTCUT:
        return "Atalhos não são sincronizados: coloque o arquivo original (ou uma cópia) na pasta."
    if f.mime_type.startswith(GOOGLE_APPS):
        return "Este tipo de arquivo do Google (Formulários, Desenhos, Sites...) não pode ser importado."
    if f.mime_type in DOWNLOADABLE or _extension(f.name) in EXTENSIONS:
        return None
    label = _extension(f.name) or f.mime_type or "formato desconhecido"
    return f"Tipo de arquivo não suportado ({label}). {ACCEPTED_HINT}"


def stored_filename(f: DriveFile) -> str:
    if f.mime_type in EXPORTS:
        return f.name + EXPORTS[f.mime_type][1]
    if _extension(f.name) in EXTENSIONS:
        return f.name
    return f.name + DOWNLOADABLE.get(f.mime_type, "")


def _title(f: DriveFile) -> str:
    if f.mime_type not in EXPORTS and _extension(f.name) in EXTENSIONS:
        return f.name.rsplit(".", 1)[0]
    return f.name


# --- connections -------------------------------------------------------------------------


def get_connection(session: Session, connection_id: uuid.UUID) -> DriveConnection | None:
    return session.get(DriveConnection, connection_id)


def is_syncing(conn: DriveConnection) -> bool:
    return conn.sync_started_at is not None and utcnow() - conn.sync_started_at < LEASE


def last_report(conn: DriveConnection) -> dict[str, Any] | None:
    return (conn.sync_state or {}).get("last_report")


def list_connections(session: Session) -> list[DriveConnection]:
    return list(session.exec(select(DriveConnection).order_by(DriveConnection.created_at)).all())


def save_connection(
    workspace_id: uuid.UUID,
    *,
    folder_id: str,
    folder_name: str,
    refresh_token: str,
    user_id: uuid.UUID | None,
    account_email: str | None = None,
) -> DriveConnection:
    """Store (or re-authorize) the connection of a folder and queue its first sync, atomically."""
    with tenant_session(workspace_id) as s:
        conn = s.exec(select(DriveConnection).where(DriveConnection.folder_id == folder_id).with_for_update()).first()
        if conn is None:
            conn = DriveConnection(workspace_id=workspace_id, folder_id=folder_id, refresh_token_encrypted="")
        conn.folder_name = pg_text(folder_name or folder_id)[:300]
        conn.refresh_token_encrypted = encrypt(refresh_token)
        conn.connected_by_user_id = user_id
        conn.account_email = (account_email or "")[:320] or None
        conn.status, conn.last_error = "active", None
        s.add(conn)
        s.flush()
        request_sync(s, conn)
        s.commit()
        return conn


def request_sync(session: Session, conn: DriveConnection) -> str:
    """Queue a sync now, in the caller's transaction. It takes over the connection's chain."""
    return get_queue().enqueue_in(session, SYNC_JOB, {"workspace_id": conn.workspace_id, "connection_id": conn.id})


def queue_sync(workspace_id: uuid.UUID, connection_id: uuid.UUID) -> bool:
    """Queue a sync now ("Sincronizar agora" in the panel); False when there is no such connection."""
    with tenant_session(workspace_id) as s:
        conn = s.get(DriveConnection, connection_id)
        if conn is None:
            return False
        request_sync(s, conn)
        s.commit()
        return True


def remove_connection(workspace_id: uuid.UUID, connection_id: uuid.UUID) -> int | None:
    """Disconnect from the panel (see disconnect)."""
    with tenant_session(workspace_id) as s:
        removed = disconnect(s, connection_id)
        s.commit()
        return removed


def disconnect(session: Session, connection_id: uuid.UUID) -> int | None:
    """Remove the connection and every document it brought (chunks and bytes cascade), in the
    caller's transaction. Returns the documents removed, None when there is no such connection.
    Locking the row first makes a sync in flight stop at its next file."""
    conn = session.exec(select(DriveConnection).where(DriveConnection.id == connection_id).with_for_update()).first()
    if conn is None:
        return None
    result = session.execute(
        delete(KnowledgeDocument).where(
            KnowledgeDocument.source_type == "drive", KnowledgeDocument.source_ref == str(connection_id)
        )
    )
    session.delete(conn)
    session.flush()
    return result.rowcount or 0


# --- sync --------------------------------------------------------------------------------


def sync_connection(workspace_id: uuid.UUID, connection_id: uuid.UUID) -> SyncReport:
    """Bring the knowledge base in line with the folder. Never raises: a failure is in the report
    and on the connection (status, last_error)."""
    report = SyncReport()
    with tenant_session(workspace_id) as s:
        conn = s.exec(select(DriveConnection).where(DriveConnection.id == connection_id).with_for_update()).first()
        if conn is None:
            report.error = "Conexão com o Google Drive não encontrada."
            return report
        now = utcnow()
        if conn.sync_started_at is not None and now - conn.sync_started_at < LEASE:
            report.error = BUSY_MESSAGE
            return report
        conn.sync_started_at = now
        s.add(conn)
        s.commit()
        folder_id, token_enc, state = conn.folder_id, conn.refresh_token_encrypted, dict(conn.sync_state or {})
    folder_name: str | None = None
    try:
        folder_name = _sync(workspace_id, connection_id, folder_id, token_enc, state, report)
    except _Disconnected:
        report.error = "A conexão foi removida durante a sincronização."
        return report
    except Exception:
        log.exception("drive sync crashed connection=%s", connection_id)
        report.error = "Erro interno ao sincronizar o Google Drive; será tentado de novo."
    _finish(workspace_id, connection_id, report, state, folder_name)
    return report


def _sync(
    workspace_id: uuid.UUID,
    connection_id: uuid.UUID,
    folder_id: str,
    token_enc: str,
    state: dict[str, Any],
    report: SyncReport,
) -> str | None:
    try:
        refresh_token = decrypt(token_enc)
    except ValueError:
        report.error, report.needs_reauth = "O token do Google salvo não pôde ser lido: conecte a pasta de novo.", True
        return None
    limit = get_settings().knowledge_max_bytes
    with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=True) as http:
        try:
            access = refresh_access_token(http, refresh_token)
            api = DriveApi(http, access, refresh=lambda: refresh_access_token(http, refresh_token))
            folder = api.get_folder(folder_id)
            remote, report.skipped = api.walk(folder_id)
        except DriveAuthError as exc:
            report.error, report.needs_reauth = str(exc), True
            return None
        except DriveNotFound:
            report.error = FOLDER_GONE_MESSAGE
            return None
        except DriveError as exc:
            report.error = str(exc)
            return None

        ref = str(connection_id)
        with tenant_session(workspace_id) as s:
            rows = s.exec(
                select(KnowledgeDocument.id, KnowledgeDocument.external_id, KnowledgeDocument.external_modified_at)
                .where(KnowledgeDocument.source_type == "drive", KnowledgeDocument.source_ref == ref)
                .order_by(KnowledgeDocument.created_at)
            ).all()
        existing: dict[str, tuple[uuid.UUID, datetime | None]] = {}
        for doc_id, external_id, modified in rows:
            if external_id:
                existing.setdefault(external_id, (doc_id, modified))
        duplicates: dict[str, dict[str, str]] = dict(state.get("duplicates") or {})

        wanted: list[DriveFile] = []
        for f in remote:
            reason = unsupported_reason(f)
            if reason:
                report.skipped.append((f.display_name, reason))
            else:
                wanted.append(f)
        present = {f.id for f in wanted}

        # Deletions first: a duplicate of a removed file is then imported in its place below.
        for external_id, (doc_id, _) in existing.items():
            if external_id in present:
                continue
            with tenant_session(workspace_id) as s:
                _heartbeat(s, connection_id)
                doc = s.get(KnowledgeDocument, doc_id)
                name = doc.filename if doc else external_id
                documents.delete_document(s, doc_id)
                s.commit()
            report.deleted.append(name)
        duplicates = {k: v for k, v in duplicates.items() if k in present}

        try:
            for f in wanted:
                _sync_file(api, workspace_id, connection_id, f, existing.get(f.id), duplicates, limit, report)
        except DriveAuthError as exc:  # the grant went away mid-sync: what was done stays done
            report.error, report.needs_reauth = str(exc), True
            return None
        state["duplicates"] = duplicates
        return folder.get("name")


def _sync_file(
    api: DriveApi,
    workspace_id: uuid.UUID,
    connection_id: uuid.UUID,
    f: DriveFile,
    previous: tuple[uuid.UUID, datetime | None] | None,
    duplicates: dict[str, dict[str, str]],
    limit: int,
    report: SyncReport,
) -> None:
    stamp = f.modified_time.isoformat() if f.modified_time else ""
    if previous is not None and f.modified_time is not None and previous[1] == f.modified_time:
        report.unchanged.append(f.display_name)
        return
    dup = duplicates.get(f.id)
    if previous is None and dup and dup.get("modified") == stamp and stamp:
        with tenant_session(workspace_id) as s:
            alive = s.get(KnowledgeDocument, uuid.UUID(dup["document_id"])) is not None
        if alive:
            report.unchanged.append(f.display_name)
            return
    if f.size is not None and f.size > limit:
        report.failed.append((f.display_name, f"Arquivo maior que o limite de {limit // 1_000_000} MB."))
        return
    try:
        data, filename, mime = api.fetch(f, limit)
    except DriveAuthError:
        raise
    except DriveError as exc:
        report.failed.append((f.display_name, str(exc)))
        return
    try:
        with tenant_session(workspace_id) as s:
            _heartbeat(s, connection_id)
            result = documents.add_document(
                s,
                workspace_id,
                filename=filename,
                data=data,
                mime_type=mime,
                source_type="drive",
                external_id=f.id,
                external_modified_at=f.modified_time,
                source_ref=str(connection_id),
                title=_title(f),
            )
            doc = result.document
            if result.created:
                (report.updated if previous is not None or result.replaced else report.added).append(f.display_name)
                duplicates.pop(f.id, None)
            elif doc.external_id == f.id and doc.source_ref == str(connection_id):
                # Same bytes as the stored version (only the date moved): remember the new date.
                doc.external_modified_at = f.modified_time
                s.add(doc)
                report.unchanged.append(f.display_name)
            else:
                # The content is already in the base under another document: keep one copy.
                if previous is not None:
                    documents.delete_document(s, previous[0])
                duplicates[f.id] = {"modified": stamp, "document_id": str(doc.id)}
                report.skipped.append((f.display_name, f"Conteúdo idêntico a “{doc.filename}”, que já está na base."))
            s.commit()
    except _Disconnected:
        raise
    except documents.DocumentError as exc:
        report.failed.append((f.display_name, str(exc)))
    except Exception:
        log.exception("drive file import failed connection=%s file=%s", connection_id, f.id)
        report.failed.append((f.display_name, "Erro interno ao importar o arquivo."))


def _heartbeat(session: Session, connection_id: uuid.UUID) -> None:
    """Renew the lease, and lock the connection row for this transaction: a disconnect waits for
    the file in flight, and the next file sees the connection gone."""
    row = session.execute(
        text("UPDATE drive_connection SET sync_started_at = now() WHERE id = :id RETURNING id"),
        {"id": connection_id},
    ).first()
    if row is None:
        raise _Disconnected()


def _summary(report: SyncReport) -> str | None:
    if not report.failed:
        return None
    listed = "; ".join(f"{name} ({reason})" for name, reason in report.failed[:5])
    more = f"; e mais {len(report.failed) - 5}" if len(report.failed) > 5 else ""
    return f"{len(report.failed)} arquivo(s) não importado(s): {listed}{more}"[:2000]


def _finish(
    workspace_id: uuid.UUID,
    connection_id: uuid.UUID,
    report: SyncReport,
    state: dict[str, Any],
    folder_name: str | None,
) -> None:
    with tenant_session(workspace_id) as s:
        conn = s.exec(select(DriveConnection).where(DriveConnection.id == connection_id).with_for_update()).first()
        if conn is None:
            return
        conn.sync_started_at = None
        if report.error is None:
            conn.status = "active"
            conn.last_error = _summary(report)
            conn.last_sync_at = utcnow()
            conn.sync_state = {**state, "last_report": report.summary()}
            if folder_name:
                conn.folder_name = folder_name[:300]
        else:
            conn.status = "needs_reauth" if report.needs_reauth else "error"
            conn.last_error = report.error
        conn.files_synced = s.exec(
            select(func.count())
            .select_from(KnowledgeDocument)
            .where(KnowledgeDocument.source_type == "drive", KnowledgeDocument.source_ref == str(connection_id))
        ).one()
        s.add(conn)
        s.commit()
    log.info(
        "drive sync connection=%s added=%d updated=%d deleted=%d unchanged=%d failed=%d skipped=%d error=%s",
        connection_id,
        len(report.added),
        len(report.updated),
        len(report.deleted),
        len(report.unchanged),
        len(report.failed),
        len(report.skipped),
        bool(report.error),
    )


# --- the job -----------------------------------------------------------------------------


def run_sync_job(payload: dict[str, Any]) -> SyncReport | None:
    """One link of a connection's sync chain. A payload with ``run_at`` is a scheduled link and
    runs only if it is still the connection's ``next_sync_at``; one without (connect, "sync now")
    always runs. Whichever runs schedules the next link first, so a crash mid-sync loses nothing.
    Returns None when it had nothing to do."""
    workspace_id = uuid.UUID(str(payload["workspace_id"]))
    connection_id = uuid.UUID(str(payload["connection_id"]))
    scheduled = _parse_time(payload.get("run_at"))
    with tenant_session(workspace_id) as s:
        conn = s.exec(select(DriveConnection).where(DriveConnection.id == connection_id).with_for_update()).first()
        if conn is None:
            return None  # disconnected: the chain ends
        if scheduled is not None:
            if conn.next_sync_at is None or abs(conn.next_sync_at - scheduled) > timedelta(milliseconds=1):
                return None  # superseded by a newer link
            if conn.status == "needs_reauth":
                conn.next_sync_at = None  # reconnecting starts a new chain
                s.add(conn)
                s.commit()
                return None
        interval = sync_interval()
        if interval is not None:
            next_at = utcnow() + interval
            conn.next_sync_at = next_at
            get_queue().enqueue_in(
                s,
                SYNC_JOB,
                {"workspace_id": workspace_id, "connection_id": connection_id, "run_at": next_at.isoformat()},
                run_at=next_at,
            )
        else:
            conn.next_sync_at = None
        s.add(conn)
        s.commit()
    return sync_connection(workspace_id, connection_id)


@job(SYNC_JOB)
async def drive_sync_job(payload: dict) -> None:
    await asyncio.to_thread(run_sync_job, payload)
