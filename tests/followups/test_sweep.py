"""Steps whose job was lost are re-armed by the periodic sweep; the worker asks for its periodic
maintenance once per period however many workers run (deduplicated in the queue)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from db.engine import app_engine
from runtime.followups.service import run_step, sweep_overdue
from runtime.jobs.postgres import _run_periodic

from .conftest import step


def _jobs(entrypoint: str, marker: str = "") -> int:
    with app_engine().connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pgqueuer WHERE entrypoint = :e AND status = 'queued' "
                "AND convert_from(payload, 'UTF8') LIKE :m"
            ),
            {"e": entrypoint, "m": f"%{marker}%"},
        ).scalar_one()


@pytest.fixture(autouse=True)
def _clean_queue(pg):
    yield
    with app_engine().begin() as conn:
        conn.execute(text("DELETE FROM pgqueuer WHERE status = 'queued'"))


def test_a_step_whose_job_was_lost_is_rearmed_and_then_sent(make_lead):
    lead = make_lead([step(1, "minutes", "Oi {nome}, ainda quer?")])
    lead.writes("Oi")
    lead.we_reply("Olá!")
    pending = lead.pending()
    # The step's job is lost (as when creating a Cloud Task fails after the commit) and it is overdue.
    with app_engine().begin() as conn:
        conn.execute(text("DELETE FROM pgqueuer WHERE convert_from(payload, 'UTF8') LIKE :m"), {"m": f"%{pending.id}%"})
    # Everything happened 11 minutes ago: the step was due 10 minutes ago.
    lead.update("UPDATE message SET created_at = created_at - interval '11 minutes' WHERE conversation_id = :c")
    lead.update(
        "UPDATE conversation SET last_inbound_at = last_inbound_at - interval '11 minutes', "
        "last_message_at = last_message_at - interval '11 minutes' WHERE id = :c"
    )
    lead.update(
        "UPDATE followup SET due_at = due_at - interval '11 minutes', "
        "silence_since = silence_since - interval '11 minutes' WHERE conversation_id = :c"
    )
    assert _jobs("followups.run_step", str(pending.id)) == 0

    sweep_overdue({})
    assert _jobs("followups.run_step", str(pending.id)) == 1
    assert run_step(lead.workspace_id, pending.id) == "sent"  # what the re-armed job does
    assert [m.text for m in lead.followup_messages()] == ["Oi Ana, ainda quer?"]

    sweep_overdue({})  # nothing overdue any more
    assert _jobs("followups.run_step", str(pending.id)) == 1


def test_a_step_not_yet_overdue_is_left_alone(make_lead):
    lead = make_lead([step(1, "minutes", "Oi")])
    lead.writes("Oi")
    lead.we_reply("Olá!")
    pending = lead.pending()
    lead.update("UPDATE followup SET due_at = now() - interval '30 seconds' WHERE conversation_id = :c")
    before = _jobs("followups.run_step", str(pending.id))
    sweep_overdue({})
    assert _jobs("followups.run_step", str(pending.id)) == before  # its own job is still coming


def test_periodic_maintenance_is_enqueued_once_while_one_is_waiting(pg):
    async def two_workers() -> None:
        stop = asyncio.Event()
        jobs = {"followups.sweep": 1, "auth.purge_expired": 1}
        tasks = [asyncio.create_task(_run_periodic(stop, jobs)) for _ in range(2)]
        await asyncio.sleep(2.5)
        stop.set()
        await asyncio.gather(*tasks)

    asyncio.run(two_workers())
    assert _jobs("followups.sweep") == 1
    assert _jobs("auth.purge_expired") == 1
