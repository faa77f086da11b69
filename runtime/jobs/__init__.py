"""Background jobs: register handlers with @job, enqueue with get_queue().enqueue(...).

    from runtime.jobs import job, get_queue
    from runtime.jobs.names import SYNC_CONTACT  # every name is defined once, in names.py

    @job(SYNC_CONTACT)
    def sync_contact(payload: dict) -> None:
        with tenant_session(payload["workspace_id"]) as s: ...

    get_queue().enqueue(SYNC_CONTACT, {"workspace_id": ws_id, "contact_id": cid})

The worker (`run_worker`) runs inside an existing asyncio loop; see runtime.jobs.postgres.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from functools import lru_cache

from runtime.config import get_settings

from . import builtin  # noqa: F401  (registers the maintenance jobs)
from .base import (
    JOB_MODULES,
    Handler,
    JobQueue,
    Lane,
    Payload,
    UnknownJob,
    dispatch,
    job,
    load_job_modules,
    registered,
)

log = logging.getLogger(__name__)


@lru_cache
def _queue(backend: str) -> JobQueue:
    if backend == "postgres":
        from .postgres import PostgresJobQueue

        return PostgresJobQueue()
    raise ValueError(f"unknown JOBS_BACKEND {backend!r}")


def get_queue() -> JobQueue:
    """The queue of the configured backend (JOBS_BACKEND)."""
    return _queue(get_settings().jobs_backend)


async def run_worker(
    stop: asyncio.Event | None = None, *, concurrency: int | None = None, poll_seconds: float | None = None
) -> None:
    """Consume jobs in the current event loop until ``stop`` is set (see postgres.run_worker)."""
    backend = get_settings().jobs_backend
    if backend != "postgres":  # push backends (Cloud Tasks) need no worker: /tasks/{name} runs jobs
        raise ValueError(f"JOBS_BACKEND {backend!r} has no in-process worker")
    from .postgres import run_worker as run_postgres_worker

    await run_postgres_worker(stop, concurrency=concurrency, poll_seconds=poll_seconds)


@contextlib.asynccontextmanager
async def worker_running() -> AsyncIterator[None]:
    """Run the worker beside a web server for the server's lifetime (FastAPI or Reflex lifespan)."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(stop))
    try:
        yield
    finally:
        stop.set()
        try:  # the worker itself hands its jobs back after WORKER_GRACE_SECONDS
            await asyncio.wait_for(task, timeout=get_settings().worker_grace_seconds + 10)
        except Exception:  # a worker that fails to stop must not block the server's shutdown
            log.exception("job worker did not stop cleanly")


__all__ = [
    "JOB_MODULES",
    "Handler",
    "JobQueue",
    "Lane",
    "Payload",
    "UnknownJob",
    "dispatch",
    "get_queue",
    "job",
    "load_job_modules",
    "registered",
    "run_worker",
    "worker_running",
]
