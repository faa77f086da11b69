"""A workspace's connected Drive folders: the folder an owner pastes, the row that holds its
encrypted refresh token, and what the panel and the REST API show of it. Disconnecting removes
the documents the folder brought, so the knowledge base never keeps what the owner took away."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import delete
from sqlmodel import Session, select

from db.models import DriveConnection, KnowledgeDocument, utcnow
from db.tenancy import tenant_session
from runtime.crypto import encrypt
from runtime.pgtext import pg_text

from .schedule import request_sync
from .sync import LEASE


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
