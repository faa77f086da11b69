"""The debounced turn: each stored lead message schedules a turn job `debounce_seconds` later; only
the job of the burst's latest message goes on, and a UNIQUE trigger makes it reply at most once."""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy import text
from sqlmodel import select

from db.models import AgentMode, Channel, Contact, Conversation, ConversationStatus, Message
from db.tenancy import tenant_session
from runtime.channels.service import ChannelSettings
from runtime.jobs import job

from .outbound import OutsideServiceWindow, queue_message
from .responder import LeadMessage, TurnContext, get_responder

log = logging.getLogger(__name__)

_LATEST_INBOUND = text("""
SELECT id FROM message WHERE conversation_id = :c AND direction = 'inbound'
ORDER BY created_at DESC, id DESC LIMIT 1
""")
_CLAIM_TURN = text("""
INSERT INTO conversation_turn (id, workspace_id, conversation_id, trigger_message_id, outcome, created_at)
VALUES (:id, :ws, :c, :m, 'pending', now())
ON CONFLICT (trigger_message_id) DO NOTHING
RETURNING id
""")
_PREVIOUS_TRIGGER_AT = text("""
SELECT max(m.created_at) FROM conversation_turn t JOIN message m ON m.id = t.trigger_message_id
WHERE t.conversation_id = :c AND t.id <> :turn
""")


def run_turn(workspace_id: uuid.UUID, conversation_id: uuid.UUID, message_id: uuid.UUID) -> str:
    """Decide and queue the reply for one burst. Returns the outcome (also stored on the turn)."""
    with tenant_session(workspace_id) as s:
        latest = s.execute(_LATEST_INBOUND, {"c": conversation_id}).scalar_one_or_none()
        if latest != message_id:
            return "superseded"  # a later message of the same burst has its own, later job
        turn_id = s.execute(
            _CLAIM_TURN, {"id": uuid.uuid4(), "ws": workspace_id, "c": conversation_id, "m": message_id}
        ).scalar_one_or_none()
        if turn_id is None:
            return "duplicate"  # this job was delivered twice; the first one answered
        conversation = s.get(Conversation, conversation_id)
        channel = s.get(Channel, conversation.channel_id) if conversation.channel_id else None
        contact = s.get(Contact, conversation.contact_id)
        outcome = _skip_reason(conversation, channel, contact)
        if outcome is None:
            since = s.execute(_PREVIOUS_TRIGGER_AT, {"c": conversation_id, "turn": turn_id}).scalar()
            burst = s.exec(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.direction == "inbound")
                .where(Message.created_at > since if since else True)
                .order_by(Message.created_at, Message.id)
            ).all()
            ctx = TurnContext(
                workspace_id=workspace_id,
                conversation_id=conversation_id,
                channel_id=channel.id,
                contact_id=contact.id,
                contact_name=contact.name,
                messages=[LeadMessage(id=m.id, kind=m.kind, text=m.text) for m in burst],
                channel_settings=ChannelSettings.from_config(channel.config),
            )
            replies = get_responder().respond(s, ctx)
            try:
                for reply in replies:
                    queue_message(
                        s,
                        conversation,
                        kind=reply.kind,
                        text=reply.text,
                        media=reply.media,
                        template=reply.template,
                        details=reply.details,
                    )
                outcome = "replied" if replies else "no_reply"
            except OutsideServiceWindow:
                outcome = "skipped: outside the 24-hour window"
        s.execute(text("UPDATE conversation_turn SET outcome = :o WHERE id = :id"), {"o": outcome, "id": turn_id})
        s.commit()
        log.info("turn conversation=%s outcome=%s", conversation_id, outcome)
        return outcome


def _skip_reason(conversation: Conversation, channel: Channel | None, contact: Contact) -> str | None:
    if channel is None or not channel.is_active:
        return "skipped: channel inactive"
    if conversation.status != ConversationStatus.open:
        return "skipped: conversation closed"
    if conversation.mode_override == AgentMode.off:
        return "skipped: bot paused in this conversation"
    if contact.opted_out_at is not None:
        return "skipped: lead opted out"
    return None


@job("pipeline.process_turn")
async def process_turn(payload: dict) -> None:
    await asyncio.to_thread(
        run_turn,
        uuid.UUID(payload["workspace_id"]),
        uuid.UUID(payload["conversation_id"]),
        uuid.UUID(payload["message_id"]),
    )
