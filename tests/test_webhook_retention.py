"""Raw webhook bodies (they carry leads' messages and numbers) are kept WEBHOOK_EVENT_RETENTION_DAYS,
then deleted by a maintenance job every worker schedules — in every workspace, under RLS."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text

from db.models import WebhookEvent, utcnow
from db.tenancy import tenant_session
from runtime.channels import service as channels
from runtime.jobs.base import dispatch, load_job_modules, registered
from runtime.jobs.postgres import PERIODIC_JOBS

JOB = "webhooks.purge_old_events"
AGES_DAYS = [0, 1, 29, 31, 90, 400]


def _seed(workspace_id) -> None:
    with tenant_session(workspace_id) as s:
        channel = channels.create_channel(
            s,
            workspace_id,
            provider="zapi",
            name="Z",
            credentials={"instance_id": "i", "token": "t", "client_token": "c"},
        )
        now = utcnow()
        for days in AGES_DAYS:
            s.add(
                WebhookEvent(
                    workspace_id=workspace_id,
                    channel_id=channel.id,
                    body=f'{{"age": {days}}}'.encode(),
                    received_at=now - timedelta(days=days, minutes=1),
                )
            )
        s.commit()


def _ages(workspace_id) -> list[int]:
    with tenant_session(workspace_id) as s:
        bodies = s.execute(text("SELECT convert_from(body, 'UTF8') FROM webhook_event ORDER BY received_at DESC"))
        return [int(b.split(":")[1].strip(" }")) for (b,) in bodies]


def _purge() -> None:
    asyncio.run(dispatch(JOB, {}))


@pytest.fixture
def two_workspaces(make_workspace):
    a, b = make_workspace("A"), make_workspace("B")
    _seed(a.workspace_id)
    _seed(b.workspace_id)
    return a.workspace_id, b.workspace_id


def test_bodies_older_than_the_retention_are_purged_in_every_workspace(two_workspaces, monkeypatch, fresh_settings):
    from runtime.config import get_settings

    monkeypatch.setenv("WEBHOOK_EVENT_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    _purge()
    for workspace_id in two_workspaces:
        assert _ages(workspace_id) == [0, 1, 29]

    monkeypatch.setenv("WEBHOOK_EVENT_RETENTION_DAYS", "1")
    get_settings.cache_clear()
    _purge()
    assert _ages(two_workspaces[0]) == [0]


def test_the_default_is_30_days_and_0_keeps_everything(two_workspaces, monkeypatch, fresh_settings):
    from runtime.config import get_settings

    monkeypatch.setenv("WEBHOOK_EVENT_RETENTION_DAYS", "0")
    get_settings.cache_clear()
    _purge()
    assert _ages(two_workspaces[0]) == AGES_DAYS

    monkeypatch.delenv("WEBHOOK_EVENT_RETENTION_DAYS", raising=False)
    get_settings.cache_clear()
    assert get_settings().webhook_event_retention_days == 30
    _purge()
    assert _ages(two_workspaces[1]) == [0, 1, 29]


def test_the_purge_runs_in_batches_until_done(two_workspaces, monkeypatch, fresh_settings):
    from runtime.channels import webhook_retention

    monkeypatch.setattr(webhook_retention, "BATCH", 2)  # 3 old rows per workspace, 6 in all: 3 batches
    _purge()
    assert _ages(two_workspaces[0]) == [0, 1, 29] and _ages(two_workspaces[1]) == [0, 1, 29]


def test_every_worker_schedules_it():
    load_job_modules()
    assert JOB in registered()
    assert PERIODIC_JOBS[JOB] <= 24 * 3600
