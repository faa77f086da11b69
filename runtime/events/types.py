"""What happens in a conversation, as facts carrying ids only: a subscriber reads the rows it needs
(in the publisher's transaction, or fresh after commit), so an event never holds stale data or
personal data in a job payload."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    workspace_id: uuid.UUID


@dataclass(frozen=True)
class LeadWrote(Event):
    """A lead's message was stored (published on the ingest's psycopg connection, in its batch)."""

    conversation_id: uuid.UUID
    message_id: uuid.UUID


@dataclass(frozen=True)
class OutboundQueued(Event):
    """A message to the lead was stored with its send job (the agent's, a seller's, a follow-up)."""

    conversation_id: uuid.UUID
    message_id: uuid.UUID


@dataclass(frozen=True)
class ConversationTakenOver(Event):
    conversation_id: uuid.UUID
    user_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ConversationReleased(Event):
    conversation_id: uuid.UUID


@dataclass(frozen=True)
class ConversationClosed(Event):
    conversation_id: uuid.UUID


@dataclass(frozen=True)
class HandoffRequested(Event):
    conversation_id: uuid.UUID


@dataclass(frozen=True)
class LeadStageChanged(Event):
    contact_id: uuid.UUID
    conversation_id: uuid.UUID | None = None


@dataclass(frozen=True)
class LeadUpdated(Event):
    contact_id: uuid.UUID
    conversation_id: uuid.UUID | None = None


@dataclass(frozen=True)
class TurnFinished(Event):
    conversation_id: uuid.UUID
    turn_id: uuid.UUID


@dataclass(frozen=True)
class MessageStatusChanged(Event):
    message_id: uuid.UUID


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        LeadWrote,
        OutboundQueued,
        ConversationTakenOver,
        ConversationReleased,
        ConversationClosed,
        HandoffRequested,
        LeadStageChanged,
        LeadUpdated,
        TurnFinished,
        MessageStatusChanged,
    )
}
