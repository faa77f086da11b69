"""Migrations run up from an empty database, down to nothing, and up again."""

from __future__ import annotations

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from db.migrate import alembic_config
from db.models import GLOBAL_TABLES


@pytest.fixture
def empty_db(pg):
    base = pg.admin.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS migr_check")
        conn.execute("CREATE DATABASE migr_check")
    url = pg.admin.replace("/piloto?", "/migr_check?", 1)
    yield url
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS migr_check WITH (FORCE)")


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_then_downgrade_and_upgrade_again(empty_db):
    cfg = alembic_config()
    cfg.set_main_option("sqlalchemy.url", empty_db)
    assert _tables(empty_db) == set()
    command.upgrade(cfg, "head")
    tables = _tables(empty_db)
    assert {"workspace", "app_user", "membership", "contact", "conversation", "message", "audit_log"} <= tables
    assert tables >= GLOBAL_TABLES
    command.downgrade(cfg, "base")
    assert _tables(empty_db) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    assert tables == _tables(empty_db)


def test_models_match_migrations(pg):
    """Autogenerate finds nothing to do: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import db.models  # noqa: F401

    engine = create_engine(pg.admin)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    # Tables owned by libraries (job queue) are not in our metadata.
    from db.models import LIBRARY_TABLE_PREFIXES, RAW_SQL_TABLES

    def elsewhere(name: str) -> bool:
        return name.startswith(LIBRARY_TABLE_PREFIXES) or name in RAW_SQL_TABLES

    diff = [d for d in diff if not (d[0] == "remove_table" and elsewhere(d[1].name))]
    diff = [d for d in diff if not (d[0] == "remove_index" and elsewhere(d[1].table.name))]
    assert diff == []
