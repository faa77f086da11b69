"""`python -m runtime chat --agent A`: talk to an agent in the terminal, as a lead would. Shows the
route, intent, sources, tool calls and tokens of each turn. Nothing is sent to WhatsApp and no
lead is created: the agent's effects are printed, not applied."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import text

from db.engine import admin_engine
from db.models import Agent
from db.tenancy import tenant_session

from .graph import TurnDeps, run_graph
from .responder import chat_model_for
from .settings import AgentSettings


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
        model = chat_model_for(agent, settings)
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
            thread, fields = uuid.uuid4(), {}
            print("(nova conversa)", file=stdout)
            continue
        deps = TurnDeps(
            workspace_id=workspace_id,
            agent_id=agent_id,
            agent_name=name,
            settings=settings,
            contact_name="",
            lead_fields=dict(fields),
            now=datetime.now(UTC),
            model=model,
        )
        state = run_graph(deps, thread, question, None)
        fields.update(deps.effects.lead_fields)
        print(f"{name}: {state.get('reply', '')}", file=stdout)
        sources = ", ".join(
            f"{s_['filename']}{' p.' + str(s_['page']) if s_.get('page') else ''}"
            for s_ in state.get("sources", [])[:3]
        )
        info = [f"rota={state.get('route')}", f"intenção={state.get('intent')}", f"confiança={state.get('confidence')}"]
        if sources:
            info.append(f"fontes: {sources}")
        if deps.effects.calls:
            info.append("ferramentas: " + ", ".join(c["name"] for c in deps.effects.calls))
        if state.get("tokens"):
            info.append(f"tokens={state['tokens']}")
        if deps.effects.handoff:
            info.append(f"handoff: {deps.effects.handoff[0]}")
        print("   [" + " · ".join(info) + "]", file=stdout, flush=True)
