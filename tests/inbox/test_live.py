"""Live updates through PostgreSQL LISTEN/NOTIFY: whichever process writes (here the service that
takes the webhook), every listening process hears about the conversation at once."""

from __future__ import annotations

import asyncio
import time
import uuid

from db.tenancy import tenant_session
from runtime.live import LiveHub, parse
from runtime.panel import inbox

from .conftest import new_lead


def test_malformed_payloads_are_ignored():
    assert parse("not json") is None
    assert parse('{"w": "x", "c": "y"}') is None
    ws, cid = uuid.uuid4(), uuid.uuid4()
    event = parse(f'{{"w": "{ws}", "c": "{cid}", "t": "message"}}')
    assert (event.workspace_id, event.conversation_id, event.table) == (ws, cid, "message")


def test_a_webhook_message_reaches_every_listener_of_its_workspace_only(shop, make_workspace):
    other = make_workspace("Outra loja")
    phone = new_lead()

    async def scenario():
        # Two hubs stand for two web worker processes, each with its own LISTEN connection.
        hub_a, hub_b = LiveHub(), LiveHub()
        try:
            async with (
                hub_a.subscribe(shop.workspace_id) as qa,
                hub_b.subscribe(shop.workspace_id) as qb,
                hub_b.subscribe(other.workspace_id) as q_other,
            ):
                started = time.perf_counter()
                await asyncio.to_thread(shop.lead_says, "Oi, chegou?", phone)
                ea = await asyncio.wait_for(qa.get(), timeout=5)
                latency = time.perf_counter() - started
                eb = await asyncio.wait_for(qb.get(), timeout=5)
                await asyncio.sleep(0.3)
                return ea, eb, latency, q_other.qsize()
        finally:
            await hub_a.stop()
            await hub_b.stop()

    ea, eb, latency, other_events = asyncio.run(scenario())
    cid = shop.conversation_of(phone)
    assert str(ea.conversation_id) == cid and str(eb.conversation_id) == cid
    assert ea.workspace_id == shop.workspace_id
    assert other_events == 0
    assert latency < 5  # the figure itself is measured by `python -m runtime bench inbox-live`


def test_seller_actions_and_suggestions_notify_too(shop):
    phone = new_lead()
    shop.lead_says("oi", phone)
    cid = shop.conversation_of(phone)

    async def scenario():
        hub = LiveHub()
        try:
            async with hub.subscribe(shop.workspace_id) as q:
                await asyncio.to_thread(inbox.take_over, shop.seller, cid)
                event = await asyncio.wait_for(q.get(), timeout=5)
                return event
        finally:
            await hub.stop()

    event = asyncio.run(scenario())
    assert str(event.conversation_id) == cid and event.table == "conversation"


def test_a_lost_connection_is_reopened_and_subscribers_are_told_to_resync(shop, pg):
    import psycopg

    admin = pg.admin.replace("postgresql+psycopg://", "postgresql://", 1)

    async def scenario():
        hub = LiveHub()
        try:
            async with hub.subscribe(shop.workspace_id) as q:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE query = 'LISTEN pv_inbox' AND pid <> pg_backend_pid()"
                    )
                resync = await asyncio.wait_for(q.get(), timeout=15)
                with tenant_session(shop.workspace_id) as s:
                    from sqlalchemy import text

                    s.execute(
                        text("SELECT pg_notify('pv_inbox', :p)"),
                        {"p": f'{{"w": "{shop.workspace_id}", "c": "{uuid.uuid4()}"}}'},
                    )
                    s.commit()
                after = await asyncio.wait_for(q.get(), timeout=5)
                return resync, after
        finally:
            await hub.stop()

    resync, after = asyncio.run(scenario())
    assert resync.table == "resync" and resync.conversation_id is None
    assert after.workspace_id == shop.workspace_id
