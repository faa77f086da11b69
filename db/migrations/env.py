"""Alembic environment: runs as the schema owner (DATABASE_ADMIN_URL or the embedded superuser)."""

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers the tables)
from db.engine import database_urls
from db.models import LIBRARY_TABLE_PREFIXES, RAW_SQL_TABLES

target_metadata = SQLModel.metadata


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Library-owned tables (pgqueuer's job queue) are not ours to autogenerate."""
    table = str(obj.table.name if type_ == "index" else name)
    owned_elsewhere = table.startswith(LIBRARY_TABLE_PREFIXES) or table in RAW_SQL_TABLES
    return not (reflected and compare_to is None and owned_elsewhere)


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or database_urls().admin
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `python -m runtime migrate`")
run_migrations_online()
