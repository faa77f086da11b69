"""The job queue contract shared by every backend, and the registry of job handlers.

A job is a name (a constant of runtime.jobs.names) plus a JSON payload. Handlers are
registered with ``@job(NAME)`` and take the decoded payload: ``handler(payload: dict) -> None``,
async or sync. Jobs run outside any request, so a handler that touches tenant data reads
``workspace_id`` from its payload and opens ``db.tenancy.tenant_session(workspace_id)`` itself.

Backends only move payloads around: ``PostgresJobQueue`` (pgqueuer) stores them and its
worker calls :func:`dispatch`; a Cloud Tasks backend would POST them to
``/tasks/{name}``, whose route calls :func:`dispatch` too.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

Payload = dict[str, Any]
Handler = Callable[[Payload], Awaitable[None] | None]
H = TypeVar("H", bound=Handler)

# Modules that register handlers with @job. The worker and dispatch() import them all
# before looking a name up, so a handler exists even if nothing else imported its module.
# Feature packages add theirs here (imported lazily: they may themselves enqueue jobs).
JOB_MODULES: list[str] = [
    "runtime.jobs.builtin",
    "runtime.pipeline.turns",
    "runtime.pipeline.outbound",
    "runtime.knowledge.documents",
    "runtime.knowledge.drive",
    "runtime.knowledge.reembed",
    "runtime.followups.service",
    "runtime.auth.invitation_email",
    "runtime.auth.password_reset",
    "runtime.auth.email_verification",
    "runtime.channels.webhook_retention",
    "runtime.events.bus",
]

# Safe in a URL path segment (/tasks/{name}) and in a Cloud Tasks task id.
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,99}$")


class Lane(enum.StrEnum):
    """Which of a worker's slot pools runs a job: what a lead waits for never queues behind bulk work."""

    interactive = "interactive"  # a lead's turn, a send, a follow-up step: seconds matter
    background = "background"  # knowledge ingestion, Drive sync, e-mail, maintenance


_registry: dict[str, Handler] = {}
_lanes: dict[str, Lane] = {}
_start_hooks: list[Callable[[], None]] = []


def on_worker_start(hook: Callable[[], None]) -> Callable[[], None]:
    """Run `hook()` (sync, best effort) each time a worker starts: catch-up work such as
    re-embedding after an embedding provider change."""
    _start_hooks.append(hook)
    return hook


def run_start_hooks() -> None:
    import logging

    for hook in list(_start_hooks):
        try:
            hook()
        except Exception:  # a failing hook must not keep the worker from consuming jobs
            logging.getLogger(__name__).exception("worker start hook %s failed", getattr(hook, "__name__", hook))


class UnknownJob(LookupError):
    """No handler is registered under this job name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no job handler registered for {name!r}")
        self.name = name


class JobQueue(Protocol):
    """Where request handlers and the CLI put work for later. Synchronous on purpose."""

    def enqueue(self, name: str, payload: Payload, run_at: datetime | None = None) -> str:
        """Queue job ``name`` with ``payload``, to run at once or not before ``run_at``; returns its id."""
        ...

    def enqueue_in(self, session: Any, name: str, payload: Payload, run_at: datetime | None = None) -> str:
        """Queue it as part of ``session``'s transaction (queued only if that transaction commits)."""
        ...


def job(name: str, *, lane: Lane = Lane.background) -> Callable[[H], H]:
    """Register ``handler(payload: dict) -> None`` (async or sync) as job ``name``, run in ``lane``."""
    if not _NAME.match(name):
        raise ValueError(f"invalid job name {name!r}: use lowercase letters, digits, '.', '_' or '-'")

    def register(handler: H) -> H:
        existing = _registry.get(name)
        if existing is not None and _qualname(existing) != _qualname(handler):
            raise ValueError(f"job {name!r} is already registered to {_qualname(existing)}")
        _registry[name] = handler
        _lanes[name] = Lane(lane)
        return handler

    return register


def registered(lane: Lane | None = None) -> list[str]:
    """Names of the jobs registered so far (in ``lane``, if given), sorted."""
    return sorted(n for n in _registry if lane is None or _lanes[n] == lane)


def lane_of(name: str) -> Lane:
    get_handler(name)
    return _lanes[name]


def load_job_modules() -> None:
    """Import every module in JOB_MODULES so that their @job handlers are registered."""
    for module in JOB_MODULES:
        importlib.import_module(module)


def get_handler(name: str) -> Handler:
    handler = _registry.get(name)
    if handler is None:
        load_job_modules()
        handler = _registry.get(name)
    if handler is None:
        raise UnknownJob(name)
    return handler


async def dispatch(name: str, payload: Payload) -> None:
    """Run the handler registered as ``name``; sync handlers run in a worker thread.

    Raises UnknownJob for an unregistered name; whatever the handler raises propagates.
    """
    handler = get_handler(name)
    if inspect.iscoroutinefunction(handler):
        await handler(payload)
        return
    from .threads import run_blocking

    result = await run_blocking(handler, payload)
    if inspect.isawaitable(result):  # e.g. a functools.partial over an async function
        await result


def encode_payload(payload: Payload) -> bytes:
    """JSON bytes for a payload. UUIDs and datetimes become strings; other types are refused."""
    if not isinstance(payload, dict):
        raise TypeError(f"job payload must be a dict, not {type(payload).__name__}")
    return json.dumps(payload, default=_json_default, separators=(",", ":"), ensure_ascii=False).encode()


def decode_payload(data: bytes | None) -> Payload:
    if not data:
        return {}
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError("job payload is not a JSON object")
    return value


def _json_default(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"job payload value of type {type(value).__name__} is not JSON serializable")


def _qualname(handler: Handler) -> str:
    return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', repr(handler))}"
