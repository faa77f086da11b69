"""Live inbox updates that work across processes.

PostgreSQL triggers (migration 0010_inbox) NOTIFY the 'pv_inbox' channel with the workspace and
conversation ids whenever a message, suggestion or conversation changes, whoever made the change
(the webhook, the job worker, another web worker). Each web process keeps ONE listening
connection and fans the events out to the open inboxes of that workspace, which then re-read what
they show through their own tenant-scoped session. No content travels in the notification, so
row-level security still decides what each seller sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg

log = logging.getLogger(__name__)

CHANNEL = "pv_inbox"
RECONNECT_DELAYS_S = (0.5, 1, 2, 5, 10)


@dataclass(frozen=True)
class InboxEvent:
    workspace_id: uuid.UUID
    conversation_id: uuid.UUID | None  # None: "re-read everything" (after a reconnect)
    table: str


def parse(payload: str) -> InboxEvent | None:
    """The event in a notification payload; None for anything malformed."""
    try:
        data = json.loads(payload)
        return InboxEvent(uuid.UUID(str(data["w"])), uuid.UUID(str(data["c"])), str(data.get("t", "")))
    except (ValueError, KeyError, TypeError):
        return None


def _conninfo() -> str:
    from db.engine import database_urls

    return database_urls().app.replace("postgresql+psycopg://", "postgresql://", 1)


class LiveHub:
    """One LISTEN connection per process (started on first subscribe), many subscribers."""

    def __init__(self, conninfo: str | None = None) -> None:
        self._conninfo = conninfo
        self._subscribers: dict[uuid.UUID, set[asyncio.Queue[InboxEvent]]] = {}
        self._task: asyncio.Task | None = None
        self._listening = asyncio.Event()

    async def _listen_forever(self) -> None:
        attempt = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo or _conninfo(), autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    if attempt:  # events may have been missed while disconnected
                        self._broadcast_resync()
                    attempt = 0
                    self._listening.set()
                    async for note in conn.notifies():
                        event = parse(note.payload)
                        if event is not None:
                            self._dispatch(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarted, the network blinked...
                self._listening.clear()
                delay = RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)]
                attempt += 1
                log.warning("live inbox listener lost its connection (%s); retrying in %ss", type(exc).__name__, delay)
                await asyncio.sleep(delay)

    def _dispatch(self, event: InboxEvent) -> None:
        for queue in self._subscribers.get(event.workspace_id, ()):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    def _broadcast_resync(self) -> None:
        for workspace_id in list(self._subscribers):
            self._dispatch(InboxEvent(workspace_id, None, "resync"))

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen_forever(), name="live-inbox-listener")
        await asyncio.wait_for(self._listening.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self._listening.clear()

    @contextlib.asynccontextmanager
    async def subscribe(self, workspace_id: uuid.UUID) -> AsyncIterator[asyncio.Queue[InboxEvent]]:
        """A queue of this workspace's events, live while the block runs."""
        queue: asyncio.Queue[InboxEvent] = asyncio.Queue(maxsize=1000)
        self._subscribers.setdefault(workspace_id, set()).add(queue)
        try:
            await self.start()
            yield queue
        finally:
            subs = self._subscribers.get(workspace_id)
            if subs is not None:
                subs.discard(queue)
                if not subs:
                    self._subscribers.pop(workspace_id, None)


_hubs: dict[int, LiveHub] = {}


def hub() -> LiveHub:
    """The hub of the running event loop (one per web worker process)."""
    loop = asyncio.get_running_loop()
    if id(loop) not in _hubs:
        _hubs[id(loop)] = LiveHub()
    return _hubs[id(loop)]


async def drain(queue: asyncio.Queue[InboxEvent], first: InboxEvent, window_s: float = 0.05) -> list[InboxEvent]:
    """The first event plus whatever arrives right behind it: a burst (a message and its turn and
    suggestion) becomes one refresh."""
    events = [first]
    await asyncio.sleep(window_s)
    while not queue.empty():
        events.append(queue.get_nowait())
    return events
