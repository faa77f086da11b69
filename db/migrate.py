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
    grant_app_role()


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
