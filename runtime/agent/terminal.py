"""`python -m runtime chat --agent A`: talk to an agent in the terminal, as a lead would. Shows the
route, intent, sources, tool calls and tokens of each turn. Nothing is sent to WhatsApp and no
lead is created: the agent's effects are printed, not applied."""

from __future__ import annotations

import sys
import uuid
from typing import TextIO

from sqlalchemy import text

from db.engine import admin_engine
from db.models import Agent
from db.tenancy import tenant_session

from .graph import forget_thread
from .settings import AgentSettings
from .simulate import SimulatedTurn, simulate_turn


class ChatError(Exception):
    pass


def find_agent(ref: str) -> tuple[uuid.UUID, uuid.UUID]:
    """(workspace_id, agent_id) for an agent id. An operator tool: it looks across workspaces as the
    schema owner, then works inside the agent's workspace under RLS."""
    try:
        agent_id = uuid.UUID(ref)
    except ValueError as exc:
        raise ChatError(f"--agent must be an agent id (uuid), not {ref!r}") from exc
    with admin_engine().connect() as c:
        ws = c.execute(text("SELECT workspace_id FROM agent WHERE id = :a"), {"a": agent_id}).scalar()
    if ws is None:
        raise ChatError(f"agent {agent_id} not found")
    return ws, agent_id


def chat(agent_ref: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    workspace_id, agent_id = find_agent(agent_ref)
    with tenant_session(workspace_id) as s:
        agent = s.get(Agent, agent_id)
        settings = AgentSettings.model_validate(agent.config or {})
        name = agent.name
    thread = uuid.uuid4()
    fields: dict = {}
    print(f"Conversando com {name} ({settings.llm.provider}). /reiniciar recomeça, /sair termina.", file=stdout)
    for line in stdin:
        question = line.strip()
        if not question:
            continue
        if question in ("/sair", "/quit"):
            break
        if question in ("/reiniciar", "/reset"):
            forget_thread(workspace_id, thread)
            thread, fields = uuid.uuid4(), {}
            print("(nova conversa)", file=stdout)
            continue
        turn = simulate_turn(workspace_id, agent_id, thread, question, lead_fields=fields)
        fields.update(turn.lead_fields)
        print(f"{name}: {turn.reply}", file=stdout)
        print("   [" + " · ".join(describe(turn)) + "]", file=stdout, flush=True)
    forget_thread(workspace_id, thread)


def describe(turn: SimulatedTurn) -> list[str]:
    """The turn's trace in one line's parts: route, intent, confidence, sources, tools, tokens, handoff."""
    d = turn.details
    sources = ", ".join(
        f"{s_['filename']}{' p.' + str(s_['page']) if s_.get('page') else ''}" for s_ in d.get("sources", [])[:3]
    )
    info = [f"rota={d.get('route')}", f"intenção={d.get('intent')}", f"confiança={d.get('confidence')}"]
    if sources:
        info.append(f"fontes: {sources}")
    if d.get("tool_calls"):
        info.append("ferramentas: " + ", ".join(c["name"] for c in d["tool_calls"]))
    if d.get("tokens"):
        info.append(f"tokens={d['tokens']}")
    if turn.handoff:
        info.append(f"handoff: {turn.handoff[0]}")
    return info
