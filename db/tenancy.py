"""Tenant scoping: sessions that set app.workspace_id for every transaction, and the RLS DDL.

The setting is transaction-local (set_config(..., true)) and re-applied at the start of
every transaction of the session, so a pooled connection never carries a tenant over.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlmodel import Session

from .engine import app_engine

_SET = text("SELECT set_config('app.workspace_id', :ws, true), set_config('app.user_id', :uid, true)")


class TenantSession(Session):
    """A Session whose every transaction is scoped to one workspace (and optionally a user)."""


@event.listens_for(TenantSession, "after_begin")
def _apply_tenant(session: Session, transaction, connection) -> None:
    ws = session.info.get("workspace_id")
    uid = session.info.get("user_id")
    connection.execute(_SET, {"ws": str(ws) if ws else "", "uid": str(uid) if uid else ""})


@contextmanager
def tenant_session(workspace_id: uuid.UUID | str | None, user_id: uuid.UUID | str | None = None) -> Iterator[Session]:
    """A session as the app role, scoped to one workspace; commit is the caller's job."""
    with TenantSession(app_engine(), expire_on_commit=False) as session:
        session.info["workspace_id"] = workspace_id
        session.info["user_id"] = user_id
        yield session


def switch_scope(session: Session, workspace_id: uuid.UUID | str | None, user_id: uuid.UUID | str | None) -> None:
    """Point the rest of the session's current transaction at another workspace and user (RLS follows).

    For the rare change that must touch several workspaces atomically (runtime.auth.takeover);
    everything else opens one tenant_session per workspace. Pending ORM changes are flushed first,
    so they are written under the workspace they were made for.
    """
    session.flush()
    session.execute(_SET, {"ws": str(workspace_id) if workspace_id else "", "uid": str(user_id) if user_id else ""})


@contextmanager
def global_session() -> Iterator[Session]:
    """App-role session with no tenant: sees global tables only (RLS hides tenant rows)."""
    with tenant_session(None) as session:
        yield session


# --- DDL used by migrations ---------------------------------------------------------

FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION app_current_workspace() RETURNS uuid
  LANGUAGE sql STABLE AS
  $$ SELECT NULLIF(current_setting('app.workspace_id', true), '')::uuid $$;

CREATE OR REPLACE FUNCTION app_current_user() RETURNS uuid
  LANGUAGE sql STABLE AS
  $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;
"""


def rls_sql(table: str) -> str:
    """Row-level security for a tenant table: rows of the current workspace only."""
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table}
  USING (workspace_id = app_current_workspace())
  WITH CHECK (workspace_id = app_current_workspace());
"""


def drop_rls_sql(table: str) -> str:
    return f"""
DROP POLICY IF EXISTS tenant_isolation ON {table};
ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
"""
