"""How the follow-up cadence reacts to a conversation (subscribed in runtime/wiring.py), each in
the publisher's transaction so the cadence stays exactly-once with its cause."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from db.models import Conversation, Message
from runtime.events import ConversationClosed, ConversationTakenOver, LeadWrote, OutboundQueued

from .service import cancel_pending, on_lead_messages, schedule_after_outbound


def stop_cadence_when_lead_wrote(connection: Any, events: list[LeadWrote]) -> None:
    """On the ingest's psycopg connection: pending steps stop, sent ones count as answered."""
    by_workspace: dict[uuid.UUID, set[uuid.UUID]] = {}
    for event in events:
        by_workspace.setdefault(event.workspace_id, set()).add(event.conversation_id)
    on_lead_messages(connection, by_workspace)


def schedule_step_when_outbound_queued(session: Session, events: list[OutboundQueued]) -> None:
    """Our reply (the agent's or a seller's) starts the lead's silence."""
    for event in events:
        conversation = session.get(Conversation, event.conversation_id)
        message = session.get(Message, event.message_id)
        if conversation is not None and message is not None:
            schedule_after_outbound(session, conversation, message)


def cancel_cadence_when_taken_over(session: Session, events: list[ConversationTakenOver]) -> None:
    for event in events:
        cancel_pending(session, event.conversation_id, "human takeover")


def cancel_cadence_when_closed(session: Session, events: list[ConversationClosed]) -> None:
    for event in events:
        cancel_pending(session, event.conversation_id, "conversation closed")
