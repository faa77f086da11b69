"""Follow-up figures for the dashboard ("recuperações por follow-up"). The session must be
tenant-scoped (RLS keeps it to one workspace)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

_COUNTS = text("""
SELECT status, count(*) FROM followup
WHERE created_at >= :start AND created_at < :end AND (CAST(:agent AS uuid) IS NULL OR agent_id = :agent)
GROUP BY status
""")
_RECOVERED = text("""
SELECT count(*) FILTER (WHERE sent_at IS NOT NULL),
       count(DISTINCT conversation_id) FILTER (WHERE replied_at IS NOT NULL),
       count(*) FILTER (WHERE replied_at IS NOT NULL)
FROM followup
WHERE status = 'sent' AND sent_at >= :start AND sent_at < :end AND (CAST(:agent AS uuid) IS NULL OR agent_id = :agent)
""")


def recoveries(session: Session, start: datetime, end: datetime, agent_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Follow-ups between `start` and `end`: `sent` (steps sent), `recovered` (conversations whose
    lead wrote back after a step was sent), `answered_steps`, `recovery_rate` (recovered / sent)
    and `by_status` (steps created in the period, by status: scheduled, sent, cancelled, skipped)."""
    params = {"start": start, "end": end, "agent": agent_id}
    by_status = {status: n for status, n in session.execute(_COUNTS, params).all()}
    sent, recovered, answered = session.execute(_RECOVERED, params).one()
    return {
        "sent": sent,
        "recovered": recovered,
        "answered_steps": answered,
        "recovery_rate": round(recovered / sent, 4) if sent else 0.0,
        "by_status": dict(sorted(by_status.items())),
    }
