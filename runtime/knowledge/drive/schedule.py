"""The job ``knowledge.drive_sync`` (payload ``workspace_id``, ``connection_id``): runs a sync and
schedules the next one after ``drive_sync_interval_minutes``, so a folder stays in line with no
scheduler beyond the job queue.

Exactly one chain per connection: the job that runs writes ``next_sync_at`` and enqueues the next
link in one transaction, and a chain job whose ``run_at`` is not the connection's
``next_sync_at`` (superseded by an on-demand sync or a reconnect) does nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from db.models import ConnectionStatus, DriveConnection, utcnow
from db.tenancy import tenant_session
from runtime.config import get_settings
from runtime.jobs import get_queue, job
from runtime.jobs.names import DRIVE_SYNC as SYNC_JOB

from .files import parse_time
from .sync import SyncReport, sync_connection


def sync_interval() -> timedelta | None:
    minutes = get_settings().drive_sync_interval_minutes
    return timedelta(minutes=minutes) if minutes and minutes > 0 else None


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


def run_sync_job(payload: dict[str, Any]) -> SyncReport | None:
    """One link of a connection's sync chain. A payload with ``run_at`` is a scheduled link and
    runs only if it is still the connection's ``next_sync_at``; one without (connect, "sync now")
    always runs. Whichever runs schedules the next link first, so a crash mid-sync loses nothing.
    Returns None when it had nothing to do."""
    workspace_id = uuid.UUID(str(payload["workspace_id"]))
    connection_id = uuid.UUID(str(payload["connection_id"]))
    scheduled = parse_time(payload.get("run_at"))
    with tenant_session(workspace_id) as s:
        conn = s.exec(select(DriveConnection).where(DriveConnection.id == connection_id).with_for_update()).first()
        if conn is None:
            return None  # disconnected: the chain ends
        if scheduled is not None:
            if conn.next_sync_at is None or abs(conn.next_sync_at - scheduled) > timedelta(milliseconds=1):
                return None  # superseded by a newer link
            if conn.status == ConnectionStatus.needs_reauth:
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
