"""Painel: KPIs over a small hand-made dataset whose expected numbers are counted by hand below,
the agent filter, the workspace time zone, tenant isolation and the getting-started checklist."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from db.models import (
    Agent,
    Author,
    Channel,
    Contact,
    Conversation,
    ConversationTurn,
    Direction,
    Followup,
    KnowledgeDocument,
    Message,
    Provider,
    Role,
)
from db.tenancy import tenant_session
from runtime.access import Forbidden, Principal, UserError
from runtime.panel.dashboard import dashboard, dashboard_context
from runtime.panel.llm_prices import estimated_cost_usd, price_for
from runtime.pipeline.turns import record_usage

SP = ZoneInfo("America/Sao_Paulo")
START, END = date(2026, 11, 10), date(2026, 11, 12)


def at(day: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    """A local (São Paulo) time in November 2026."""
    return datetime(2026, 11, day, hh, mm, ss, tzinfo=SP)


def seed_sample(workspace_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """Two agents, two channels, five conversations (one started the day before the range, one
    at 23:30 local = the next day in UTC), their messages and turns."""
    with tenant_session(workspace_id) as s:
        a = Agent(workspace_id=workspace_id, name="Agente A")
        b = Agent(workspace_id=workspace_id, name="Agente B")
        s.add_all([a, b])
        s.flush()
        x = Channel(workspace_id=workspace_id, agent_id=a.id, provider=Provider.cloud_api, name="Loja X")
        y = Channel(workspace_id=workspace_id, agent_id=b.id, provider=Provider.evolution, name="Loja Y")
        s.add_all([x, y])
        s.flush()

        def contact(phone: str, created: datetime, lead_type: str = "lead", stage: str = "new") -> Contact:
            c = Contact(workspace_id=workspace_id, phone=phone, lead_type=lead_type, stage=stage, created_at=created)
            s.add(c)
            s.flush()
            return c

        l1 = contact("5511900000001", at(10, 10), stage="Qualificado")
        l2 = contact("5511900000002", at(11, 23, 30))
        l3 = contact("5511900000003", at(12, 8), lead_type="customer")
        l4 = contact("5511900000004", at(9, 23), stage="proposta")  # before the range
        s1 = contact("5511900000005", at(12, 12), lead_type="supplier", stage="qualificado")

        def conversation(ct: Contact, ch: Channel, agent: Agent, created: datetime) -> Conversation:
            c = Conversation(
                workspace_id=workspace_id, contact_id=ct.id, channel_id=ch.id, agent_id=agent.id, created_at=created
            )
            s.add(c)
            s.flush()
            return c

        c1 = conversation(l1, x, a, at(10, 10))
        c2 = conversation(l2, x, a, at(11, 23, 30))
        c3 = conversation(l3, y, b, at(12, 8))
        c4 = conversation(l4, y, b, at(9, 23))
        c5 = conversation(s1, x, a, at(12, 12))

        def msg(c: Conversation, ch: Channel, inbound: bool, when: datetime) -> Message:
            m = Message(
                workspace_id=workspace_id,
                conversation_id=c.id,
                channel_id=ch.id,
                direction=Direction.inbound if inbound else Direction.outbound,
                author=Author.lead if inbound else Author.agent,
                text="oi",
                created_at=when,
            )
            s.add(m)
            s.flush()
            return m

        m1 = msg(c1, x, True, at(10, 10))
        msg(c1, x, False, at(10, 10, 0, 30))  # first response: 30 s
        m1b = msg(c1, x, True, at(10, 10, 5))
        msg(c1, x, False, at(10, 10, 6))
        m2 = msg(c2, x, True, at(11, 23, 30))
        msg(c2, x, False, at(11, 23, 32))  # 120 s
        msg(c3, y, False, at(12, 8))  # the business wrote first: no "first response"
        m3 = msg(c3, y, True, at(12, 8, 10))
        msg(c3, y, False, at(12, 8, 11))
        m4 = msg(c4, y, True, at(10, 9))
        msg(c4, y, False, at(10, 9, 1))
        m5 = msg(c5, x, True, at(12, 12))
        msg(c5, x, False, at(12, 12, 10))  # 600 s

        def turn(c: Conversation, trigger: Message, route: str | None, when: datetime, **details) -> None:
            t = ConversationTurn(
                workspace_id=workspace_id,
                conversation_id=c.id,
                trigger_message_id=trigger.id,
                outcome="replied" if route else "skipped: channel inactive",
                route=route,
                details=details,
                created_at=when,
            )
            s.add(t)
            s.flush()
            record_usage(s, t.id, details)  # as the pipeline does when it finishes a turn

        turn(c1, m1, "rules", at(10, 10))
        turn(c1, m1b, "llm", at(10, 10, 5), tokens={"input": 1000, "output": 200}, model="gemini:gemini-2.5-flash")
        turn(c2, m2, "handoff", at(11, 23, 31), tokens={"input": 500, "output": 0}, model="openai:gpt-4o-mini")
        turn(c3, m3, "learned", at(12, 8, 10))
        turn(c4, m4, "llm", at(10, 9), tokens={"input": 100, "output": 50}, model="openai:my-own-model")
        turn(c5, m5, None, at(12, 12))

        def followup(conv, agent, step: int, status: str, sent: datetime | None, replied: datetime | None = None):
            s.add(
                Followup(
                    workspace_id=workspace_id,
                    conversation_id=conv.id,
                    agent_id=agent.id,
                    step=step,
                    silence_since=at(9, 8),
                    due_at=sent or at(12, 20),
                    status=status,
                    idempotency_key=f"{conv.id}:{step}:{status}",
                    sent_at=sent,
                    replied_at=replied,
                    created_at=sent or at(12, 19),
                )
            )

        # Agent A: two steps sent in the range, c1's lead wrote back after one; one cancelled.
        # Agent B: one step sent with no answer, and one sent before the range (not counted).
        followup(c1, a, 0, "sent", at(10, 15), replied=at(10, 16))
        followup(c4, a, 0, "sent", at(11, 9))
        followup(c4, a, 1, "cancelled", None)
        followup(c2, b, 0, "sent", at(12, 9))
        followup(c5, b, 0, "sent", at(9, 9), replied=at(9, 10))
        s.commit()
        return {"agent_a": a.id, "agent_b": b.id, "channel_x": x.id, "channel_y": y.id}


@pytest.fixture
def owner(workspace):
    ws, _, _ = workspace
    return Principal(ws.user_id, ws.workspace_id, Role.owner)


def _routes(result: dict) -> dict[str, int]:
    return {r["route"]: r["turns"] for r in result["routes"]}


def test_kpis_match_hand_counts(owner):
    seed_sample(owner.workspace_id)
    r = dashboard(owner, START, END)
    k = r["kpis"]
    assert r["range"] == {"start": "2026-11-10", "end": "2026-11-12", "days": 3, "timezone": "America/Sao_Paulo"}
    # c1 (10th), c2 (23:30 on the 11th local = the 12th in UTC), c3 and c5 (12th); c4 began on the 9th.
    assert k["conversations"] == 4
    assert r["series"]["days"] == ["2026-11-10", "2026-11-11", "2026-11-12"]
    assert r["series"]["conversations"] == [1, 1, 2]
    # Leads: l1, l2, l3 (customer); l4 is older, s1 a supplier. Qualified: l1 (stage), l3 (customer).
    assert k["new_leads"] == 3
    assert r["series"]["leads"] == [1, 1, 1]
    assert k["qualified_leads"] == 2
    assert k["qualification_rate"] == round(2 / 3, 4)
    # Turns: 6 in the range (c4's turn on the 10th counts), 5 with a route.
    assert k["turns"] == 6
    assert k["routed_turns"] == 5
    assert _routes(r) == {"rules": 1, "learned": 1, "llm": 2, "knowledge": 0, "handoff": 1, "other": 0}
    assert next(x for x in r["routes"] if x["route"] == "llm")["share"] == 0.4
    # Conversations the agent decided on: c1, c2, c3, c4; handed over: c2.
    assert k["conversations_decided"] == 4
    assert k["handoff_conversations"] == 1
    assert k["handoff_rate"] == 0.25
    # First responses in conversations begun in the range: 30, 120, 60, 600 s (not c4's).
    assert k["first_responses"] == 4
    assert k["median_first_response_seconds"] == 90.0
    # Messages: 13, 6 inbound; channel X has c1+c2+c5 = 8, channel Y c3+c4 = 5.
    assert k["messages"] == 13
    assert k["messages_inbound"] == 6
    assert k["messages_outbound"] == 7
    by_name = {c["name"]: c for c in r["channels"]}
    assert by_name["Loja X"]["total"] == 8
    assert by_name["Loja X"]["provider"] == "Cloud API"
    assert by_name["Loja X"]["series"] == [4, 2, 2]
    assert by_name["Loja Y"]["series"] == [2, 0, 3]
    # Tokens and cost: gemini-2.5-flash 1000/200 at $0.30/$2.50 per 1M, gpt-4o-mini 500/0 at $0.15;
    # the unknown model's 150 tokens are counted but not priced.
    assert k["tokens_input"] == 1600
    assert k["tokens_output"] == 250
    expected = (1000 * 0.30 + 200 * 2.50) / 1e6 + (500 * 0.15) / 1e6
    assert k["estimated_cost_usd"] == pytest.approx(expected, abs=1e-9)
    assert k["unpriced_tokens"] == 150
    # Follow-ups: 3 steps sent in the range, one conversation's lead wrote back after its step.
    assert (k["followup_sent"], k["followup_recoveries"]) == (3, 1)
    assert k["followup_recovery_rate"] == pytest.approx(1 / 3, abs=1e-4)


def test_agent_filter(owner):
    ids = seed_sample(owner.workspace_id)
    a = dashboard(owner, START, END, str(ids["agent_a"]))
    k = a["kpis"]
    assert a["agent_id"] == str(ids["agent_a"])
    assert k["conversations"] == 3  # c1, c2, c5
    assert k["new_leads"] == 2  # l1, l2 (s1 is a supplier)
    assert k["qualified_leads"] == 1
    assert k["turns"] == 4
    assert _routes(a) == {"rules": 1, "learned": 0, "llm": 1, "knowledge": 0, "handoff": 1, "other": 0}
    assert k["handoff_rate"] == 0.5  # c2 of c1, c2
    assert k["messages"] == 8
    assert k["median_first_response_seconds"] == 120.0
    assert k["tokens_input"] == 1500
    assert k["unpriced_tokens"] == 0
    assert (k["followup_sent"], k["followup_recoveries"]) == (2, 1)

    b = dashboard(owner, START, END, ids["agent_b"])["kpis"]
    assert b["conversations"] == 1  # c3
    assert b["new_leads"] == 1
    assert b["messages"] == 5
    assert b["first_responses"] == 1
    assert b["median_first_response_seconds"] == 60.0  # from the lead's message, not the business's
    assert b["handoff_rate"] == 0.0
    assert b["unpriced_tokens"] == 150
    assert (b["followup_sent"], b["followup_recoveries"]) == (1, 0)  # c5's step was before the range


def test_range_and_time_zone_edges(owner):
    seed_sample(owner.workspace_id)
    # Only the 11th (local): c2 began at 23:30 local, which is already the 12th in UTC.
    day = dashboard(owner, "2026-11-11", "2026-11-11")
    assert day["kpis"]["conversations"] == 1
    assert day["kpis"]["messages"] == 2
    # The 9th holds c4 (23:00 local = the 10th in UTC) and l4.
    ninth = dashboard(owner, date(2026, 11, 9), date(2026, 11, 9))["kpis"]
    assert ninth["conversations"] == 1
    assert ninth["new_leads"] == 1
    assert ninth["qualified_leads"] == 1
    empty = dashboard(owner, "2026-10-01", "2026-10-31")
    assert empty["kpis"]["conversations"] == 0
    assert empty["kpis"]["qualification_rate"] is None
    assert empty["kpis"]["median_first_response_seconds"] is None
    assert len(empty["series"]["days"]) == 31
    assert empty["channels"] == []


def test_bad_input_is_a_user_error(owner):
    with pytest.raises(UserError):
        dashboard(owner, "2026-11-12", "2026-11-10")
    with pytest.raises(UserError):
        dashboard(owner, "ontem", "2026-11-10")
    with pytest.raises(UserError):
        dashboard(owner, "2024-01-01", "2026-11-10")
    with pytest.raises(UserError):
        dashboard(owner, START, END, "not-a-uuid")
    with pytest.raises(UserError, match="Agente não encontrado"):
        dashboard(owner, START, END, uuid.uuid4())


def test_tenant_isolation(owner, make_workspace):
    ids = seed_sample(owner.workspace_id)
    other_ws = make_workspace("Outra")
    other = Principal(other_ws.user_id, other_ws.workspace_id, Role.owner)
    seed_sample(other.workspace_id)  # the same data again in another workspace
    k = dashboard(owner, START, END)["kpis"]
    assert k["conversations"] == 4
    assert k["messages"] == 13
    # The other owner can't filter by this workspace's agent nor see its numbers.
    with pytest.raises(UserError, match="Agente não encontrado"):
        dashboard(other, START, END, ids["agent_a"])
    assert dashboard(other, START, END)["kpis"]["messages"] == 13


def test_sellers_are_refused(workspace):
    ws, _, _ = workspace
    seller = Principal(ws.user_id, ws.workspace_id, Role.seller)
    with pytest.raises(Forbidden):
        dashboard(seller, START, END)
    with pytest.raises(Forbidden):
        dashboard_context(seller)


def test_getting_started_checklist(owner):
    fresh = dashboard_context(owner)
    assert fresh["is_new"] is True
    assert fresh["steps_done"] == 0
    assert [st["href"] for st in fresh["steps"]] == ["/canais", "/agentes", "/conhecimento", "/inbox"]
    assert fresh["agents"] == []
    seed_sample(owner.workspace_id)
    ctx = dashboard_context(owner)
    assert {st["key"]: st["done"] for st in ctx["steps"]} == {
        "channel": True,
        "agent": True,
        "knowledge": False,
        "conversation": True,
    }
    assert [a["name"] for a in ctx["agents"]] == ["Agente A", "Agente B"]
    with tenant_session(owner.workspace_id) as s:
        s.add(
            KnowledgeDocument(
                workspace_id=owner.workspace_id, filename="precos.pdf", content_hash="h" * 64, status="ready"
            )
        )
        s.commit()
    done = dashboard_context(owner)
    assert done["is_new"] is False
    assert done["steps_done"] == 4


def test_price_table():
    assert price_for("gemini:gemini-2.5-flash").input_per_million == 0.30
    assert price_for("models/gemini-2.5-flash-lite").output_per_million == 0.40
    assert price_for("openai:gpt-4o-mini-2024-07-18").input_per_million == 0.15  # the family's price
    assert price_for("gpt-4o-2024-08-06").input_per_million == 2.50
    assert price_for("ollama:llama3.1:8b").input_per_million == 0.0
    assert price_for("openai:qwen2.5-7b") is None
    assert price_for(None) is None
    assert estimated_cost_usd("gpt-4.1-mini", 1_000_000, 1_000_000) == pytest.approx(2.0)
    assert price_for("openai:gpt-5.2").output_per_million == 14.00  # not gpt-5's price
    assert price_for("gpt-5-mini-2025-08-07").input_per_million == 0.25
    # Gemini 3.x: the lite model is not priced as its non-lite prefix
    assert price_for("gemini:gemini-3.5-flash-lite").input_per_million == 0.30
    assert price_for("gemini-3.5-flash").output_per_million == 9.00
    assert price_for("gemini-3.1-pro-preview").output_per_million == 12.00
    # 3.8 Flash doubles on 2027-01-01 (introductory price until then)
    assert estimated_cost_usd("gemini-3.8-flash", 1_000_000, 1_000_000, date(2026, 12, 31)) == pytest.approx(4.50)
    assert estimated_cost_usd("gemini-3.8-flash", 1_000_000, 1_000_000, date(2027, 1, 1)) == pytest.approx(9.00)


def test_model_label():
    """Turns record the configured model (tests/agent/test_agent_flows.py checks real turns)."""
    from runtime.agent.llm import model_label
    from runtime.agent.settings import AgentSettings

    assert model_label(AgentSettings()) == "gemini:gemini-2.5-flash"
    cfg = AgentSettings.model_validate({"llm": {"provider": "openai", "model": "gpt-4.1-mini"}})
    assert model_label(cfg) == "openai:gpt-4.1-mini"


def test_bench_seeds_times_and_removes_its_workspace(pg):
    """`python -m runtime bench dashboard` at a small size (the README figure is the 1M run)."""
    from runtime.panel.dashboard_bench import bench_dashboard, format_table

    seen: list[dict] = []
    report = bench_dashboard(messages=2000, days=30, runs=2, on_result=seen.append)
    assert seen == [report]
    assert report["seeded"]["messages"] == 2000
    assert report["seeded"]["turns"] == 1000  # one per lead message
    cases = {r["case"]: r for r in report["results"]}
    assert set(cases) == {"7 dias", "30 dias", "90 dias", "30 dias, 1 agente"}
    assert cases["90 dias"]["messages_in_range"] == 2000  # all of it, spread over the last 30 days
    assert 0 < cases["30 dias, 1 agente"]["messages_in_range"] < cases["30 dias"]["messages_in_range"]
    assert all(r["p50_ms"] > 0 and r["p95_ms"] >= r["p50_ms"] for r in report["results"])
    assert "30 dias" in format_table(report)
    with tenant_session(None) as s:
        names = s.execute(text("SELECT count(*) FROM workspace WHERE name LIKE 'bench-dashboard-%'")).scalar()
    assert names == 0
