"""Throwaway workspaces for benchmarks and evaluations: created with an owner that has no password,
removed with everything in them (rows cascade) and the jobs they queued."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from db.tenancy import tenant_session


def scratch_workspace(prefix: str = "scratch") -> uuid.UUID:
    from runtime.auth.accounts import create_workspace

    tag = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return create_workspace(tag, f"{tag}@example.com", None, google_sub=tag).workspace_id


def drop_workspace(workspace_id: uuid.UUID) -> None:
    with tenant_session(workspace_id) as s:
        s.execute(
            text("DELETE FROM pgqueuer WHERE convert_from(payload, 'UTF8')::jsonb->>'workspace_id' = :ws"),
            {"ws": str(workspace_id)},
        )
        s.execute(text("DELETE FROM workspace WHERE id = :id"), {"id": workspace_id})
        s.commit()
