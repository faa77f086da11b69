"""Agents and the human side of conversations: CRUD, takeover/release, a seller's reply (which
answers a pending handoff and teaches the agent), copilot suggestions accepted/edited/rejected."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from db.models import Agent, AgentMode, Conversation, Suggestion, SuggestionStatus, utcnow
from runtime import conversations, crypto

from .settings import AgentSettings, LLMSettings


class AgentError(ValueError):
    pass


class LLMServerRefused(AgentError):
    """The agent's LLM server is an internal address the egress guard refuses (pt-BR message)."""


class LLMKeyRequired(AgentError):
    """The LLM server changed while a key is saved: the key must come again in the same change."""


def _check_llm(llm: LLMSettings) -> None:
    from .llm import LLMUnavailable, check_endpoint

    try:
        check_endpoint(llm)
    except LLMUnavailable as exc:
        raise LLMServerRefused(str(exc)[:1].upper() + str(exc)[1:]) from exc


def _key_stays_with_its_server(before: LLMSettings, after: LLMSettings) -> None:
    """A saved key is only ever sent where it was typed for: the origin (scheme, host, port) of the
    provider's endpoint. A new path on the same server keeps the key; another server needs it again."""
    from runtime.egress import origin

    from .llm import endpoint

    old, new = endpoint(before), endpoint(after)
    if new is None or (old is not None and origin(old) == origin(new)):
        return
    was = f" (de {origin(old)[1]} para {origin(new)[1]})" if old else ""
    raise LLMKeyRequired(
        f"Você mudou o servidor do modelo{was}: informe a chave de API de novo nesta mesma alteração. "
        "Por segurança, a chave salva nunca é enviada a outro servidor. Se o novo servidor não pede "
        "chave, remova a chave salva."
    )


def validate_settings(config: dict[str, Any]) -> AgentSettings:
    try:
        return AgentSettings.model_validate(config)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise AgentError(f"{where}: {first['msg']}") from exc


def create_agent(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    name: str,
    mode: str = "pilot",
    settings: dict[str, Any] | None = None,
    llm_api_key: str | None = None,
) -> Agent:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise AgentError("name is required (at most 120 characters)")
    try:
        agent_mode = AgentMode(mode)
    except ValueError as exc:
        raise AgentError("mode must be pilot, copilot or off") from exc
    cfg = validate_settings(settings or {})
    _check_llm(cfg.llm)
    agent = Agent(
        workspace_id=workspace_id,
        name=name,
        mode=agent_mode,
        persona=cfg.persona,
        config=cfg.model_dump(mode="json"),
        llm_api_key_encrypted=crypto.encrypt(llm_api_key) if llm_api_key else None,
    )
    session.add(agent)
    session.flush()
    return agent


def update_agent(
    session: Session,
    agent: Agent,
    *,
    name: str | None = None,
    mode: str | None = None,
    settings: dict[str, Any] | None = None,
    llm_api_key: str | None = None,
    clear_llm_api_key: bool = False,
) -> Agent:
    if name is not None:
        if not name.strip() or len(name) > 120:
            raise AgentError("name is required (at most 120 characters)")
        agent.name = name.strip()
    if mode is not None:
        try:
            agent.mode = AgentMode(mode)
        except ValueError as exc:
            raise AgentError("mode must be pilot, copilot or off") from exc
    if settings is not None:
        before = AgentSettings.model_validate(agent.config or {}).llm
        merged = {**(agent.config or {}), **settings}
        cfg = validate_settings(merged)
        if cfg.llm != before:
            _check_llm(cfg.llm)
            if agent.llm_api_key_encrypted and not llm_api_key and not clear_llm_api_key:
                _key_stays_with_its_server(before, cfg.llm)
        agent.config, agent.persona = cfg.model_dump(mode="json"), cfg.persona
    if clear_llm_api_key:
        agent.llm_api_key_encrypted = None
    elif llm_api_key:
        agent.llm_api_key_encrypted = crypto.encrypt(llm_api_key)
    agent.updated_at = utcnow()
    session.add(agent)
    session.flush()
    return agent


def public_agent(agent: Agent) -> dict[str, Any]:
    cfg = AgentSettings.model_validate(agent.config or {}).model_dump(mode="json")
    return {
        "id": agent.id,
        "name": agent.name,
        "mode": agent.mode.value,
        "settings": cfg,
        "llm": {**cfg["llm"], "api_key_set": bool(agent.llm_api_key_encrypted)},
        "created_at": agent.created_at,
        "updated_at": agent.updated_at,
    }


# --- copilot ---------------------------------------------------------------------------------


def decide_suggestion(
    session: Session,
    conversation: Conversation,
    suggestion: Suggestion,
    *,
    action: str,
    text: str | None = None,
    user_id: uuid.UUID | None = None,
) -> Suggestion:
    """accept (send the draft), edit (send `text`), reject (send nothing). Recorded either way."""
    if suggestion.status != SuggestionStatus.pending:
        raise AgentError(f"suggestion already {suggestion.status}")
    if action not in ("accept", "edit", "reject"):
        raise AgentError("action must be accept, edit or reject")
    if action == "edit" and not (text or "").strip():
        raise AgentError("edit needs the text to send")
    suggestion.decided_by_user_id, suggestion.decided_at = user_id, utcnow()
    if action == "reject":
        suggestion.status = SuggestionStatus.rejected
    else:
        final = suggestion.draft if action == "accept" else text.strip()
        message = conversations.seller_reply(session, conversation, final, user_id=user_id)
        suggestion.status = SuggestionStatus.accepted if action == "accept" else SuggestionStatus.edited
        suggestion.final_text, suggestion.message_id = final, message.id
    session.add(suggestion)
    return suggestion
