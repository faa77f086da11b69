"""One sync of a connected folder: bring the knowledge base in line with the folder, incrementally.

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

Two syncs of one connection never overlap (a lease, ``sync_started_at``, renewed with every file).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, text
from sqlmodel import Session, select

from db.models import ConnectionStatus, DriveConnection, KnowledgeDocument, utcnow
from db.tenancy import tenant_session
from runtime.config import get_settings
from runtime.crypto import decrypt

from .. import documents
from .client import DriveApi
from .errors import DriveAuthError, DriveError, DriveNotFound
from .files import DriveFile, title, unsupported_reason
from .oauth import refresh_access_token
from .transport import HTTP_TIMEOUT

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)  # a sync silent for this long is taken as dead (renewed per file)

FOLDER_GONE_MESSAGE = (
    "A pasta do Google Drive não foi encontrada: ela foi apagada, movida para a lixeira ou deixou de "
    "ser compartilhada com a conta conectada. Os documentos já importados foram mantidos."
)
BUSY_MESSAGE = "Uma sincronização desta pasta já está em andamento."


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
                title=title(f),
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
            conn.status = ConnectionStatus.active
            conn.last_error = _summary(report)
            conn.last_sync_at = utcnow()
            conn.sync_state = {**state, "last_report": report.summary()}
            if folder_name:
                conn.folder_name = folder_name[:300]
        else:
            conn.status = ConnectionStatus.needs_reauth if report.needs_reauth else ConnectionStatus.error
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
