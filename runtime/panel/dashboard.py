"""Painel: how the AI seller is doing, aggregated in SQL over the conversations, messages, leads
and turns of one workspace (days in the workspace's time zone).

Definitions (shown in the panel's tooltips):
- conversas: conversations started in the period (conversation.created_at).
- novos leads: contacts of type lead or customer created in the period; with an agent filter,
  those that talked to that agent.
- taxa de qualificação: share of those new leads whose stage is now a qualified one
  (QUALIFIED_STAGES) or who became customers.
- taxa de transbordo (handoff): share of the conversations the agent decided on in the period
  (turns with a route) where it handed over to a person at least once.
- respostas por regras / respostas aprendidas / LLM: the route of each turn in the period.
- tempo da primeira resposta (mediana): for conversations started in the period, from the lead's
  first message to the first outbound message (agent or seller) after it.
- mensagens por canal: messages stored in the period, per channel.
- tokens e custo estimado: tokens the turns recorded, priced per model (runtime.panel.llm_prices).
- recuperações por follow-up: conversations whose lead wrote back after a follow-up step was sent
  in the period (runtime.followups.stats).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text

from runtime.access import Principal, UserError, require_manager
from runtime.channels.registry import provider_label
from runtime.followups.stats import recoveries

from .llm_prices import PRICES_AS_OF, estimated_cost_usd

DEFAULT_TIMEZONE = "America/Sao_Paulo"
MAX_DAYS = 366
# Stages (lower-case) that mean the lead was qualified (the agent's update_lead tool suggests
# "novo, qualificado, proposta, perdido"; owners may use English names).
QUALIFIED_STAGES = (
    "qualificado",
    "qualified",
    "proposta",
    "proposal",
    "negociacao",
    "negociação",
    "negotiation",
    "fechado",
    "ganho",
    "won",
    "cliente",
    "customer",
)
ROUTE_GROUPS = {
    "rules": "rules",
    "fixed": "rules",
    "learned": "learned",
    "llm": "llm",
    "extractive": "knowledge",
    "handoff": "handoff",
}
ROUTE_LABELS = {
    "rules": "Regras",
    "learned": "Respostas aprendidas",
    "llm": "LLM",
    "knowledge": "Conhecimento (sem LLM)",
    "handoff": "Transbordo",
    "other": "Outros",
}


def _as_date(value: Any, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise UserError(f"Data {name} inválida.")


def _agent_uuid(value: Any) -> uuid.UUID | None:
    if value in (None, "", "all", "todos"):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise UserError("Agente inválido.") from exc


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _statements(by_agent: bool) -> dict[str, str]:
    """The dashboard's SQL (parameters :ws, :tz, :s, :e, :agent, :qualified). Every query reads a
    covering index of (workspace_id, created_at) (db.models); messages and turns carry no agent, so
    the agent filter is a semi-join on the agent's conversations."""
    conv_agent = "AND c.agent_id = :agent" if by_agent else ""
    in_agent = (
        "AND {col} IN (SELECT c.id FROM conversation c WHERE c.workspace_id = :ws AND c.agent_id = :agent)"
        if by_agent
        else ""
    )
    lead_agent = (
        "AND EXISTS (SELECT 1 FROM conversation c WHERE c.contact_id = ct.id AND c.agent_id = :agent)"
        if by_agent
        else ""
    )
    return {
        "conversations": f"""
            SELECT (c.created_at AT TIME ZONE :tz)::date AS day, count(*)
            FROM conversation c
            WHERE c.workspace_id = :ws AND c.created_at >= :s AND c.created_at < :e {conv_agent}
            GROUP BY 1""",
        "leads": f"""
            SELECT (ct.created_at AT TIME ZONE :tz)::date AS day, count(*),
                   count(*) FILTER (WHERE lower(ct.stage) = ANY(:qualified) OR ct.lead_type = 'customer')
            FROM contact ct
            WHERE ct.workspace_id = :ws AND ct.created_at >= :s AND ct.created_at < :e
              AND ct.lead_type IN ('lead', 'customer') {lead_agent}
            GROUP BY 1""",
        # One pass over the turns (index-only): routes, and per conversation whether the agent
        # decided anything and whether it handed over; the conversations are counted in SQL.
        "turns": f"""
            WITH g AS (
                SELECT t.route, count(*) AS turns,
                       bool_or(t.route IS NOT NULL) AS decided, bool_or(t.route = 'handoff') AS handed_over,
                       GROUPING(t.conversation_id) = 0 AS per_conversation
                FROM conversation_turn t
                WHERE t.workspace_id = :ws AND t.created_at >= :s AND t.created_at < :e
                  {in_agent.format(col="t.conversation_id")}
                GROUP BY GROUPING SETS ((t.route), (t.conversation_id))
            )
            SELECT false, route, turns FROM g WHERE NOT per_conversation
            UNION ALL
            SELECT true, 'handoff', count(*) FILTER (WHERE handed_over) FROM g WHERE per_conversation
            UNION ALL
            SELECT true, NULL, count(*) FILTER (WHERE decided) FROM g WHERE per_conversation""",
        "usage": f"""
            SELECT u.model, sum(u.input_tokens), sum(u.output_tokens)
            FROM llm_usage u
            WHERE u.workspace_id = :ws AND u.created_at >= :s AND u.created_at < :e
              {in_agent.format(col="u.conversation_id")}
            GROUP BY 1""",
        # Counted in 15-minute bins first (cheap), then the bins are put in local days.
        "messages": f"""
            SELECT (b.bin AT TIME ZONE :tz)::date AS day, b.channel_id, sum(b.n), sum(b.n_in)
            FROM (
                SELECT date_bin('15 minutes', m.created_at, :s) AS bin, m.channel_id, count(*) AS n,
                       count(*) FILTER (WHERE m.direction = 'inbound') AS n_in
                FROM message m
                WHERE m.workspace_id = :ws AND m.created_at >= :s AND m.created_at < :e
                  {in_agent.format(col="m.conversation_id")}
                GROUP BY 1, 2
            ) b
            GROUP BY 1, 2""",
        # Per conversation begun in the period: the lead's first message, then the first outbound
        # message after it (two index probes on message (conversation_id, direction, created_at)).
        "first_response": f"""
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.at - i.at)), count(o.at)
            FROM conversation c
            CROSS JOIN LATERAL (
                SELECT min(m.created_at) AS at FROM message m
                WHERE m.conversation_id = c.id AND m.direction = 'inbound') i
            CROSS JOIN LATERAL (
                SELECT min(m.created_at) AS at FROM message m
                WHERE m.conversation_id = c.id AND m.direction = 'outbound' AND m.created_at > i.at) o
            WHERE c.workspace_id = :ws AND c.created_at >= :s AND c.created_at < :e {conv_agent}
              AND o.at IS NOT NULL""",
    }


# The heaviest statements first: they run on QUERY_CONNECTIONS connections at once.
QUERY_ORDER = ("first_response", "messages", "turns", "usage", "conversations", "leads")
QUERY_CONNECTIONS = 3


def _run_concurrently(principal: Principal, statements: dict[str, str], params: dict) -> dict[str, list]:
    """The independent aggregates on a few connections at once (each its own RLS session): the
    period's wall time is about the slowest query, not their sum."""

    def run(name: str) -> tuple[str, list]:
        with principal.session() as s:
            return name, s.execute(text(statements[name]), params).all()

    with ThreadPoolExecutor(max_workers=QUERY_CONNECTIONS) as pool:
        return dict(pool.map(run, QUERY_ORDER))


def dashboard(principal: Principal, start: Any, end: Any, agent_id: Any = None) -> dict[str, Any]:
    """KPIs and daily series for the days start..end (inclusive, workspace time zone)."""
    require_manager(principal)
    first, last = _as_date(start, "inicial"), _as_date(end, "final")
    if last < first:
        raise UserError("A data final deve ser igual ou posterior à data inicial.")
    if (last - first).days + 1 > MAX_DAYS:
        raise UserError(f"Escolha um período de até {MAX_DAYS} dias.")
    agent = _agent_uuid(agent_id)
    ws = principal.workspace_id
    with principal.session() as s:
        tz_name = s.execute(text("SELECT timezone FROM workspace WHERE id = :ws"), {"ws": ws}).scalar()
        zone = _zone(tz_name)
        tz = zone.key
        if agent is not None:
            found = s.execute(text("SELECT 1 FROM agent WHERE id = :a AND workspace_id = :ws"), {"a": agent, "ws": ws})
            if found.first() is None:
                raise UserError("Agente não encontrado.")
        p = {
            "ws": ws,
            "tz": tz,
            "s": datetime.combine(first, time.min, zone),
            "e": datetime.combine(last + timedelta(days=1), time.min, zone),
            "agent": agent,
            "qualified": list(QUALIFIED_STAGES),
        }
        channels = {
            row[0]: (row[1], row[2])
            for row in s.execute(text("SELECT id, name, provider FROM channel WHERE workspace_id = :ws"), p)
        }
        followups = recoveries(s, p["s"], p["e"], agent)
    rows = _run_concurrently(principal, _statements(agent is not None), p)
    conversations, leads, turns, usage = rows["conversations"], rows["leads"], rows["turns"], rows["usage"]
    messages, first_response = rows["messages"], rows["first_response"][0]

    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    index = {d: i for i, d in enumerate(days)}

    def series(rows, col: int = 1) -> list[int]:
        out = [0] * len(days)
        for row in rows:
            if row[0] in index:
                out[index[row[0]]] += int(row[col])
        return out

    conv_series = series(conversations)
    lead_series = series(leads)
    qualified = sum(int(r[2]) for r in leads)
    new_leads = sum(lead_series)

    routes = dict.fromkeys(ROUTE_LABELS, 0)
    by_model: dict[str, dict[str, Any]] = {}
    turns_total = 0
    conversations_decided = handoff_conversations = 0
    for conversations_row, route, count in turns:
        if conversations_row:
            if route == "handoff":
                handoff_conversations = int(count)
            else:
                conversations_decided = int(count)
            continue
        turns_total += int(count)
        if route is not None:
            routes[ROUTE_GROUPS.get(route, "other")] += int(count)
    for model, tin, tout in usage:
        entry = by_model.setdefault(model or "", {"model": model or "", "input": 0, "output": 0})
        entry["input"] += int(tin)
        entry["output"] += int(tout)
    routed = sum(routes.values())
    cost = 0.0
    unpriced = 0
    for entry in by_model.values():
        # priced as of the period's last day (a period across a price change is an estimate anyway)
        entry["cost_usd"] = estimated_cost_usd(entry["model"], entry["input"], entry["output"], last)
        if entry["cost_usd"] is None:
            unpriced += entry["input"] + entry["output"]
        else:
            cost += entry["cost_usd"]
            entry["cost_usd"] = round(entry["cost_usd"], 6)

    per_channel: dict[Any, dict[str, Any]] = {}
    inbound = 0
    for day, channel_id, count, count_in in messages:
        name, provider = channels.get(channel_id, ("Canal removido", None))
        entry = per_channel.setdefault(
            channel_id,
            {
                "channel_id": str(channel_id) if channel_id else None,
                "name": name,
                "provider": provider_label(provider),
                "total": 0,
                "series": [0] * len(days),
            },
        )
        entry["total"] += int(count)
        if day in index:
            entry["series"][index[day]] += int(count)
        inbound += int(count_in)
    message_total = sum(e["total"] for e in per_channel.values())
    median_seconds = float(first_response[0]) if first_response[0] is not None else None

    return {
        "range": {"start": first.isoformat(), "end": last.isoformat(), "days": len(days), "timezone": tz},
        "agent_id": str(agent) if agent else None,
        "kpis": {
            "conversations": sum(conv_series),
            "new_leads": new_leads,
            "qualified_leads": qualified,
            "qualification_rate": _rate(qualified, new_leads),
            "conversations_decided": conversations_decided,
            "handoff_conversations": handoff_conversations,
            "handoff_rate": _rate(handoff_conversations, conversations_decided),
            "turns": turns_total,
            "routed_turns": routed,
            "median_first_response_seconds": round(median_seconds, 1) if median_seconds is not None else None,
            "first_responses": int(first_response[1]),
            "messages": message_total,
            "messages_inbound": inbound,
            "messages_outbound": message_total - inbound,
            "tokens_input": sum(e["input"] for e in by_model.values()),
            "tokens_output": sum(e["output"] for e in by_model.values()),
            "estimated_cost_usd": round(cost, 6),
            "unpriced_tokens": unpriced,
            "followup_recoveries": followups["recovered"],
            "followup_sent": followups["sent"],
            "followup_recovery_rate": followups["recovery_rate"],
        },
        "routes": [
            {"route": key, "label": label, "turns": routes[key], "share": _rate(routes[key], routed)}
            for key, label in ROUTE_LABELS.items()
        ],
        "series": {
            "days": [d.isoformat() for d in days],
            "conversations": conv_series,
            "leads": lead_series,
        },
        "channels": sorted(per_channel.values(), key=lambda e: -e["total"]),
        "tokens_by_model": sorted(by_model.values(), key=lambda e: -(e["input"] + e["output"])),
        "prices_as_of": PRICES_AS_OF,
    }


def dashboard_context(principal: Principal) -> dict[str, Any]:
    """The agent filter's options and the "Primeiros passos" checklist of a new workspace."""
    require_manager(principal)
    with principal.session() as s:
        row = s.execute(
            text("""
                SELECT
                  (SELECT count(*) FROM channel WHERE is_active),
                  (SELECT count(*) FROM agent),
                  (SELECT count(*) FROM knowledge_document WHERE source_type <> 'learned'),
                  (SELECT EXISTS (SELECT 1 FROM conversation))
            """)
        ).one()
        agents = s.execute(text("SELECT id, name FROM agent ORDER BY lower(name), created_at")).all()
    steps = [
        {"key": "channel", "label": "Conectar um canal de WhatsApp", "href": "/canais", "done": row[0] > 0},
        {"key": "agent", "label": "Criar o seu agente de vendas", "href": "/agentes", "done": row[1] > 0},
        {"key": "knowledge", "label": "Enviar o conhecimento da empresa", "href": "/conhecimento", "done": row[2] > 0},
        {"key": "conversation", "label": "Receber a primeira conversa", "href": "/inbox", "done": bool(row[3])},
    ]
    return {
        "agents": [{"id": str(a[0]), "name": a[1]} for a in agents],
        "steps": steps,
        "steps_done": sum(1 for st in steps if st["done"]),
        "is_new": not all(st["done"] for st in steps),
    }
