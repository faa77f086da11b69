"""Row-level security: a session scoped to workspace A can neither read nor write B's rows."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from db.models import GLOBAL_TABLES, Agent, Contact, Membership, Workspace
from db.tenancy import global_session, tenant_session


def _add_contact(ws_id: uuid.UUID, phone: str) -> uuid.UUID:
    with tenant_session(ws_id) as s:
        c = Contact(workspace_id=ws_id, phone=phone, name="Lead")
        s.add(c)
        s.commit()
        return c.id


def test_app_role_is_not_superuser_and_cannot_bypass_rls(pg):
    with global_session() as s:
        row = s.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
    assert row == (False, False)


def test_cannot_read_other_workspace_even_with_explicit_where(make_workspace):
    a, b = make_workspace("A"), make_workspace("B")
    b_contact = _add_contact(b.workspace_id, "+5511999990001")
    _add_contact(a.workspace_id, "+5511999990002")

    with tenant_session(a.workspace_id) as s:
        assert s.exec(select(Contact).where(Contact.workspace_id == b.workspace_id)).all() == []
        assert s.get(Contact, b_contact) is None
        raw = s.execute(text("SELECT count(*) FROM contact WHERE workspace_id = :b"), {"b": b.workspace_id})
        assert raw.scalar() == 0
        assert s.get(Workspace, b.workspace_id) is None
        assert [c.phone for c in s.exec(select(Contact)).all()] == ["+5511999990002"]


def test_cannot_insert_into_other_workspace(make_workspace):
    a, b = make_workspace("A"), make_workspace("B")
    with tenant_session(a.workspace_id) as s:
        s.add(Agent(workspace_id=b.workspace_id, name="intruso"))
        with pytest.raises(DBAPIError, match="row-level security"):
            s.commit()


def test_cannot_update_or_delete_other_workspace(make_workspace):
    a, b = make_workspace("A"), make_workspace("B")
    b_contact = _add_contact(b.workspace_id, "+5511999990003")
    with tenant_session(a.workspace_id) as s:
        upd = s.execute(text("UPDATE contact SET name = 'hacked' WHERE id = :id"), {"id": b_contact})
        dele = s.execute(text("DELETE FROM contact WHERE workspace_id = :b"), {"b": b.workspace_id})
        s.commit()
        assert upd.rowcount == 0 and dele.rowcount == 0
    with tenant_session(b.workspace_id) as s:
        assert s.get(Contact, b_contact).name == "Lead"


def test_moving_a_row_to_another_workspace_is_refused(make_workspace):
    a, b = make_workspace("A"), make_workspace("B")
    a_contact = _add_contact(a.workspace_id, "+5511999990004")
    with tenant_session(a.workspace_id) as s, pytest.raises(DBAPIError, match="row-level security"):
        s.execute(text("UPDATE contact SET workspace_id = :b WHERE id = :id"), {"b": b.workspace_id, "id": a_contact})


def test_no_tenant_set_sees_no_tenant_rows(make_workspace):
    a = make_workspace("A")
    _add_contact(a.workspace_id, "+5511999990005")
    with global_session() as s:
        assert s.exec(select(Contact)).all() == []
        assert s.exec(select(Membership)).all() == []


def test_tenant_setting_survives_commit_and_does_not_leak_between_sessions(make_workspace):
    a, b = make_workspace("A"), make_workspace("B")
    _add_contact(a.workspace_id, "+5511999990006")
    with tenant_session(a.workspace_id) as s:
        s.commit()  # a second transaction in the same session is still scoped to A
        assert len(s.exec(select(Contact)).all()) == 1
    for _ in range(3):  # pooled connections must not carry A's setting into B's session
        with tenant_session(b.workspace_id) as s:
            assert s.exec(select(Contact)).all() == []


def test_every_table_with_workspace_id_has_rls(pg):
    """Guards later migrations: a new tenant table without RLS fails here."""
    with global_session() as s:
        insp = inspect(s.connection())
        tables = [t for t in insp.get_table_names() if "workspace_id" in {c["name"] for c in insp.get_columns(t)}]
        rls = dict(s.execute(text("SELECT relname, relrowsecurity FROM pg_class WHERE relkind = 'r'")).all())
    tenant_tables = [t for t in tables if t not in GLOBAL_TABLES]
    assert "contact" in tenant_tables and "message" in tenant_tables
    missing = [t for t in tenant_tables if not rls.get(t)]
    assert missing == []


def test_agent_checkpoints_are_isolated_by_thread_prefix(make_workspace):
    """LangGraph's checkpoint tables: a workspace reads and writes only its own threads."""
    import psycopg

    from db.engine import database_urls

    a, b = make_workspace("A"), make_workspace("B")
    conninfo = database_urls().app.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT set_config('app.workspace_id', %s, false)", (str(a.workspace_id),))
        conn.execute(
            "INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type) "
            "VALUES (%s, '', 'c', '1', 'empty')",
            (f"{a.workspace_id}:conv",),
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type) "
                "VALUES (%s, '', 'c', '1', 'empty')",
                (f"{b.workspace_id}:conv",),
            )
        conn.execute("SELECT set_config('app.workspace_id', %s, false)", (str(b.workspace_id),))
        assert conn.execute("SELECT count(*) FROM checkpoint_blobs").fetchone()[0] == 0
