"""Playground: an owner talks to an agent as a lead would and sees why it answered that way.

Each message runs one real turn of the agent (runtime.agent.simulate.simulate_turn: the production
turn graph, files through the production media understanding) and nothing is applied. A playground
conversation is never a lead: no contact, conversation, message or turn row is written, so the
inbox, leads, dashboards and reports never see it; no handoff is flagged, nothing is sent. What it
keeps is the graph's memory of the simulated conversation (a LangGraph checkpoint thread of its
own, ``<workspace_id>:<uuid5(user, agent, session)>``, which no real conversation id can match) with
each reply's trace attached to the reply, so the page shows the same exchange after a reload and a
reset forgets it all.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage

from db.models import Agent
from runtime.access import Principal, UserError, require_manager
from runtime.agent.graph import annotate_last_reply, forget_thread, thread_messages
from runtime.agent.llm import DEFAULT_MODELS
from runtime.agent.settings import AgentSettings
from runtime.agent.simulate import Attachment, simulate_turn
from runtime.config import get_settings

MODES = {
    "pilot": "Piloto: a resposta iria direto para o cliente.",
    "copilot": "Copiloto: a resposta vira uma sugestão para o vendedor aprovar, editar ou descartar.",
}
MAX_TEXT = 4000
TRACE_KEY = "playground"
_NAMESPACE = uuid.UUID("5f1c7d0e-8a52-4d0b-9a57-6a0c2f3b9e11")
_SESSION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ROUTES = {
    "rules": "Fluxo fixo",
    "learned": "Resposta aprendida",
    "llm": "Modelo de linguagem",
    "extractive": "Trecho do conhecimento",
    "handoff": "Passou para humano",
    "media_error": "Arquivo ilegível",
}
_INTENTS = {
    "knowledge": "Pergunta respondida com o conhecimento",
    "conversation": "Conversa",
    "handoff": "Precisa de uma pessoa",
    "learned_answer": "Resposta aprendida",
    "greeting": "Saudação",
    "opt_out": "Não quer mais mensagens",
    "human": "Pediu para falar com uma pessoa",
    "business_hours": "Horário de atendimento",
    "price_list": "Tabela de preços",
}
_LEAD_TYPES = {"lead": "Lead", "customer": "Cliente", "supplier": "Fornecedor", "other": "Outro"}


# --- helpers --------------------------------------------------------------------------------


def _agent(principal: Principal, agent_id: Any) -> Agent:
    try:
        aid = agent_id if isinstance(agent_id, uuid.UUID) else uuid.UUID(str(agent_id))
    except (TypeError, ValueError) as exc:
        raise UserError("Escolha um agente.") from exc
    with principal.session() as s:
        agent = s.get(Agent, aid)  # RLS: only this workspace's agents
        if agent is None:
            raise UserError("Agente não encontrado.")
        s.expunge(agent)
        return agent


def _thread(principal: Principal, agent: Agent, session_id: Any) -> uuid.UUID:
    """The simulated conversation's id: per user, agent and session, never a real conversation's."""
    sid = str(session_id or "").strip()
    if not _SESSION.match(sid):
        raise UserError("Sessão do playground inválida.")
    return uuid.uuid5(_NAMESPACE, f"playground:{principal.user_id}:{agent.id}:{sid}")


def _mode(mode: Any) -> str:
    value = str(mode or "pilot")
    if value not in MODES:
        raise UserError("Modo inválido: escolha piloto ou copiloto.")
    return value


def _model_label(settings: AgentSettings) -> str:
    llm = settings.llm
    if llm.provider == "none":
        return "sem modelo (respostas do conhecimento)"
    return f"{llm.provider} · {llm.model.strip() or DEFAULT_MODELS.get(llm.provider, '?')}"


def _source(s: dict[str, Any], index: int) -> dict[str, Any]:
    page = s.get("page")
    label = s.get("filename") or "?"
    return {
        "n": index,
        "filename": label,
        "page": page or 0,
        "label": f"[{index}] {label}" + (f" · p. {page}" if page else ""),
        "score": round(float(s.get("score") or 0.0), 3),
    }


def _trace(turn_details: dict[str, Any], mode: str, handoff: Any, documents: list[str]) -> dict[str, Any]:
    """A turn's details as the page shows them (JSON-able; stored with the reply)."""
    d = turn_details
    tokens = d.get("tokens") or {}
    route = d.get("route") or ""
    lead_type = d.get("lead_type") or "lead"
    confidence = d.get("confidence")
    return {
        "mode": mode,
        "route": route,
        "route_label": _ROUTES.get(route, route or "—"),
        "intent": d.get("intent") or "",
        "intent_label": _INTENTS.get(d.get("intent") or "", d.get("intent") or ""),  # else the owner's rule name
        "action": d.get("action") or "",
        "lead_type": lead_type,
        "lead_type_label": _LEAD_TYPES.get(lead_type, lead_type),
        "confidence": round(float(confidence), 2) if confidence is not None else 0.0,
        "sources": [_source(s, i) for i, s in enumerate(d.get("sources") or [], start=1)],
        "tool_calls": [
            {"name": str(c.get("name", "")), "args": _short_args(c.get("args"))} for c in d.get("tool_calls") or []
        ],
        "tokens_in": int(tokens.get("input") or 0),
        "tokens_out": int(tokens.get("output") or 0),
        "handoff_reason": handoff[0] if handoff else "",
        "documents": [doc for doc in documents if doc != "*price-list*"]
        + (["tabela de preços"] if "*price-list*" in documents else []),
        "next_step": d.get("next_step") or "",
        "errors": [e for e in d.get("errors") or [] if e],
    }


def _short_args(args: Any) -> str:
    import json

    try:
        text = json.dumps(args or {}, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = str(args)
    return text if len(text) <= 300 else text[:297] + "..."


def _lead_bubble(text: str, attachment: dict[str, Any] | None) -> dict[str, Any]:
    att = attachment or {}
    return {
        "role": "lead",
        "text": text,
        "attachment": att.get("filename") or "",
        "attachment_kind": att.get("kind") or "",
        "attachment_text": att.get("text") or att.get("error") or "",
        "suggestion": False,
        "trace": {},
    }


def _agent_bubble(text: str, trace: dict[str, Any]) -> dict[str, Any]:
    return {
        "role": "agent",
        "text": text,
        "attachment": "",
        "attachment_kind": "",
        "attachment_text": "",
        "suggestion": trace.get("mode") == "copilot",
        "trace": trace,
    }


def _messages(principal: Principal, agent: Agent, thread: uuid.UUID) -> list[dict[str, Any]]:
    """The remembered exchange as bubbles: the lead's side as typed (with the file's name), the
    agent's with its trace."""
    history = thread_messages(principal.workspace_id, thread)
    out: list[dict[str, Any]] = []
    pending: HumanMessage | None = None
    for m in history:
        if isinstance(m, HumanMessage):
            if pending is not None:
                out.append(_lead_bubble(str(pending.content), None))
            pending = m
        elif isinstance(m, AIMessage):
            meta = (m.response_metadata or {}).get(TRACE_KEY) or {}
            if pending is not None:
                lead = meta.get("lead") or {}
                text = lead.get("text") if lead else str(pending.content)
                out.append(_lead_bubble(text or "", lead.get("attachment")))
                pending = None
            out.append(_agent_bubble(str(m.content), meta.get("trace") or {}))
    if pending is not None:
        out.append(_lead_bubble(str(pending.content), None))
    return out


def _lead_fields(principal: Principal, thread: uuid.UUID) -> dict[str, Any]:
    """What the agent has learned about the simulated lead so far (kept with the replies)."""
    fields: dict[str, Any] = {}
    for m in thread_messages(principal.workspace_id, thread):
        if isinstance(m, AIMessage):
            fields.update(((m.response_metadata or {}).get(TRACE_KEY) or {}).get("lead_fields") or {})
    return fields


# --- services ------------------------------------------------------------------------------


def overview(principal: Principal) -> dict[str, Any]:
    """The agents to talk to (oldest first) and the modes to simulate."""
    require_manager(principal)
    from sqlmodel import select

    with principal.session() as s:
        agents = s.exec(select(Agent).order_by(Agent.created_at, Agent.name)).all()
        rows = []
        for a in agents:
            settings = AgentSettings.model_validate(a.config or {})
            rows.append(
                {
                    "id": str(a.id),
                    "name": a.name,
                    "mode": a.mode.value,
                    "model": _model_label(settings),
                    "needs_key": settings.llm.provider in ("gemini", "openai")
                    and not a.llm_api_key_encrypted
                    and not settings.llm.base_url,
                }
            )
    return {
        "agents": rows,
        "modes": [{"value": k, "label": v} for k, v in MODES.items()],
        "max_upload_bytes": get_settings().media_max_bytes,
    }


def history(principal: Principal, agent_id: Any, session_id: Any) -> list[dict[str, Any]]:
    """The playground conversation so far (bubbles, oldest first)."""
    require_manager(principal)
    agent = _agent(principal, agent_id)
    return _messages(principal, agent, _thread(principal, agent, session_id))


def send_message(
    principal: Principal,
    agent_id: Any,
    session_id: Any,
    text: Any,
    attachment: dict[str, Any] | None = None,
    mode: Any = "pilot",
) -> dict[str, Any]:
    """One message of the simulated lead (text, and/or a file: ``{"filename", "data", "mime_type"}``)
    answered by one real turn of the agent. Returns the two new bubbles with the reply's trace."""
    require_manager(principal)
    agent = _agent(principal, agent_id)
    thread = _thread(principal, agent, session_id)
    mode = _mode(mode)
    text = str(text or "").strip()
    if len(text) > MAX_TEXT:
        raise UserError(f"Mensagem longa demais (máximo {MAX_TEXT} caracteres).")
    file = None
    if attachment:
        data = attachment.get("data") or b""
        if not isinstance(data, bytes | bytearray):
            raise UserError("Arquivo inválido.")
        limit = get_settings().media_max_bytes
        if len(data) > limit:
            raise UserError(f"Arquivo maior que o limite de {limit // 1_000_000} MB.")
        name = str(attachment.get("filename") or "arquivo")[:200]
        file = Attachment(filename=name, data=bytes(data), mime_type=attachment.get("mime_type") or None)
    if not text and file is None:
        raise UserError("Escreva uma mensagem ou anexe um arquivo.")

    turn = simulate_turn(
        principal.workspace_id, agent.id, thread, text, attachment=file, lead_fields=_lead_fields(principal, thread)
    )
    trace = _trace(turn.details, mode, turn.handoff, turn.documents)
    lead = {"text": text, "attachment": turn.attachment}
    if turn.reply:
        annotate_last_reply(
            principal.workspace_id,
            thread,
            {TRACE_KEY: {"trace": trace, "lead": lead, "lead_fields": turn.lead_fields}},
        )
    return {
        "lead": _lead_bubble(text, turn.attachment),
        "reply": _agent_bubble(turn.reply, trace),
    }


def reset(principal: Principal, agent_id: Any, session_id: Any) -> list[dict[str, Any]]:
    """Forget the playground conversation (the agent starts over, as with a new lead)."""
    require_manager(principal)
    agent = _agent(principal, agent_id)
    forget_thread(principal.workspace_id, _thread(principal, agent, session_id))
    return []


def set_mode(principal: Principal, agent_id: Any, session_id: Any, mode: Any) -> dict[str, Any]:
    """Simulate the agent as pilot (replies go to the lead) or copilot (replies are suggestions for a
    seller). Only the playground's simulation changes: the agent's real mode is set on Agentes."""
    require_manager(principal)
    agent = _agent(principal, agent_id)
    _thread(principal, agent, session_id)
    value = _mode(mode)
    return {"mode": value, "label": MODES[value]}
