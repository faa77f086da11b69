"""The turn graph (LangGraph): rules -> learned answers -> retrieval -> model with tools -> guard.
Each node may finish the turn; the conversation's message history is checkpointed in PostgreSQL
(thread "<workspace_id>:<conversation_id>", isolated by row-level security)."""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, TypedDict

import psycopg
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from psycopg.rows import dict_row
from sqlalchemy import text

from db.engine import database_urls
from db.models import TurnRoute
from db.tenancy import tenant_session
from runtime.knowledge.embeddings import EmbeddingError, get_embedder
from runtime.knowledge.search import SearchHit, search

from . import learned as learned_answers
from .prompt import system_prompt
from .settings import AgentSettings
from .tools import TurnEffects, build_tools

MAX_TOOL_ROUNDS = 3
HISTORY_TURNS = 12  # messages of earlier turns given to the model

_PRICE_OR_DATE = re.compile(r"R\$\s*\d|\d+[.,]\d{2}\b|\d{1,2}/\d{1,2}|\d+\s*(?:h|horas|dias|meses)\b", re.IGNORECASE)
_STOPWORDS = set(
    [
        "a",
        "o",
        "as",
        "os",
        "um",
        "uma",
        "de",
        "do",
        "da",
        "dos",
        "das",
        "em",
        "no",
        "na",
        "nos",
        "nas",
        "para",
        "pra",
        "por",
        "com",
        "sem",
        "que",
        "qual",
        "quais",
        "quanto",
        "quanta",
        "e",
        "ou",
        "se",
        "eu",
        "voce",
        "voces",
        "vc",
        "vcs",
        "tem",
        "ter",
        "sao",
        "ser",
        "esta",
        "estao",
        "isso",
        "essa",
        "esse",
        "me",
        "te",
        "lhe",
        "como",
        "onde",
        "quando",
        "tudo",
        "bem",
        "oi",
        "ola",
    ]
)


class TurnState(TypedDict, total=False):
    question: str
    reply_id: str | None
    history: Annotated[list[AnyMessage], add_messages]
    route: str
    reply: str
    intent: str
    action: str
    confidence: float
    sources: list[dict]
    tokens: dict
    learned_id: str | None


@dataclass
class TurnDeps:
    """What the nodes need that is not state (never checkpointed)."""

    workspace_id: uuid.UUID
    agent_id: uuid.UUID | None
    agent_name: str
    settings: AgentSettings
    contact_name: str
    lead_fields: dict
    now: datetime
    model: Any  # a LangChain chat model, or None for provider "none"
    model_error: str | None = None  # why the agent's model could not be built (e.g. no API key)
    effects: TurnEffects = field(default_factory=TurnEffects)
    hits: list[SearchHit] = field(default_factory=list)
    known_files: set[str] = field(default_factory=set)


def _deps(config: RunnableConfig) -> TurnDeps:
    return config["configurable"]["deps"]


def rules_node(state: TurnState, config: RunnableConfig) -> TurnState:
    from .rules import match_rules

    d = _deps(config)
    match = match_rules(
        d.settings, state["question"], reply_id=state.get("reply_id"), now=d.now, contact_name=d.contact_name
    )
    if match is None:
        return {}
    if match.action == "handoff":
        # The lead asked for a person (or an owner's rule says so): flag the conversation for the
        # inbox like any other handoff, so a seller sees it and the bot waits.
        d.effects.handoff = (f"regra: {match.intent}"[:500], state["question"])
    return {
        "route": TurnRoute.rules,
        "intent": match.intent,
        "action": match.action,
        "reply": match.response,
        "confidence": 1.0,
    }


def learned_node(state: TurnState, config: RunnableConfig) -> TurnState:
    d = _deps(config)
    policy = d.settings.learned_answers
    if not policy.enabled:
        return {}
    with tenant_session(d.workspace_id) as s:
        found = learned_answers.find_answer(s, state["question"], agent_id=d.agent_id, threshold=policy.threshold)
        if found is None:
            return {}
        answer, similarity = found
        s.commit()
        return {
            "route": TurnRoute.learned,
            "intent": "learned_answer",
            "reply": answer.answer,
            "confidence": round(similarity, 3),
            "learned_id": str(answer.id),
        }


def retrieve_node(state: TurnState, config: RunnableConfig) -> TurnState:
    d = _deps(config)
    try:
        embedder = get_embedder()
    except EmbeddingError:
        embedder = None
    with tenant_session(d.workspace_id) as s:
        try:
            d.hits = search(s, state["question"], k=5, collection=d.settings.knowledge_collection, embedder=embedder)
        except EmbeddingError:  # the embedding provider is down: full text still answers
            d.hits = search(s, state["question"], k=5, collection=d.settings.knowledge_collection)
        d.known_files = {r[0] for r in s.execute(text("SELECT filename FROM knowledge_document"))}
    return {"sources": [{"filename": h.filename, "page": h.page, "score": h.score} for h in d.hits]}


def _content_words(text: str) -> set[str]:
    return {w for w in learned_answers.normalize_question(text).split() if len(w) > 2 and w not in _STOPWORDS}


def extractive_answer(question: str, hits: list[SearchHit]) -> tuple[str, float] | None:
    """Provider "none": the best line of the top chunk, when it clearly shares the question's words."""
    if not hits:
        return None
    wanted = _content_words(question)
    if not wanted:
        return None
    best, best_cover = None, 0.0
    for line in [ln.strip() for ln in hits[0].content.splitlines() if ln.strip()]:
        cover = len(wanted & _content_words(line)) / len(wanted)
        if cover > best_cover:
            best, best_cover = line, cover
    if best is None or best_cover < 0.5:
        return None
    return f"{best} [1]", round(best_cover, 3)


def respond_node(state: TurnState, config: RunnableConfig) -> TurnState:
    from .llm import LLMUnavailable, invoke_with_tools

    d = _deps(config)
    question = state["question"]
    if d.model_error:
        return _handoff(d, f"modelo de linguagem indisponível: {d.model_error}"[:500], question)
    if d.model is None:
        found = extractive_answer(question, d.hits)
        if found is None:
            return _handoff(d, "sem resposta no conhecimento (sem modelo de linguagem)", question)
        reply, cover = found
        return {"route": TurnRoute.extractive, "intent": "knowledge", "reply": reply, "confidence": cover}

    tools = build_tools(d.settings, d.effects, d.known_files)
    prompt = system_prompt(
        d.settings,
        agent_name=d.agent_name,
        hits=d.hits,
        lead_fields={**d.lead_fields, **d.effects.lead_fields},
        lead_name=d.contact_name,
        tools_on=[t.name for t in tools],
    )
    messages: list[AnyMessage] = [SystemMessage(prompt), *state.get("history", [])[-HISTORY_TURNS:]]
    messages.append(HumanMessage(question))
    by_name = {t.name: t for t in tools}
    tokens = {"input": 0, "output": 0}
    llm = d.settings.llm
    try:
        for _ in range(MAX_TOOL_ROUNDS + 1):
            result = invoke_with_tools(
                d.model, messages, tools, timeout_seconds=llm.timeout_seconds, max_retries=llm.max_retries
            )
            tokens["input"] += result.input_tokens
            tokens["output"] += result.output_tokens
            ai: AIMessage = result.message
            messages.append(ai)
            if not ai.tool_calls:
                break
            for call in ai.tool_calls:
                tool = by_name.get(call["name"])
                output = tool.invoke(call["args"]) if tool else f"ferramenta desconhecida: {call['name']}"
                messages.append(ToolMessage(str(output), tool_call_id=call["id"]))
            if d.effects.handoff:
                break
        else:
            ai = AIMessage("")
    except LLMUnavailable as exc:
        out = _handoff(d, f"modelo de linguagem indisponível: {exc}"[:500], question)
        out["tokens"] = tokens
        return out
    if d.effects.handoff:
        reason, asked = d.effects.handoff
        out = _handoff(d, reason, asked)
        out["tokens"] = tokens
        return out
    reply = ai.content if isinstance(ai.content, str) else " ".join(str(p) for p in ai.content)
    reply = reply.strip()
    cited = bool(re.search(r"\[\d+\]", reply))
    grounded = bool(d.hits) and (cited or not _PRICE_OR_DATE.search(reply))
    confidence = 0.85 if cited else (0.65 if grounded else 0.3)
    if not reply or (_PRICE_OR_DATE.search(reply) and not cited) or confidence < d.settings.handoff.min_confidence:
        out = _handoff(d, "resposta sem fundamento no conhecimento", question)
        out["tokens"] = tokens
        return out
    return {
        "route": TurnRoute.llm,
        "intent": "knowledge" if d.hits else "conversation",
        "reply": reply,
        "confidence": confidence,
        "tokens": tokens,
    }


def _handoff(d: TurnDeps, reason: str, question: str) -> TurnState:
    d.effects.handoff = (reason, question)
    return {
        "route": TurnRoute.handoff,
        "intent": "handoff",
        "action": "handoff",
        "reply": d.settings.handoff.message_to_lead,
        "confidence": 0.0,
    }


def guard_node(state: TurnState, config: RunnableConfig) -> TurnState:
    """WhatsApp-sized: cut at a sentence boundary; remember the exchange for the next turns."""
    d = _deps(config)
    reply = state.get("reply", "")
    limit = d.settings.max_reply_chars
    if len(reply) > limit:
        cut = max(reply.rfind(". ", 0, limit), reply.rfind("\n", 0, limit))
        reply = reply[: cut + 1 if cut > limit // 2 else limit].rstrip()
    update: TurnState = {"reply": reply, "history": [HumanMessage(state["question"])]}
    if reply:
        update["history"] = [HumanMessage(state["question"]), AIMessage(reply)]
    return update


def _after(state: TurnState) -> str:
    return "guard" if state.get("route") else "next"


def build_graph() -> StateGraph:
    g = StateGraph(TurnState)
    g.add_node("rules", rules_node)
    g.add_node("learned", learned_node)
    g.add_node("retrieve", retrieve_node)
    g.add_node("respond", respond_node)
    g.add_node("guard", guard_node)
    g.add_edge(START, "rules")
    g.add_conditional_edges("rules", _after, {"guard": "guard", "next": "learned"})
    g.add_conditional_edges("learned", _after, {"guard": "guard", "next": "retrieve"})
    g.add_edge("retrieve", "respond")
    g.add_edge("respond", "guard")
    g.add_edge("guard", END)
    return g


@contextmanager
def checkpointer(workspace_id: uuid.UUID):
    """A PostgresSaver on a connection of the app role scoped to one workspace (RLS on threads)."""
    from langgraph.checkpoint.postgres import PostgresSaver

    conninfo = database_urls().app.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row) as conn:
        conn.execute("SELECT set_config('app.workspace_id', %s, false)", (str(workspace_id),))
        yield PostgresSaver(conn)


def thread_id(workspace_id: uuid.UUID, conversation_id: uuid.UUID) -> str:
    """The checkpoint thread of a conversation (row-level security reads the workspace from it)."""
    return f"{workspace_id}:{conversation_id}"


def run_graph(deps: TurnDeps, conversation_id: uuid.UUID, question: str, reply_id: str | None) -> TurnState:
    with checkpointer(deps.workspace_id) as saver:
        graph = build_graph().compile(checkpointer=saver)
        config = {
            "configurable": {"thread_id": thread_id(deps.workspace_id, conversation_id), "deps": deps},
        }
        # Per-turn fields start empty; the history channel accumulates across turns.
        fresh: TurnState = {
            "question": question,
            "reply_id": reply_id,
            "route": "",
            "reply": "",
            "intent": "",
            "action": "",
            "confidence": 0.0,
            "tokens": {},
            "learned_id": None,
            "sources": [],
        }
        return graph.invoke(fresh, config)


def thread_messages(workspace_id: uuid.UUID, conversation_id: uuid.UUID) -> list[AnyMessage]:
    """The conversation's remembered exchange (lead and agent messages, oldest first)."""
    with checkpointer(workspace_id) as saver:
        graph = build_graph().compile(checkpointer=saver)
        snapshot = graph.get_state({"configurable": {"thread_id": thread_id(workspace_id, conversation_id)}})
        return list((snapshot.values or {}).get("history", []))


def annotate_last_reply(workspace_id: uuid.UUID, conversation_id: uuid.UUID, metadata: dict[str, Any]) -> bool:
    """Keep ``metadata`` on the conversation's last agent message (its ``response_metadata``, which
    is never sent to a model). False when the last message is not the agent's."""
    with checkpointer(workspace_id) as saver:
        graph = build_graph().compile(checkpointer=saver)
        config = {"configurable": {"thread_id": thread_id(workspace_id, conversation_id)}}
        history = list((graph.get_state(config).values or {}).get("history", []))
        if not history or not isinstance(history[-1], AIMessage):
            return False
        last = history[-1]
        annotated = last.model_copy(update={"response_metadata": {**last.response_metadata, **metadata}})
        graph.update_state(config, {"history": [annotated]}, as_node="guard")
        return True


def forget_thread(workspace_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
    """Drop the conversation's memory (every checkpoint of its thread)."""
    with checkpointer(workspace_id) as saver:
        saver.delete_thread(thread_id(workspace_id, conversation_id))
