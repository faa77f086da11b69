"""Raw webhook bodies are kept WEBHOOK_EVENT_RETENTION_DAYS (to debug a provider's deliveries),
then deleted: they hold leads' messages and phone numbers, which live on in the messages
themselves and need not live twice forever. Every worker schedules the purge (PERIODIC_JOBS)."""

from __future__ import annotations

import logging

from sqlalchemy import text

from db.tenancy import global_session
from runtime.config import get_settings
from runtime.jobs.base import Payload, job
from runtime.jobs.names import PURGE_OLD_WEBHOOK_EVENTS

log = logging.getLogger(__name__)

BATCH = 5000  # rows per statement: short transactions, no long lock on a busy table
MAX_BATCHES = 200  # per run; a larger backlog goes on at the next run


@job(PURGE_OLD_WEBHOOK_EVENTS)
def purge_old_events(payload: Payload) -> None:
    days = get_settings().webhook_event_retention_days
    if days <= 0:
        return
    removed = 0
    for _ in range(MAX_BATCHES):
        with global_session() as s:  # all workspaces, through a SECURITY DEFINER function
            n = s.execute(text("SELECT app_purge_webhook_events(:days, :n)"), {"days": days, "n": BATCH}).scalar_one()
            s.commit()
        removed += n
        if n < BATCH:
            break
    if removed:
        log.info("webhooks.purge_old_events: deleted %d raw webhook bodies older than %d days", removed, days)
