"""The PostgreSQL job queue, on pgqueuer: tables installed by migration 0002, app role only.

Enqueue is synchronous (request handlers, CLI) and borrows a pooled connection of the app
engine in autocommit mode. The worker is a pgqueuer QueueManager on two async psycopg
connections of the same role: one runs the queue's queries, the other only LISTENs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from pgqueuer.db import PsycopgDriver, SyncPsycopgDriver
from pgqueuer.models import Job
from pgqueuer.qm import QueueManager
from pgqueuer.queries import Queries, SyncQueries
from sqlalchemy import Engine
from sqlmodel import Session

from db.engine import app_engine, database_urls
from runtime.config import get_settings

from .base import (
    Payload,
    decode_payload,
    dispatch,
    encode_payload,
    get_handler,
    load_job_modules,
    registered,
    run_start_hooks,
)

log = logging.getLogger(__name__)

# Seconds an idle worker waits for a NOTIFY before it polls anyway (a missed notification
# or a job whose run_at has come costs at most this much delay).
DEFAULT_POLL_SECONDS = 10.0
APPLICATION_NAME = "piloto-jobs-worker"  # shows in pg_stat_activity
_MAX_RESTART_DELAY = 60.0


def app_conninfo() -> str:
    """libpq connection string of the application's (non-superuser) role."""
    return database_urls().app.replace("postgresql+psycopg://", "postgresql://", 1)


class PostgresJobQueue:
    """JobQueue on pgqueuer's tables. Each enqueue commits on its own (autocommit)."""

    def __init__(self, engine: Engine | None = None) -> None:
        self._engine = engine  # None: the app engine of the moment (follows set_database_urls)

    def enqueue(self, name: str, payload: Payload, run_at: datetime | None = None) -> str:
        get_handler(name)  # an unknown name fails here, not silently in a worker later
        data = encode_payload(payload)
        delay = _delay_until(run_at)
        engine = self._engine or app_engine()
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            driver = SyncPsycopgDriver(conn.connection.driver_connection)
            (job_id,) = SyncQueries(driver).enqueue(name, data, execute_after=delay)
        log.debug("enqueued job %s id=%s delay=%s", name, job_id, delay)
        return str(job_id)

    def enqueue_once(self, name: str, payload: Payload) -> bool:
        """Enqueue unless the same job is already waiting or running (periodic maintenance: every
        worker may ask, one job runs). Returns whether a job was added."""
        get_handler(name)
        engine = self._engine or app_engine()
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            driver = SyncPsycopgDriver(conn.connection.driver_connection)
            (job_id,) = SyncQueries(driver).enqueue(
                name, encode_payload(payload), dedupe_key=f"periodic:{name}", on_conflict="skip"
            )
        return job_id is not None

    def enqueue_in(self, session: Session, name: str, payload: Payload, run_at: datetime | None = None) -> str:
        """Enqueue inside the session's open transaction: the job exists exactly when the caller's
        rows do (a crash between "stored" and "queued" cannot lose work). Notifies on commit."""
        conn = session.connection().connection.driver_connection
        return enqueue_many_on(conn, name, [payload], [run_at])[0]


def enqueue_many_on(
    connection: psycopg.Connection, name: str, payloads: list[Payload], run_ats: list[datetime | None]
) -> list[str]:
    """Enqueue several jobs in one statement on a connection inside the caller's transaction."""
    get_handler(name)
    if not payloads:
        return []
    queries = SyncQueries(_InTransactionDriver(connection))
    # pgqueuer stores NOW() + delay, and NOW() is when the *transaction* began: measure the delay
    # from that instant, or a job enqueued late in a long transaction would run early.
    txn_now = connection.execute("SELECT now()").fetchone()[0] if any(run_ats) else None
    ids = queries.enqueue(
        [name] * len(payloads),
        [encode_payload(p) for p in payloads],
        [0] * len(payloads),
        [_delay_until(r, txn_now) for r in run_ats],
    )
    return [str(i) for i in ids]


class _InTransactionDriver(SyncPsycopgDriver):
    """pgqueuer's sync driver on a connection inside a transaction (it insists on autocommit only
    because it assumes it owns the connection; here the caller's transaction owns it)."""

    def __init__(self, connection: psycopg.Connection) -> None:
        self._connection = connection


def _delay_until(run_at: datetime | None, now: datetime | None = None) -> timedelta | None:
    if run_at is None:
        return None
    if run_at.tzinfo is None:
        raise ValueError("run_at must be timezone-aware (e.g. datetime.now(UTC) + timedelta(...))")
    return max(run_at - (now or datetime.now(UTC)), timedelta(0))


async def run_worker(
    stop: asyncio.Event | None = None,
    *,
    concurrency: int | None = None,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
) -> None:
    """Consume every registered job until ``stop`` is set, then finish in-flight jobs and return.

    Runs inside the caller's event loop (``asyncio.create_task(run_worker(stop))``). At most
    ``concurrency`` (default: WORKER_CONCURRENCY) handlers run at once. A failing handler is
    logged and its job ends as 'failed' in pgqueuer's log; a lost database connection is
    logged and the worker reconnects with backoff. Cancelling the task also stops it, but
    jobs in flight are then cancelled rather than finished: prefer setting ``stop``.
    """
    stop = stop or asyncio.Event()
    concurrency = concurrency or get_settings().worker_concurrency
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    load_job_modules()
    await asyncio.to_thread(run_start_hooks)
    names = registered()
    log.info("job worker starting: %d job types, concurrency %d", len(names), concurrency)
    periodic = asyncio.create_task(_run_periodic(stop), name="periodic-maintenance")
    delay = 1.0
    while not stop.is_set():
        started = time.monotonic()
        try:
            await _run_queue_manager(names, concurrency, poll_seconds, stop)
        except Exception:
            if stop.is_set():
                log.warning("job worker: error while stopping", exc_info=True)
                break
            if time.monotonic() - started > _MAX_RESTART_DELAY:
                delay = 1.0
            log.exception("job worker failed; restarting in %.0f s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, _MAX_RESTART_DELAY)
    periodic.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await periodic
    log.info("job worker stopped")


# Maintenance every worker asks for (deduplicated in the queue, so one runs however many workers):
# overdue follow-up steps whose job was lost, expired sessions, old raw webhook bodies.
# Job name -> period in seconds.
PERIODIC_JOBS = {"followups.sweep": 60, "auth.purge_expired": 3600, "webhooks.purge_old_events": 3600}


async def _run_periodic(stop: asyncio.Event, jobs: dict[str, int] | None = None) -> None:
    jobs = PERIODIC_JOBS if jobs is None else jobs
    queue = PostgresJobQueue()
    due = {name: 0.0 for name in jobs}
    while not stop.is_set():
        now = time.monotonic()
        for name, period in jobs.items():
            if now < due[name]:
                continue
            try:
                await asyncio.to_thread(queue.enqueue_once, name, {})
                due[name] = now + period
            except Exception as exc:  # the database is away: try again on the next round
                log.warning("periodic job %s not enqueued: %s", name, type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=5)


async def _run_queue_manager(names: list[str], concurrency: int, poll_seconds: float, stop: asyncio.Event) -> None:
    conninfo = app_conninfo()
    async with (
        await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True, application_name=APPLICATION_NAME
        ) as query_conn,
        await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True, application_name=APPLICATION_NAME
        ) as listen_conn,
    ):
        qm = QueueManager(Queries(_SplitDriver(query_conn, listen_conn)))
        slots = asyncio.Semaphore(concurrency)
        for name in names:
            qm.entrypoint(name, accepts_context=False, on_failure="hold")(_entrypoint(name, slots))

        lost = False

        async def supervise() -> None:
            # Stop on request, or as soon as the listening connection breaks: pgqueuer's
            # watcher dies quietly then, and no NOTIFY would ever wake this worker again.
            nonlocal lost
            while not stop.is_set():
                if listen_conn.broken or listen_conn.closed:
                    lost = True
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
            qm.shutdown.set()

        supervisor = asyncio.create_task(supervise())
        # pgqueuer caps this worker's picked jobs at max_concurrent_tasks (>= 2 x batch);
        # the semaphore caps the handlers actually running at `concurrency`.
        batch = max(1, concurrency // 2)
        try:
            await qm.run(
                dequeue_timeout=timedelta(seconds=poll_seconds),
                batch_size=batch,
                max_concurrent_tasks=max(concurrency, 2 * batch),
                shutdown_on_listener_failure=True,
            )
        finally:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        if lost:
            raise ConnectionError("job worker lost its database connection")
        if not stop.is_set():
            raise RuntimeError("pgqueuer's queue manager stopped unexpectedly")


def _entrypoint(name: str, slots: asyncio.Semaphore):
    async def run(job: Job) -> None:
        async with slots:
            try:
                await dispatch(name, decode_payload(job.payload))
            except Exception as exc:
                # Name and id only: payloads may carry personal data or tokens.
                log.error("job %s id=%s failed: %s", name, job.id, type(exc).__name__, exc_info=exc)
                raise  # pgqueuer records it as 'failed' (on_failure="hold") and carries on

    run.__name__ = run.__qualname__ = f"job_{name}"
    return run


class _SplitDriver:
    """pgqueuer Driver running queries on one connection and LISTEN on another.

    psycopg's ``notifies()`` holds its connection's lock while it waits (up to a second
    per round in pgqueuer's watcher), so on one shared connection every queue query would
    wait behind the listener.
    """

    def __init__(self, query_conn: psycopg.AsyncConnection, listen_conn: psycopg.AsyncConnection) -> None:
        self._query = PsycopgDriver(query_conn)
        self._listen = PsycopgDriver(listen_conn)

    async def fetch(self, query: str, *args: object) -> list[dict[str, Any]]:
        return await self._query.fetch(query, *args)

    async def execute(self, query: str, *args: object) -> str:
        return await self._query.execute(query, *args)

    async def notify(self, channel: str, payload: str) -> None:
        await self._query.notify(channel, payload)

    async def add_listener(self, channel: str, callback) -> None:
        await self._listen.add_listener(channel, callback)

    async def remove_listener(self, channel: str, callback) -> None:
        await self._listen.remove_listener(channel, callback)

    @property
    def shutdown(self) -> asyncio.Event:
        return self._listen.shutdown

    @property
    def tm(self):
        return self._listen.tm

    async def __aenter__(self) -> _SplitDriver:
        await self._query.__aenter__()
        await self._listen.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._listen.__aexit__(*exc)
        finally:
            await self._query.__aexit__(*exc)
