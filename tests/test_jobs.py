"""Background jobs on real PostgreSQL and real pgqueuer: enqueue as the app role, a worker runs them."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlmodel import select

from db.models import Contact, UserSession, utcnow
from db.tenancy import global_session, tenant_session
from runtime import security
from runtime.jobs import Lane, UnknownJob, dispatch, get_queue, job, registered, run_worker
from runtime.jobs.base import encode_payload, lane_of
from runtime.jobs.postgres import APPLICATION_NAME, PostgresJobQueue, app_conninfo

ROOT = Path(__file__).resolve().parent.parent
MIGRATION = ROOT / "db" / "migrations" / "versions" / "20261122_0002_job_queue.py"

# --- handlers used by these tests (registered at import, before any worker starts) ---

seen: dict[str, list] = {"ran": [], "deferred": [], "threads": []}
done = threading.Condition()


def _record(key: str, value) -> None:
    with done:
        seen[key].append(value)
        done.notify_all()


def _wait_for(predicate, timeout: float) -> bool:
    with done:
        return done.wait_for(predicate, timeout=timeout)


@job("test.add_contact")
def add_contact(payload: dict) -> None:
    """Sync handler (runs in a thread) writing tenant data through tenant_session."""
    ws = uuid.UUID(payload["workspace_id"])
    with tenant_session(ws) as s:
        s.add(Contact(workspace_id=ws, phone=payload["phone"], name="Via job"))
        s.commit()
    _record("threads", threading.current_thread().name)
    _record("ran", payload["phone"])


@job("test.record")
async def record(payload: dict) -> None:
    _record("ran", payload["tag"])


@job("test.deferred")
async def deferred(payload: dict) -> None:
    _record("deferred", (payload["tag"], time.monotonic()))


@job("test.boom")
def boom(payload: dict) -> None:
    raise RuntimeError("handler exploded")


_tries: dict[str, int] = {}


@job("test.slow_bulk")
def slow_bulk(payload: dict) -> None:
    """A tenant's slow background work (a long document, a slow web page)."""
    time.sleep(payload.get("seconds", 3))
    _record("ran", payload["tag"])


@job("test.lead_reply", lane=Lane.interactive)
async def lead_reply(payload: dict) -> None:
    _record("ran", (payload["tag"], time.monotonic()))


@job("test.flaky")
def flaky(payload: dict) -> None:
    """Fails its first two runs, as a handler does while the database restarts."""
    tag = payload["tag"]
    _tries[tag] = _tries.get(tag, 0) + 1
    if _tries[tag] < 3:
        raise ConnectionError("the database went away")
    _record("ran", tag)


@contextmanager
def worker(concurrency: int = 4) -> Iterator[None]:
    """A worker on its own event loop in a thread, as the app's lifespan task would run it."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(
        target=loop.run_until_complete, args=(run_worker(stop, concurrency=concurrency, poll_seconds=2),)
    )
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        assert not thread.is_alive(), "worker did not stop when asked"
        loop.close()


def _log_statuses(job_id: str) -> list[str]:
    with global_session() as s:
        rows = s.execute(
            text("SELECT status::text FROM pgqueuer_log WHERE job_id = :id ORDER BY id"), {"id": int(job_id)}
        ).all()
    return [r[0] for r in rows]


def _wait_status(job_id: str, status: str, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = _log_statuses(job_id)
        if status in statuses:
            return statuses
        time.sleep(0.05)
    return _log_statuses(job_id)


# --- tests ----------------------------------------------------------------------------


def test_enqueued_job_runs_and_its_tenant_write_is_visible(make_workspace):
    ws = make_workspace("Jobs")
    phone = f"+55119{uuid.uuid4().int % 10**8:08d}"
    job_id = get_queue().enqueue("test.add_contact", {"workspace_id": ws.workspace_id, "phone": phone})
    assert job_id.isdigit()
    with worker():
        assert _wait_for(lambda: phone in seen["ran"], timeout=5)
        assert _wait_status(job_id, "successful") == ["queued", "picked", "successful"]
    assert seen["threads"][-1].startswith("job-")  # a sync handler runs off the event loop, on a daemon thread
    with tenant_session(ws.workspace_id) as s:
        assert [c.name for c in s.exec(select(Contact).where(Contact.phone == phone)).all()] == ["Via job"]


def test_run_at_defers_the_job(pg):
    tag = uuid.uuid4().hex
    with worker():
        t0 = time.monotonic()
        get_queue().enqueue("test.deferred", {"tag": tag}, run_at=datetime.now(UTC) + timedelta(seconds=2))
        get_queue().enqueue("test.record", {"tag": tag})  # not deferred: runs at once
        assert _wait_for(lambda: tag in seen["ran"], timeout=3)
        assert not [t for t, _ in seen["deferred"] if t == tag]
        assert _wait_for(lambda: any(t == tag for t, _ in seen["deferred"]), timeout=4)
    ran_at = next(at for t, at in seen["deferred"] if t == tag)
    assert 1.9 <= ran_at - t0 <= 3.5


def test_run_at_holds_when_enqueued_late_in_a_long_transaction(pg):
    """pgqueuer stores NOW() + delay and NOW() is the transaction's start: the delay must be taken
    from that instant, or a job enqueued two seconds into a transaction runs two seconds early."""
    tag = uuid.uuid4().hex
    run_at = datetime.now(UTC) + timedelta(seconds=60)
    with tenant_session(None) as s:
        s.execute(text("SELECT 1"))  # the transaction (and its NOW()) starts here
        time.sleep(2)
        get_queue().enqueue_in(s, "test.deferred", {"tag": tag}, run_at=run_at)
        s.commit()
    with psycopg.connect(app_conninfo(), autocommit=True) as conn:
        (after,) = conn.execute(
            "SELECT execute_after FROM pgqueuer WHERE convert_from(payload, 'UTF8') LIKE %s", (f"%{tag}%",)
        ).fetchone()
        conn.execute("DELETE FROM pgqueuer WHERE convert_from(payload, 'UTF8') LIKE %s", (f"%{tag}%",))
    assert abs((after - run_at).total_seconds()) < 0.5


def test_a_handler_that_fails_for_a_while_is_retried_until_it_succeeds(pg):
    """A job whose handler raised (the database restarting) used to be held as failed forever:
    a lead's turn or send would then never happen."""
    tag = uuid.uuid4().hex
    with worker(concurrency=1):
        job_id = get_queue().enqueue("test.flaky", {"tag": tag})
        assert _wait_for(lambda: tag in seen["ran"], timeout=10)
        statuses = _wait_status(job_id, "successful")
    assert _tries[tag] == 3
    assert statuses == ["queued", "picked", "queued", "picked", "queued", "picked", "successful"]


def test_failing_handler_is_logged_recorded_and_does_not_stop_the_worker(pg, caplog):
    from runtime.config import get_settings

    tag = uuid.uuid4().hex
    caplog.set_level(logging.ERROR, logger="runtime.jobs")
    attempts = get_settings().job_max_attempts
    with worker(concurrency=1):
        failing = get_queue().enqueue("test.boom", {"api_token": "s3cr3t-token-value"})
        # retried with backoff (JOB_MAX_ATTEMPTS in all), then held
        assert _wait_status(failing, "failed", timeout=15) == ["queued"] + ["picked", "queued"] * (attempts - 1) + [
            "picked",
            "failed",
        ]
        get_queue().enqueue("test.record", {"tag": tag})
        assert _wait_for(lambda: tag in seen["ran"], timeout=5)
    with global_session() as s:
        tb = s.execute(
            text("SELECT traceback FROM pgqueuer_log WHERE job_id = :id AND status = 'failed'"), {"id": int(failing)}
        ).scalar_one()
        held = s.execute(text("SELECT status::text FROM pgqueuer WHERE id = :id"), {"id": int(failing)}).scalar_one()
    assert tb["exception_type"] == "RuntimeError" and "handler exploded" in tb["exception_message"]
    assert held == "failed"  # kept for inspection / manual re-queue
    ours = [r for r in caplog.records if r.name.startswith("runtime.jobs") and r.levelno >= logging.ERROR]
    assert any("test.boom" in r.getMessage() and failing in r.getMessage() for r in ours)
    assert all("s3cr3t" not in r.getMessage() for r in caplog.records)


def test_worker_runs_inside_an_existing_loop_and_returns_when_stopped(pg):
    tag = uuid.uuid4().hex

    async def main() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(stop, concurrency=2))
        await asyncio.to_thread(get_queue().enqueue, "test.record", {"tag": tag})
        ok = await asyncio.to_thread(_wait_for, lambda: tag in seen["ran"], 5)
        assert ok
        t0 = time.monotonic()
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        return time.monotonic() - t0

    assert asyncio.run(main()) < 2


def test_worker_reconnects_after_losing_its_connections(pg):
    tag = uuid.uuid4().hex
    admin = pg.admin.replace("postgresql+psycopg://", "postgresql://", 1)
    with worker():
        get_queue().enqueue("test.record", {"tag": tag + "-before"})
        assert _wait_for(lambda: tag + "-before" in seen["ran"], timeout=5)
        with psycopg.connect(admin, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = %s AND usename = 'piloto_app'",
                (APPLICATION_NAME,),
            ).fetchone()[0]
        assert killed == 4  # two lanes, each a query and a LISTEN connection
        get_queue().enqueue("test.record", {"tag": tag + "-after"})
        assert _wait_for(lambda: tag + "-after" in seen["ran"], timeout=8)


def test_dispatch_runs_registered_handlers_and_refuses_unknown_names(pg):
    tag = uuid.uuid4().hex
    asyncio.run(dispatch("test.record", {"tag": tag}))
    assert tag in seen["ran"]
    with pytest.raises(UnknownJob, match=r"no\.such\.job"):
        asyncio.run(dispatch("no.such.job", {}))
    with pytest.raises(UnknownJob):
        get_queue().enqueue("no.such.job", {})
    assert {"auth.purge_expired", "test.record"} <= set(registered())


def test_bad_payloads_and_naive_run_at_are_refused(pg):
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode_payload({"x": object()})
    with pytest.raises(TypeError, match="must be a dict"):
        encode_payload(["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        get_queue().enqueue("test.record", {"tag": "x"}, run_at=datetime.now())
    with pytest.raises(ValueError, match="invalid job name"):
        job("Bad Name/With Slash")


def test_queue_and_worker_use_the_app_role(pg):
    engine = create_engine(pg.app)
    try:
        with engine.connect() as c:
            assert c.execute(
                text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            ).one() == (
                False,
                False,
            )
        job_id = PostgresJobQueue(engine).enqueue("test.record", {"tag": "app-role"})
        with engine.begin() as c:
            row = c.execute(text("SELECT entrypoint, status::text FROM pgqueuer WHERE id = :id"), {"id": int(job_id)})
            assert row.one() == ("test.record", "queued")
            c.execute(text("DELETE FROM pgqueuer WHERE id = :id"), {"id": int(job_id)})
    finally:
        engine.dispose()
    with psycopg.connect(app_conninfo()) as conn:
        user, su = conn.execute(
            "SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()
    assert (user, su) == ("piloto_app", False)


def test_purge_job_deletes_expired_sessions(workspace):
    ws, _, _ = workspace
    expired, live = security.new_token(), security.new_token()
    with global_session() as s:
        for token, delta in ((expired, timedelta(hours=-1)), (live, timedelta(hours=1))):
            s.add(
                UserSession(
                    token_hash=security.token_hash(token),
                    user_id=ws.user_id,
                    workspace_id=ws.workspace_id,
                    expires_at=utcnow() + delta,
                )
            )
        s.commit()
    job_id = get_queue().enqueue("auth.purge_expired", {})
    with worker():
        assert _wait_status(job_id, "successful")[-1] == "successful"
    with global_session() as s:
        hashes = set(s.exec(select(UserSession.token_hash)).all())
    assert security.token_hash(expired) not in hashes
    assert security.token_hash(live) in hashes


def test_migration_downgrade_uninstalls_the_queue(pg):
    """The downgrade SQL is valid and removes every pgqueuer object (rolled back afterwards)."""
    spec = importlib.util.spec_from_file_location("job_queue_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.revision == "0002" and migration.down_revision == "0001"
    admin = pg.admin.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin) as conn:  # one transaction, rolled back on exit
        conn.execute(migration.uninstall_sql())
        left = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'pgqueuer%' AND relkind IN ('r', 'S')"
        ).fetchone()[0]
        types = conn.execute("SELECT count(*) FROM pg_type WHERE typname = 'pgqueuer_status'").fetchone()[0]
        assert (left, types) == (0, 0)
        conn.rollback()
    with global_session() as s:
        assert s.execute(text("SELECT count(*) FROM pgqueuer_log")).scalar() >= 0


def test_a_flood_of_slow_background_jobs_does_not_delay_an_interactive_one(pg):
    """One tenant's dozens of slow ingestion jobs fill the background lane; a lead's reply queued
    after them still starts at once, in the interactive lane's own slots."""
    tag = uuid.uuid4().hex
    with worker(concurrency=2):
        for i in range(12):
            get_queue().enqueue("test.slow_bulk", {"tag": f"{tag}-{i}", "seconds": 3})
        time.sleep(1)  # the slow jobs hold every background slot
        queued_at = time.monotonic()
        get_queue().enqueue("test.lead_reply", {"tag": tag})
        assert _wait_for(lambda: any(t == tag for t, *_ in [v for v in seen["ran"] if isinstance(v, tuple)]), 5)
        started = next(at for t, at in (v for v in seen["ran"] if isinstance(v, tuple)) if t == tag)
        assert started - queued_at < 1.5
        with global_session() as s:  # the slow jobs of this test are not all done: drop them
            s.execute(text("DELETE FROM pgqueuer WHERE entrypoint = 'test.slow_bulk'"))
            s.commit()


def test_the_lead_facing_jobs_run_in_the_interactive_lane():
    from runtime.jobs import load_job_modules

    load_job_modules()
    interactive = set(registered(Lane.interactive))
    assert {"pipeline.process_turn", "channels.send_message", "followups.run_step"} <= interactive
    assert lane_of("knowledge.ingest_document") is Lane.background
    assert lane_of("knowledge.drive_sync") is Lane.background
