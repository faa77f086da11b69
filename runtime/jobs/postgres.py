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
from pgqueuer.core.executors import DatabaseRetryEntrypointExecutor, EntrypointExecutorParameters
from pgqueuer.db import PsycopgDriver, SyncPsycopgDriver
from pgqueuer.errors import RetryRequested
from pgqueuer.models import Job
from pgqueuer.qm import QueueManager
from pgqueuer.queries import Queries, SyncQueries
from sqlalchemy import Engine
from sqlmodel import Session

from db.engine import app_engine, database_urls
from runtime.config import get_settings

from . import names
from .base import (
    Lane,
    Payload,
    decode_payload,
    dispatch,
    encode_payload,
    get_handler,
    load_job_modules,
    registered,
    run_start_hooks,
)
from .lease import LeaseHeld, current_job, release_job_leases

log = logging.getLogger(__name__)

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
    background_concurrency: int | None = None,
    poll_seconds: float | None = None,
    grace_seconds: float | None = None,
    single_lane: bool = False,
) -> None:
    """Consume every registered job until ``stop`` is set, then stop gracefully and return.

    Runs inside the caller's event loop (``asyncio.create_task(run_worker(stop))``). Two lanes, each
    its own pgqueuer queue manager and slots: ``concurrency`` (default WORKER_CONCURRENCY) for the
    interactive jobs (a lead's turn, a send, a follow-up step) and ``background_concurrency``
    (WORKER_BACKGROUND_CONCURRENCY) for the rest, so a tenant's bulk knowledge work never takes the
    slots a lead's reply needs. A handler that raises is retried with backoff (JOB_MAX_ATTEMPTS),
    then held as 'failed'; a lost database connection is logged and the lane reconnects.

    Once ``stop`` is set no new job starts; jobs in flight get ``grace_seconds`` (default
    WORKER_GRACE_SECONDS) to finish, then their leases are released and the jobs handed back to the
    queue for another worker. A handler still running in a thread then is abandoned (its final
    write is fenced by its lease); the caller should exit the process rather than wait for it.

    ``single_lane`` puts every job in one pool of both sizes together: how workers ran before lanes,
    kept for the fairness benchmark's comparison.
    """
    settings = get_settings()
    stop = stop or asyncio.Event()
    concurrency = concurrency or settings.worker_concurrency
    background_concurrency = background_concurrency or settings.worker_background_concurrency
    grace = settings.worker_grace_seconds if grace_seconds is None else grace_seconds
    poll_seconds = poll_seconds or settings.worker_poll_seconds
    if concurrency < 1 or background_concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    load_job_modules()
    await asyncio.to_thread(run_start_hooks)
    give_up = asyncio.Event()  # the grace period is over: hand back what still runs
    lanes: dict[Lane | None, int] = {Lane.interactive: concurrency, Lane.background: background_concurrency}
    if single_lane:
        lanes = {None: concurrency + background_concurrency}
    log.info(
        "job worker starting: %d job types, %d interactive + %d background slots",
        len(registered()),
        concurrency,
        background_concurrency,
    )
    tasks = [
        asyncio.create_task(_run_lane(lane, slots, poll_seconds, stop, give_up), name=f"jobs-{lane or 'all'}")
        for lane, slots in lanes.items()
        if registered(lane)
    ]
    periodic = asyncio.create_task(_run_periodic(stop), name="periodic-maintenance")
    await stop.wait()
    _, pending = await asyncio.wait(tasks, timeout=grace) if tasks else (set(), set())
    if pending:
        log.warning("job worker: jobs still running after %.0f s; handing them back to the queue", grace)
        give_up.set()
        await asyncio.wait(pending, timeout=5)
    for task in [*tasks, periodic]:
        task.cancel()
    await asyncio.gather(*tasks, periodic, return_exceptions=True)
    log.info("job worker stopped")


async def _run_lane(
    lane: Lane | None, concurrency: int, poll_seconds: float, stop: asyncio.Event, give_up: asyncio.Event
) -> None:
    """One lane's queue manager, restarted with backoff when it fails (a lost connection)."""
    names = registered(lane)
    delay = 1.0
    while not stop.is_set():
        started = time.monotonic()
        try:
            await _run_queue_manager(names, concurrency, poll_seconds, stop, give_up)
        except Exception:
            if stop.is_set():
                log.warning("job worker (%s): error while stopping", lane, exc_info=True)
                break
            if time.monotonic() - started > _MAX_RESTART_DELAY:
                delay = 1.0
            log.exception("job worker (%s) failed; restarting in %.0f s", lane, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, _MAX_RESTART_DELAY)


# Maintenance every worker asks for (deduplicated in the queue, so one runs however many workers):
# overdue follow-up steps whose job was lost, sends whose worker died long ago, expired sessions,
# old raw webhook bodies. Job name -> period in seconds.
PERIODIC_JOBS = {
    names.SWEEP_FOLLOWUPS: 60,
    names.SWEEP_SENDS: 60,
    names.PURGE_EXPIRED_AUTH: 3600,
    names.PURGE_OLD_WEBHOOK_EVENTS: 3600,
}


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


async def _run_queue_manager(
    names: list[str], concurrency: int, poll_seconds: float, stop: asyncio.Event, give_up: asyncio.Event
) -> None:
    conninfo = app_conninfo()
    settings = get_settings()
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

        def retrying(params: EntrypointExecutorParameters) -> DatabaseRetryEntrypointExecutor:
            return DatabaseRetryEntrypointExecutor(
                params,
                max_attempts=settings.job_max_attempts - 1,  # pgqueuer counts the retries
                initial_delay=timedelta(seconds=settings.job_retry_base_seconds),
                max_delay=timedelta(minutes=5),
            )

        for name in names:
            qm.entrypoint(name, accepts_context=False, on_failure="hold", executor_factory=retrying)(
                _entrypoint(name, slots, give_up)
            )

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
                heartbeat_timeout=timedelta(seconds=settings.job_heartbeat_timeout_seconds),
            )
        finally:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        if lost:
            raise ConnectionError("job worker lost its database connection")
        if not stop.is_set():
            raise RuntimeError("pgqueuer's queue manager stopped unexpectedly")


def _entrypoint(name: str, slots: asyncio.Semaphore, give_up: asyncio.Event):
    async def run(job: Job) -> None:
        key = str(job.id)
        token = current_job.set(key)  # leases taken by the handler register under this job
        try:
            work = asyncio.ensure_future(_run_in_slot(name, job, slots))
            stopping = asyncio.ensure_future(give_up.wait())
            try:
                await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
            if not work.done():  # the worker is stopping and the grace period is over
                released = await asyncio.to_thread(release_job_leases, key)
                work.cancel()  # its thread, if any, runs on unwatched; its final write is fenced
                log.warning("job %s id=%s handed back (worker stopping; %d lease(s) released)", name, key, released)
                raise RetryRequested(delay=timedelta(0), reason="worker stopped before the job finished")
            work.result()
        except LeaseHeld as exc:  # another live worker has this work: come back when its lease may end
            raise RetryRequested(delay=timedelta(seconds=exc.retry_after), reason=str(exc)) from None
        except RetryRequested:
            raise
        except Exception as exc:
            # Name and id only: payloads may carry personal data or tokens.
            log.error("job %s id=%s failed: %s", name, key, type(exc).__name__, exc_info=exc)
            raise  # retried with backoff, then held as 'failed' in pgqueuer's log
        finally:
            current_job.reset(token)

    run.__name__ = run.__qualname__ = f"job_{name}"
    return run


async def _run_in_slot(name: str, job: Job, slots: asyncio.Semaphore) -> None:
    async with slots:
        await dispatch(name, decode_payload(job.payload))


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
