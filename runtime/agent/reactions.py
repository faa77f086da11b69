"""How the agent reacts to a conversation (subscribed in runtime/wiring.py)."""

from __future__ import annotations

from sqlmodel import Session

from db.models import Author, Contact, Conversation, Message
from runtime.events import OutboundQueued

from . import learned
from .settings import conversation_agent_settings


def learn_answer_when_seller_answers_handoff(session: Session, events: list[OutboundQueued]) -> None:
    """A seller's text in a conversation waiting for a human answers the agent's question: it is
    kept as a learned answer (approved at once unless the agent requires approval), recorded on
    the message as `learned_answer_id`, and the bot resumes."""
    for event in events:
        message = session.get(Message, event.message_id)
        conversation = session.get(Conversation, event.conversation_id)
        if message is None or conversation is None or message.author != Author.seller or message.kind != "text":
            continue
        if conversation.handoff_requested_at is None or not conversation.handoff_question:
            continue
        _, settings = conversation_agent_settings(session, conversation)
        if settings.learned_answers.enabled:
            contact = session.get(Contact, conversation.contact_id)
            answer = learned.learn(
                session,
                conversation,
                question=conversation.handoff_question,
                answer=message.text,
                seller_user_id=message.author_user_id,
                require_approval=settings.learned_answers.require_approval,
                generalized=learned.generalize_question(conversation.handoff_question, contact.name if contact else ""),
            )
            message.details = {**message.details, "learned_answer_id": str(answer.id)}
            session.add(message)
        conversation.handoff_requested_at = None
        conversation.handoff_reason = None
        conversation.handoff_question = None
        session.add(conversation)
