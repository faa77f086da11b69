"""`python -m runtime bench inbox-live`: how fast a new message reaches open inboxes.

A message row is committed (as the webhook does); every subscriber of every hub (one hub = one
web worker process with its LISTEN connection) waits for the notification; then the screen's
refresh (the conversation list and the open thread, as a seller sees them) is timed over a
workspace with many conversations. Latency to the browser = notification + refresh + one
websocket push (the browser test records that end to end)."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid

from sqlalchemy import text

from db.models import Role
from db.tenancy import tenant_session
from runtime.access import Principal
from runtime.live import LiveHub
from runtime.scratch import drop_workspace


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


def _seed(conversations: int, messages_each: int) -> tuple[Principal, uuid.UUID]:
    from runtime.auth.accounts import create_workspace

    tag = f"bench-live-{uuid.uuid4().hex[:8]}"
    ws = create_workspace(tag, f"{tag}@example.com", None, google_sub=tag)
    with tenant_session(ws.workspace_id) as s:
        s.execute(
            text(
                "INSERT INTO contact (id, workspace_id, phone, name, lead_type, stage, score, fields, notes, tags) "
                "SELECT gen_random_uuid(), :w, '+55119' || lpad(g::text, 8, '0'), 'Lead ' || g, 'lead', 'new', 0, "
                "'{}', '', '[]' FROM generate_series(1, :n) g"
            ),
            {"w": ws.workspace_id, "n": conversations},
        )
        s.execute(
            text(
                "INSERT INTO conversation (id, workspace_id, contact_id, status, last_message_at, last_inbound_at, "
                "created_at) SELECT gen_random_uuid(), :w, id, 'open', now() - random() * interval '3 days', now(), "
                "now() FROM contact WHERE workspace_id = :w"
            ),
            {"w": ws.workspace_id},
        )
        s.execute(
            text(
                "INSERT INTO message (id, workspace_id, conversation_id, direction, author, kind, text, media, "
                "details, status, attempts, created_at) "
                "SELECT gen_random_uuid(), :w, c.id, CASE WHEN g % 2 = 0 THEN 'inbound' ELSE 'outbound' END, "
                "CASE WHEN g % 2 = 0 THEN 'lead' ELSE 'agent' END, 'text', 'mensagem ' || g, '{}', '{}', "
                "'received', 0, now() - (g || ' minutes')::interval "
                "FROM conversation c, generate_series(1, :m) g WHERE c.workspace_id = :w"
            ),
            {"w": ws.workspace_id, "m": messages_each},
        )
        target = s.execute(
            text("SELECT id FROM conversation WHERE workspace_id = :w LIMIT 1"), {"w": ws.workspace_id}
        ).scalar_one()
        s.commit()
    return Principal(ws.user_id, ws.workspace_id, Role.owner), target


def _insert_message(workspace_id: uuid.UUID, conversation_id: uuid.UUID, i: int) -> None:
    with tenant_session(workspace_id) as s:
        s.execute(
            text(
                "INSERT INTO message (id, workspace_id, conversation_id, direction, author, kind, text, media, "
                "details, status, attempts) VALUES (gen_random_uuid(), :w, :c, 'inbound', 'lead', 'text', :t, '{}', "
                "'{}', 'received', 0)"
            ),
            {"w": workspace_id, "c": conversation_id, "t": f"nova mensagem {i}"},
        )
        s.commit()


async def _notify_latencies(principal: Principal, target: uuid.UUID, events: int, hubs: int, subs: int) -> list[float]:
    instances = [LiveHub() for _ in range(hubs)]
    latencies: list[float] = []
    try:
        async with contextlib.AsyncExitStack() as stack:
            queues = [
                await stack.enter_async_context(h.subscribe(principal.workspace_id))
                for h in instances
                for _ in range(subs)
            ]
            for i in range(events):
                started = time.perf_counter()
                await asyncio.to_thread(_insert_message, principal.workspace_id, target, i)
                await asyncio.gather(*(q.get() for q in queues))
                latencies.append(time.perf_counter() - started)
    finally:
        for h in instances:
            await h.stop()
    return latencies


def bench_inbox_live(events: int = 200, hubs: int = 4, subscribers: int = 25, conversations: int = 2000) -> dict:
    from runtime.panel import inbox

    started = time.perf_counter()
    principal, target = _seed(conversations, 10)
    seeded_s = time.perf_counter() - started
    try:
        notify = asyncio.run(_notify_latencies(principal, target, events, hubs, subscribers))
        list_times, thread_times = [], []
        for _ in range(30):
            t0 = time.perf_counter()
            inbox.conversations(principal)
            list_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            inbox.thread(principal, target)
            thread_times.append(time.perf_counter() - t0)
    finally:
        drop_workspace(principal.workspace_id)
    refresh = [a + b for a, b in zip(list_times, thread_times, strict=True)]
    return {
        "setup": {
            "conversations": conversations,
            "messages": conversations * 10,
            "hubs (web processes)": hubs,
            "open inboxes": hubs * subscribers,
            "seed_s": round(seeded_s, 1),
        },
        "commit_to_all_inboxes_notified_ms": {
            "p50": _pct(notify, 0.5),
            "p95": _pct(notify, 0.95),
            "max": round(max(notify) * 1000, 1),
            "mean": round(statistics.mean(notify) * 1000, 1),
        },
        "screen_refresh_ms (list + open thread)": {"p50": _pct(refresh, 0.5), "p95": _pct(refresh, 0.95)},
        "list_ms": {"p50": _pct(list_times, 0.5), "p95": _pct(list_times, 0.95)},
        "thread_ms": {"p50": _pct(thread_times, 0.5), "p95": _pct(thread_times, 0.95)},
    }
