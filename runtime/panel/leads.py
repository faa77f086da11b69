"""Leads: every contact the company talks to, with stage, score and tags, and a CSV export."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from runtime.access import Principal, UserError, require_manager
from runtime.contacts import STAGES
from runtime.csv_export import to_csv
from runtime.panel.inbox import _timezone

_LIST_SQL = """
SELECT ct.id, ct.name, ct.phone, ct.email, ct.stage, ct.score, ct.lead_type, ct.tags, ct.opted_out_at,
       ct.created_at, lc.id AS conversation_id, lc.last_message_at
FROM contact ct
LEFT JOIN LATERAL (
  SELECT c.id, c.last_message_at FROM conversation c
  WHERE c.contact_id = ct.id ORDER BY c.last_message_at DESC NULLS LAST LIMIT 1
) lc ON true
WHERE true {filters}
ORDER BY lc.last_message_at DESC NULLS LAST, ct.created_at DESC
LIMIT :limit
"""


def _query(principal: Principal, search: str, stage: str, limit: int) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"limit": max(1, min(int(limit), 5000))}
    filters = ""
    if stage:
        if stage not in STAGES:
            raise UserError("Etapa desconhecida.")
        filters += " AND ct.stage = :stage"
        params["stage"] = stage
    term = (search or "").strip().lower()
    if term:
        params["q"] = f"%{term}%"
        filters += " AND (lower(ct.name) LIKE :q OR lower(coalesce(ct.email, '')) LIKE :q"
        digits = "".join(ch for ch in term if ch.isdigit())
        if digits:
            params["digits"] = f"%{digits}%"
            filters += " OR ct.phone LIKE :digits"
        filters += ")"
    with principal.session() as s:
        rows = s.execute(text(_LIST_SQL.format(filters=filters)), params).mappings().all()
        tz = _timezone(s, principal)
    return [
        {
            "id": str(r["id"]),
            "name": r["name"] or r["phone"],
            "phone": r["phone"],
            "email": r["email"] or "",
            "stage": r["stage"],
            "score": int(r["score"]),
            "lead_type": r["lead_type"],
            "tags": list(r["tags"] or []),
            "opted_out": r["opted_out_at"] is not None,
            "conversation_id": str(r["conversation_id"]) if r["conversation_id"] else "",
            "last_message_at": r["last_message_at"].isoformat() if r["last_message_at"] else "",
            "last_label": r["last_message_at"].astimezone(tz).strftime("%d/%m/%Y %H:%M")
            if r["last_message_at"]
            else "",
        }
        for r in rows
    ]


def list_leads(principal: Principal, search: str = "", stage: str = "", limit: int = 300) -> dict[str, Any]:
    """The newest-talking leads first, and how many sit in each stage (for the filter chips)."""
    require_manager(principal)
    rows = _query(principal, search, stage, limit)
    with principal.session() as s:
        counts = dict(s.execute(text("SELECT stage, count(*) FROM contact GROUP BY stage")).all())
    return {"leads": rows, "stages": {k: int(counts.get(k, 0)) for k in STAGES}}


def export_csv(principal: Principal, search: str = "", stage: str = "") -> str:
    """The filtered list as CSV (UTF-8, comma separated) for spreadsheets and CRMs; formula-safe
    whatever delimiter the spreadsheet splits on (runtime.csv_export)."""
    require_manager(principal)
    return to_csv(
        ["nome", "telefone", "email", "etapa", "pontuacao", "tipo", "etiquetas", "ultima_mensagem"],
        (
            [
                r["name"],
                r["phone"],
                r["email"],
                r["stage"],
                r["score"],
                r["lead_type"],
                ";".join(r["tags"]),
                r["last_message_at"],
            ]
            for r in _query(principal, search, stage, 5000)
        ),
    )
