"""Store what webhooks brought, in ONE transaction per batch: the raw event, the lead, the
conversation, the message (a UNIQUE (channel_id, provider_message_id) turns redeliveries into
no-ops) and the debounced turn job. Statuses update outbound messages, never backwards.

Deliveries that arrive while a batch is being written wait and go together in the next one
("natural batching"): no added delay when idle, one commit for many under load. A batch that
fails is retried delivery by delivery, so one bad delivery fails alone."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from db.engine import app_engine
from db.models import utcnow
from runtime.channels.base import InboundMessage, ParsedEvent
from runtime.channels.service import ChannelSettings
from runtime.events import LeadWrote, MessageStatusChanged, publish
from runtime.jobs.names import PROCESS_TURN as TURN_JOB
from runtime.jobs.postgres import enqueue_many_on
from runtime.pgtext import pg_json

from .ids import provider_id

log = logging.getLogger(__name__)

MAX_BATCH = 200


@dataclass(frozen=True)
class ChannelRef:
    """The channel a webhook addressed, as resolved before any tenant is known."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    provider: str
    settings: ChannelSettings
    agent_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Delivery:
    channel: ChannelRef
    event: ParsedEvent
    body: bytes
    content_type: str | None = None


@dataclass
class IngestResult:
    new_message_ids: list[uuid.UUID] = field(default_factory=list)
    duplicates: int = 0
    ignored: int = 0
    statuses_applied: int = 0


def _media(m: InboundMessage) -> dict[str, Any]:
    if m.media is None:
        return {}
    md = m.media
    out: dict[str, Any] = {
        "id": md.id,
        "url": md.url,
        "mime_type": md.mime_type,
        "filename": md.filename,
        "voice": md.voice,
    }
    # Inline base64 (Evolution's webhook_base64) can be megabytes: it stays in the raw event only.
    extra = {k: v for k, v in md.extra.items() if k != "base64"}
    if extra:
        out["extra"] = extra
    return {k: v for k, v in out.items() if v not in (None, "", False)}


def _details(m: InboundMessage) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m.location is not None:
        loc = m.location
        out["location"] = {
            "latitude": loc.latitude,
            "longitude": loc.longitude,
            "name": loc.name,
            "address": loc.address,
        }
    for key in ("reply_id", "reaction_to", "context_id"):
        if getattr(m, key):
            out[key] = getattr(m, key)
    if m.is_group:
        out["group"] = True
    return out


def _delivery_json(i: int, d: Delivery, result: IngestResult) -> dict[str, Any]:
    messages = []
    for m in d.event.messages:
        if m.is_group and d.channel.settings.ignore_groups:
            result.ignored += 1
            continue
        messages.append(
            {
                "phone": m.from_phone,
                "name": m.from_name[:200],
                "ts": m.timestamp.isoformat(),
                "kind": m.kind.value,
                "text": m.text,
                "media": _media(m),
                "details": _details(m),
                "pmid": provider_id(m.provider_message_id),
            }
        )
    # Everything parsed from outside is cleaned of what PostgreSQL refuses (NUL, lone surrogates):
    # one such character would fail the whole batch. The raw body (bytea) keeps the bytes as they came.
    return pg_json(
        {
            "i": i,
            "ws": str(d.channel.workspace_id),
            "channel": str(d.channel.id),
            "agent": str(d.channel.agent_id) if d.channel.agent_id else None,
            "ctype": (d.content_type or "")[:120] or None,
            "messages": messages,
            "statuses": [
                {
                    "pmid": provider_id(s.provider_message_id),
                    "status": s.status.value,
                    "ts": s.timestamp.isoformat(),
                    "error": s.error,
                }
                for s in d.event.statuses
            ],
        }
    )


def ingest_batch(deliveries: list[Delivery]) -> list[IngestResult]:
    """Store deliveries (any workspaces) in one transaction and queue their turns; all or nothing."""
    results = [IngestResult(ignored=d.event.ignored) for d in deliveries]
    payload = [_delivery_json(i, d, results[i]) for i, d in enumerate(deliveries)]
    attempted = [len(p["messages"]) for p in payload]
    raw = app_engine().raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            cur.execute(
                "SELECT delivery, message_id, conversation_id, workspace_id, statuses, status_message_ids "
                "FROM app_ingest(%s::jsonb, %s)",
                (json.dumps(payload, ensure_ascii=False), [d.body for d in deliveries]),
            )
            rows = cur.fetchall()
        turns, run_ats, wrote = [], [], []
        moved = []
        for delivery, message_id, conversation_id, workspace_id, statuses, status_ids in rows:
            if message_id is None:
                results[delivery].statuses_applied = statuses
                moved += [MessageStatusChanged(workspace_id, m) for m in status_ids or ()]
                continue
            results[delivery].new_message_ids.append(message_id)
            wrote.append(LeadWrote(workspace_id, conversation_id, message_id))
            turns.append({"workspace_id": workspace_id, "conversation_id": conversation_id, "message_id": message_id})
            debounce = deliveries[delivery].channel.settings.debounce_seconds
            run_ats.append(utcnow() + timedelta(seconds=debounce))
        publish(conn, *wrote, *moved)  # in this transaction: e.g. the pending follow-ups stop
        enqueue_many_on(conn, TURN_JOB, turns, run_ats)
        conn.commit()
    except BaseException:
        raw.driver_connection.rollback()
        raise
    finally:
        raw.close()
    for i, r in enumerate(results):
        r.duplicates = attempted[i] - len(r.new_message_ids)
    return results


def ingest(channel: ChannelRef, event: ParsedEvent, body: bytes, content_type: str | None = None) -> IngestResult:
    return ingest_batch([Delivery(channel, event, body, content_type)])[0]


class IngestBatcher:
    """Coalesces concurrent deliveries of one event loop into batched transactions."""

    def __init__(self) -> None:
        self._pending: list[tuple[Delivery, asyncio.Future[IngestResult]]] = []
        self._writer: asyncio.Task | None = None

    async def submit(self, delivery: Delivery) -> IngestResult:
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                results = await asyncio.to_thread(ingest_batch, [d for d, _ in batch])
            except Exception:
                if len(batch) == 1:
                    log.exception("ingest failed for channel %s", batch[0][0].channel.id)
                    _settle(batch[0][1], exc=IngestFailed())
                    continue
                # Retry one by one: only the delivery that really fails is failed.
                for delivery, future in batch:
                    try:
                        _settle(future, (await asyncio.to_thread(ingest_batch, [delivery]))[0])
                    except Exception:
                        log.exception("ingest failed for channel %s", delivery.channel.id)
                        _settle(future, exc=IngestFailed())
                continue
            for (_, future), result in zip(batch, results, strict=True):
                _settle(future, result)


class IngestFailed(Exception):
    """The delivery could not be stored (database trouble): the provider should retry it."""


def _settle(future: asyncio.Future, result: IngestResult | None = None, exc: Exception | None = None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


_batchers: dict[asyncio.AbstractEventLoop, IngestBatcher] = {}


def batcher() -> IngestBatcher:
    """The batcher of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    if loop not in _batchers:
        for old in [lp for lp in _batchers if lp.is_closed()]:
            del _batchers[old]
        _batchers[loop] = IngestBatcher()
    return _batchers[loop]
