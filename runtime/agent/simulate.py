"""A turn of an agent with nobody on the other side: the terminal chat and the panel's playground
talk to an agent as a lead would. The turn is the production one (runtime.agent.responder
.run_agent_turn: rules, learned answers, retrieval, the model with tools, the guard) and files go
through the same media understanding as a lead's (transcription, image reading, PDF/DOCX text);
but nothing is applied: no lead, conversation or message is written, nothing is sent, no handoff is
flagged. Only the graph's memory of the simulated conversation is kept (its checkpoint thread)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from db.models import Agent
from db.tenancy import tenant_session
from runtime.media.understand import media_kind, understand_bytes
from runtime.pipeline.responder import LeadMessage

from .responder import run_agent_turn


@dataclass(frozen=True)
class Attachment:
    """A file the simulated lead sends (a voice note, a photo, a PDF...)."""

    filename: str
    data: bytes
    mime_type: str | None = None


@dataclass
class SimulatedTurn:
    reply: str
    details: dict[str, Any]  # as stored on a real turn: route, intent, lead type, sources, tokens, tool calls...
    lead_fields: dict[str, Any] = field(default_factory=dict)  # what the agent learned about the lead now
    handoff: tuple[str, str] | None = None  # (reason, question) when the agent called a human
    documents: list[str] = field(default_factory=list)  # knowledge files the agent would send
    attachment: dict[str, Any] | None = None  # kind, filename, status, text understood, error


def _language(workspace_id: uuid.UUID, agent_id: uuid.UUID) -> str | None:
    """ "pt-BR" -> "pt": the agent's language as the speech-to-text hint (as the pipeline does)."""
    with tenant_session(workspace_id) as s:
        agent = s.get(Agent, agent_id)
        lang = (agent.config or {}).get("language") if agent else None
    return lang.split("-")[0].lower() if lang else None


def simulate_turn(
    workspace_id: uuid.UUID,
    agent_id: uuid.UUID,
    conversation_id: uuid.UUID,
    text: str,
    *,
    attachment: Attachment | None = None,
    lead_fields: dict[str, Any] | None = None,
    contact_name: str = "",
) -> SimulatedTurn:
    """One lead message (text, a file, or a file with a caption) answered by the agent.
    ``conversation_id`` names the simulated conversation's memory; ``lead_fields`` are what is known
    about the simulated lead so far."""
    text = (text or "").strip()
    seen: dict[str, Any] | None = None
    if attachment is not None:
        kind = media_kind(attachment.mime_type, attachment.filename)
        mime = attachment.mime_type or "application/octet-stream"
        understood = understand_bytes(
            kind, attachment.data, mime, attachment.filename, _language(workspace_id, agent_id)
        )
        details: dict[str, Any] = {"media_status": understood.status, "media_error": understood.error}
        if understood.text:
            details["understood"] = understood.text
        message = LeadMessage(id=uuid.uuid4(), kind=kind, text=text, details=details)
        seen = {
            "kind": kind,
            "filename": attachment.filename,
            "status": understood.status,
            "text": understood.text,
            "error": understood.error,
        }
    else:
        message = LeadMessage(id=uuid.uuid4(), kind="text", text=text)
    turn = run_agent_turn(
        workspace_id, agent_id, conversation_id, [message], contact_name=contact_name, lead_fields=lead_fields
    )
    documents = list(turn.effects.documents)
    if turn.action == "price_list":
        documents.append("*price-list*")
    return SimulatedTurn(
        reply=turn.reply,
        details=turn.details,
        lead_fields=dict(turn.effects.lead_fields),
        handoff=turn.effects.handoff,
        documents=documents,
        attachment=seen,
    )
