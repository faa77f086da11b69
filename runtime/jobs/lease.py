"""Leases: a worker claims a turn or a send for a while, not forever.

A claim carries its owner (this process) and an expiry that a background thread pushes forward
while the work goes on. When the worker dies the renewals stop, the lease ends, and the job that
the queue delivers again takes the work over; while the lease is alive a redelivery is told to
come back later (LeaseHeld) instead of being dropped. The row's final write checks that the lease
is still this owner's (fencing), so work taken over is finished once.

Leases are registered under the job that holds them (a context variable set by the worker), so a
stopping worker can hand back exactly the leases of the jobs it could not finish."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import text

from db.tenancy import tenant_session
from runtime.config import get_settings

log = logging.getLogger(__name__)

# This process, as lease owner: unique across hosts, restarts and forks.
WORKER_ID = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

# The tables whose rows are leased (lease_owner text, lease_expires_at timestamptz).
LEASED_TABLES = frozenset({"conversation_turn", "message"})

current_job: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_job", default=None)


class LeaseHeld(Exception):
    """Another live worker holds this work: deliver the job again after `retry_after` seconds."""

    def __init__(self, retry_after: float, what: str = "") -> None:
        super().__init__(f"{what or 'work'} is leased by another worker; retry in {retry_after:.1f}s")
        self.retry_after = max(0.0, retry_after)


def lease_seconds() -> float:
    return get_settings().job_lease_seconds


@dataclass(eq=False)
class Lease:
    """One leased row, renewed every third of the lease while `held()`."""

    table: str
    workspace_id: uuid.UUID
    row_id: uuid.UUID
    lost: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        if self.table not in LEASED_TABLES:
            raise ValueError(f"{self.table!r} is not a leased table")

    def renew(self) -> bool:
        """Push the expiry forward; False once the lease is no longer ours (released, taken over, done)."""
        with tenant_session(self.workspace_id) as s:
            row = s.execute(
                text(
                    f"UPDATE {self.table} SET lease_expires_at = now() + make_interval(secs => :secs) "
                    "WHERE id = :id AND lease_owner = :me RETURNING id"
                ),
                {"id": self.row_id, "me": WORKER_ID, "secs": lease_seconds()},
            ).first()
            s.commit()
        return row is not None

    def release(self) -> None:
        """Give the work back now (a stopping worker): the next claimer need not wait for the expiry."""
        self._stop.set()
        with tenant_session(self.workspace_id) as s:
            s.execute(
                text(
                    f"UPDATE {self.table} SET lease_owner = NULL, lease_expires_at = now() "
                    "WHERE id = :id AND lease_owner = :me"
                ),
                {"id": self.row_id, "me": WORKER_ID},
            )
            s.commit()
        self.lost.set()

    def _keep(self) -> None:
        interval = max(0.2, lease_seconds() / 3)
        while not self._stop.wait(interval):
            try:
                if not self.renew():
                    self.lost.set()
                    return
            except Exception as exc:  # the database is away: fencing protects the final write
                log.warning("lease renewal failed %s=%s: %s", self.table, self.row_id, type(exc).__name__)

    @contextlib.contextmanager
    def held(self) -> Iterator[Lease]:
        """Renew in the background while the caller works; registered under the current job."""
        job = current_job.get()
        _register(job, self)
        keeper = threading.Thread(target=self._keep, name=f"lease-{self.table}", daemon=True)
        keeper.start()
        try:
            yield self
        finally:
            self._stop.set()
            _unregister(job, self)


_held: dict[str | None, set[Lease]] = {}
_held_lock = threading.Lock()


def _register(job: str | None, lease: Lease) -> None:
    with _held_lock:
        _held.setdefault(job, set()).add(lease)


def _unregister(job: str | None, lease: Lease) -> None:
    with _held_lock:
        leases = _held.get(job)
        if leases is not None:
            leases.discard(lease)
            if not leases:
                del _held[job]


def release_job_leases(job: str) -> int:
    """Hand back the leases the job `job` holds (its worker is stopping). Returns how many."""
    with _held_lock:
        leases = list(_held.pop(job, ()))
    for lease in leases:
        try:
            lease.release()
        except Exception as exc:  # the lease then simply expires
            log.warning("lease release failed %s=%s: %s", lease.table, lease.row_id, type(exc).__name__)
    return len(leases)


def held_count() -> int:
    with _held_lock:
        return sum(len(v) for v in _held.values())
