"""`python -m runtime bench dashboard`: the Painel's query time over a large workspace.

Seeds a scratch workspace inside PostgreSQL (generate_series, as the schema owner): contacts and
conversations spread over the last `days` days, `messages` messages (20 per conversation,
alternating lead / agent, about a minute apart), one turn per lead message with a route mix and
token counts like a real agent's. Then times `runtime.panel.dashboard.dashboard` (through the
app role and row-level security, as the panel calls it) for the last 7, 30 and 90 days and for one
agent over 30 days: the first call and p50/p95 of the following ones. The workspace is removed at
the end unless --keep.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import make_url, text

from db.engine import database_urls
from db.models import Role
from db.tenancy import tenant_session
from runtime.access import Principal
from runtime.scratch import drop_workspace, scratch_workspace

from .dashboard import DEFAULT_TIMEZONE, dashboard

MESSAGES_PER_CONVERSATION = 20


def _seed(workspace_id: uuid.UUID, messages: int, days: int) -> dict:
    conversations = max(1, messages // MESSAGES_PER_CONVERSATION)
    admin = make_url(database_urls().admin).set(drivername="postgresql").render_as_string(hide_password=False)
    agents = [uuid.uuid4(), uuid.uuid4()]
    channels = [uuid.uuid4(), uuid.uuid4(), uuid.uuid4()]
    params = {"ws": workspace_id, "n": conversations, "days": days, "per": MESSAGES_PER_CONVERSATION}
    t0 = time.perf_counter()
    with psycopg.connect(admin, autocommit=True) as c:
        with c.transaction():
            for i, agent in enumerate(agents):
                c.execute(
                    "INSERT INTO agent (id, workspace_id, name, mode, persona) VALUES (%s, %s, %s, 'pilot', '')",
                    (agent, workspace_id, f"Agente {i + 1}"),
                )
            for i, (channel, provider) in enumerate(zip(channels, ("cloud_api", "evolution", "widget"), strict=True)):
                c.execute(
                    "INSERT INTO channel (id, workspace_id, agent_id, provider, name, is_active) "
                    "VALUES (%s, %s, %s, %s, %s, true)",
                    (channel, workspace_id, agents[i % 2], provider, f"Canal {i + 1}"),
                )
            # Conversation g starts at a random moment of the period, with its own lead.
            c.execute(
                """
                CREATE TEMP TABLE bench_conv ON COMMIT DROP AS
                SELECT g, gen_random_uuid() AS id, gen_random_uuid() AS contact_id,
                       now() - make_interval(days => %(days)s) + random() * (make_interval(days => %(days)s)
                           - make_interval(mins => %(per)s * 2)) AS t0
                FROM generate_series(0, %(n)s - 1) AS g
                """,
                params,
            )
            c.execute(
                """
                INSERT INTO contact (id, workspace_id, phone, name, lead_type, stage, score, created_at)
                SELECT contact_id, %(ws)s, '+55119' || lpad(g::text, 8, '0'), 'Lead ' || g,
                       CASE WHEN g %% 20 = 0 THEN 'customer' ELSE 'lead' END,
                       CASE WHEN g %% 4 = 0 THEN 'qualificado' WHEN g %% 9 = 0 THEN 'perdido' ELSE 'new' END,
                       0, t0
                FROM bench_conv
                """,
                params,
            )
            c.execute(
                """
                INSERT INTO conversation (id, workspace_id, contact_id, channel_id, agent_id, status,
                                          last_message_at, last_inbound_at, created_at)
                SELECT b.id, %(ws)s, b.contact_id, (%(channels)s::uuid[])[1 + g %% 3],
                       (%(agents)s::uuid[])[1 + (g %% 3) %% 2],
                       CASE WHEN g %% 5 = 0 THEN 'open' ELSE 'closed' END, b.t0, b.t0, b.t0
                FROM bench_conv b
                """,
                {**params, "channels": channels, "agents": agents},
            )
            c.execute(
                """
                INSERT INTO message (id, workspace_id, conversation_id, channel_id, direction, author, kind,
                                     text, status, created_at)
                SELECT gen_random_uuid(), %(ws)s, b.id, (%(channels)s::uuid[])[1 + g %% 3],
                       CASE WHEN k %% 2 = 0 THEN 'inbound' ELSE 'outbound' END,
                       CASE WHEN k %% 2 = 0 THEN 'lead' ELSE 'agent' END,
                       'text', 'Olá, quanto custa?',
                       CASE WHEN k %% 2 = 0 THEN 'received' ELSE 'delivered' END,
                       b.t0 + make_interval(secs => k * 60 + (k %% 2) * (5 + random() * 40))
                FROM bench_conv b, generate_series(0, %(per)s - 1) AS k
                """,
                {**params, "channels": channels},
            )
            c.execute(
                """
                INSERT INTO conversation_turn (id, workspace_id, conversation_id, trigger_message_id, outcome,
                                               route, details, created_at)
                SELECT gen_random_uuid(), workspace_id, conversation_id, id, 'replied', route,
                       CASE WHEN route IN ('llm', 'handoff') THEN jsonb_build_object(
                           'route', route,
                           'tokens', jsonb_build_object('input', 900 + (r * 2000)::int, 'output', 40 + (r * 200)::int),
                           'model', CASE WHEN r < 0.6 THEN 'gemini:gemini-2.5-flash' ELSE 'openai:gpt-4o-mini' END)
                       ELSE jsonb_build_object('route', route) END,
                       created_at
                FROM (
                    SELECT m.*,
                           CASE WHEN r < 0.30 THEN 'rules' WHEN r < 0.40 THEN 'learned' WHEN r < 0.85 THEN 'llm'
                                WHEN r < 0.90 THEN 'extractive' ELSE 'handoff' END AS route
                    FROM (SELECT *, random() AS r FROM message WHERE workspace_id = %(ws)s AND direction = 'inbound')
                         AS m
                ) AS t
                """,
                params,
            )
            c.execute(
                """
                INSERT INTO llm_usage (turn_id, workspace_id, conversation_id, model, input_tokens, output_tokens,
                                       created_at)
                SELECT id, workspace_id, conversation_id, details->>'model', (details->'tokens'->>'input')::int,
                       (details->'tokens'->>'output')::int, created_at
                FROM conversation_turn WHERE workspace_id = %(ws)s AND details ? 'tokens'
                """,
                params,
            )
        load_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        for table in ("message", "conversation_turn", "llm_usage", "conversation", "contact"):
            c.execute(f"VACUUM ANALYZE {table}")
        vacuum_s = time.perf_counter() - t1
        turns = c.execute("SELECT count(*) FROM conversation_turn WHERE workspace_id = %s", (workspace_id,)).fetchone()[
            0
        ]
    return {
        "messages": conversations * MESSAGES_PER_CONVERSATION,
        "conversations": conversations,
        "contacts": conversations,
        "turns": turns,
        "days": days,
        "load_s": round(load_s, 1),
        "vacuum_analyze_s": round(vacuum_s, 1),
        "agents": agents,
    }


def _describe(workspace_id: uuid.UUID) -> dict:
    with tenant_session(workspace_id) as s:
        row = s.execute(
            text(
                "SELECT (SELECT count(*) FROM message), (SELECT count(*) FROM conversation), "
                "(SELECT count(*) FROM conversation_turn), "
                "(SELECT extract(day FROM max(created_at) - min(created_at)) + 1 FROM message)"
            )
        ).one()
    return {
        "messages": row[0],
        "conversations": row[1],
        "contacts": None,
        "turns": row[2],
        "days": int(row[3] or 0),
        "load_s": "-",
        "vacuum_analyze_s": "-",
    }


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _drop(workspace_id: uuid.UUID) -> None:
    """Bulk tables first, as the owner, in one statement each: a cascade from the workspace row
    would fire the foreign-key triggers once per message and turn."""
    admin = make_url(database_urls().admin).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as c:
        for table in ("llm_usage", "conversation_turn", "message", "conversation", "contact"):
            c.execute(f"DELETE FROM {table} WHERE workspace_id = %s", (workspace_id,))
    drop_workspace(workspace_id)


def bench_dashboard(
    messages: int = 1_000_000,
    days: int = 30,
    runs: int = 7,
    keep: bool = False,
    on_result: Callable[[dict], None] | None = None,
    workspace: uuid.UUID | None = None,
) -> dict:
    """Seed, time, and (unless keep) remove the workspace; `on_result` sees the figures before the
    removal (which takes a while at 1M messages). With `workspace`, time that workspace's data as
    it is (a kept earlier run): nothing is seeded or removed."""
    if workspace is not None:
        keep = True
    ws = workspace or scratch_workspace("bench-dashboard")
    try:
        if workspace is None:
            seeded = _seed(ws, messages, days)
            agents = seeded.pop("agents")
        else:
            seeded = _describe(ws)
            with tenant_session(ws) as s:
                agents = [row[0] for row in s.execute(text("SELECT id FROM agent ORDER BY name"))]
            if not agents:
                raise ValueError("the workspace has no agent to filter by")
        with tenant_session(ws) as s:
            owner = s.execute(text("SELECT user_id FROM membership WHERE role = 'owner' LIMIT 1")).scalar()
        principal = Principal(owner, ws, Role.owner)
        today = datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()
        cases = [
            ("7 dias", 7, None),
            ("30 dias", 30, None),
            ("90 dias", 90, None),
            ("30 dias, 1 agente", 30, str(agents[0])),
        ]
        rows = []
        for label, span, agent in cases:
            start = today - timedelta(days=span - 1)
            t = time.perf_counter()
            result = dashboard(principal, start, today, agent)
            first = time.perf_counter() - t
            samples = []
            for _ in range(runs):
                t = time.perf_counter()
                dashboard(principal, start, today, agent)
                samples.append(time.perf_counter() - t)
            rows.append(
                {
                    "case": label,
                    "messages_in_range": result["kpis"]["messages"],
                    "first_ms": round(first * 1000, 1),
                    "p50_ms": round(statistics.median(samples) * 1000, 1),
                    "p95_ms": round(_percentile(samples, 0.95) * 1000, 1),
                    "runs": runs,
                }
            )
        report = {"seeded": seeded, "results": rows, "workspace_id": str(ws) if keep else None}
        if on_result is not None:
            on_result(report)
        return report
    finally:
        if not keep:
            _drop(ws)


def format_table(report: dict) -> str:
    seeded = report["seeded"]
    lines = [
        f"seeded: {seeded['messages']:,} messages, {seeded['conversations']:,} conversations, "
        f"{seeded['turns']:,} turns over {seeded['days']} days "
        f"(load {seeded['load_s']} s, vacuum/analyze {seeded['vacuum_analyze_s']} s)",
        "",
        f"{'case':<20} {'messages':>10} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'runs':>5}",
    ]
    for r in report["results"]:
        lines.append(
            f"{r['case']:<20} {r['messages_in_range']:>10,} {r['first_ms']:>9} {r['p50_ms']:>8} "
            f"{r['p95_ms']:>8} {r['runs']:>5}"
        )
    if report.get("workspace_id"):
        lines.append(f"\nkept workspace {report['workspace_id']}")
    return "\n".join(lines)
