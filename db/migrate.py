"""Apply migrations as the schema owner, then grant the app role what it needs (and no more)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url

from .engine import admin_engine, database_urls

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def app_role() -> str:
    return make_url(database_urls().app).username or "piloto_app"


def upgrade(revision: str = "head") -> None:
    command.upgrade(alembic_config(), revision)
    if revision == "head":
        setup_checkpointer()
    grant_app_role()


# LangGraph's checkpoint tables (the agent's per-conversation state). The library creates and
# migrates them itself (with CREATE INDEX CONCURRENTLY, so outside Alembic's transaction); we add
# row-level security keyed on the thread id, which the agent writes as "<workspace_id>:<conversation_id>".
CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")


def setup_checkpointer() -> None:
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    conninfo = database_urls().admin.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row) as conn:
        PostgresSaver(conn).setup()
        for table in CHECKPOINT_TABLES:
            conn.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            exists = conn.execute(
                "SELECT 1 FROM pg_policies WHERE tablename = %s AND policyname = 'tenant_isolation'", (table,)
            ).fetchone()
            if not exists:
                conn.execute(
                    f"CREATE POLICY tenant_isolation ON {table} "
                    "USING (split_part(thread_id, ':', 1) = current_setting('app.workspace_id', true)) "
                    "WITH CHECK (split_part(thread_id, ':', 1) = current_setting('app.workspace_id', true))"
                )


def downgrade(revision: str) -> None:
    command.downgrade(alembic_config(), revision)


def current_revision() -> str | None:
    with admin_engine().connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None


def grant_app_role() -> None:
    role = app_role()
    admin_user = make_url(database_urls().admin).username
    if role == admin_user:
        # Same role for both: RLS would not bind the owner. Refuse rather than pretend.
        raise RuntimeError(
            "DATABASE_URL must use a role other than the schema owner (DATABASE_ADMIN_URL) "
            "so that row-level security applies to the application"
        )
    with admin_engine().begin() as conn:
        q = conn.dialect.identifier_preparer.quote(role)
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {q}"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {q}"))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {q}"))
        conn.execute(text(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {q}"))
        conn.execute(text(f"REVOKE ALL ON alembic_version FROM {q}"))


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_current() -> bool:
    return current_revision() == head_revision()
