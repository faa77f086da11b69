"""publish(tx, *events): the one way a reaction happens.

Two kinds of subscribers, both listed in runtime/wiring.py:
- **in the transaction**: called now with the publisher's transaction (a SQLModel Session, or the
  ingest's psycopg connection for LeadWrote) and the list of events of one type, so their effect
  commits or rolls back with the cause (follow-up scheduling stays exactly-once this way);
- **after commit**: one job per event and subscriber, enqueued in the same transaction. The job
  queue is a transactional outbox: the job exists exactly when the cause committed, and runs
  after it. Delivery is at least once, so these subscribers must be idempotent.

Subscribers are named "module:function" and imported when first needed: the publisher never
imports the features that react (the pipeline knows no feature)."""

from __future__ import annotations

import dataclasses
import importlib
import logging
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

from runtime import wiring
from runtime.jobs import Lane, get_queue, job
from runtime.jobs.names import DELIVER_EVENT

from .types import EVENT_TYPES, Event

log = logging.getLogger(__name__)

DELIVER_JOB = DELIVER_EVENT


@cache
def resolve(reference: str) -> Callable[..., Any]:
    """ "package.module:function" -> the function."""
    module, _, name = reference.partition(":")
    target = getattr(importlib.import_module(module), name, None)
    if not callable(target):
        raise LookupError(f"subscriber {reference!r} is not a function")
    return target


def publish(tx: Any, *events: Event) -> None:
    """Run the in-transaction subscribers of each event's type and enqueue its after-commit ones,
    all inside `tx` (a Session or the ingest's psycopg connection). Events of one type are handed
    to an in-transaction subscriber together, in the order given."""
    by_type: dict[type[Event], list[Event]] = {}
    for event in events:
        by_type.setdefault(type(event), []).append(event)
    for event_type, batch in by_type.items():
        for reference in wiring.IN_TRANSACTION.get(event_type, ()):
            resolve(reference)(tx, batch)
        for reference in wiring.AFTER_COMMIT.get(event_type, ()):
            _enqueue(tx, [_payload(reference, e) for e in batch])


def _payload(reference: str, event: Event) -> dict[str, Any]:
    return {"subscriber": reference, "event": type(event).__name__, **dataclasses.asdict(event)}


def _enqueue(tx: Any, payloads: list[dict[str, Any]]) -> None:
    if hasattr(tx, "exec"):  # a SQLModel Session
        for payload in payloads:
            get_queue().enqueue_in(tx, DELIVER_JOB, payload)
        return
    from runtime.jobs.postgres import enqueue_many_on

    enqueue_many_on(tx, DELIVER_JOB, payloads, [None] * len(payloads))


def decode(payload: dict[str, Any]) -> Event:
    """The event a delivery job carries (ids come back as UUIDs)."""
    event_type = EVENT_TYPES[payload["event"]]
    values = {}
    for f in dataclasses.fields(event_type):
        value = payload.get(f.name)
        values[f.name] = uuid.UUID(value) if isinstance(value, str) and f.name.endswith("_id") else value
    return event_type(**values)


@job(DELIVER_JOB, lane=Lane.background)
def deliver(payload: dict[str, Any]) -> None:
    """Run one after-commit subscriber for one event (its transaction committed)."""
    reference = payload["subscriber"]
    event = decode(payload)
    if reference not in wiring.AFTER_COMMIT.get(type(event), ()):
        log.warning("events.deliver: %s no longer subscribes to %s; dropped", reference, type(event).__name__)
        return
    resolve(reference)(event)
