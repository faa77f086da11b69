"""The one owner of what people and the agent do to a conversation and its lead: take over,
release, transfer, close and reopen, a seller's reply (text, file, template), the agent's handoff,
the lead's stage and fields. The panel, the REST API and the agent's effects all call these, so a
rule (a closed conversation takes no reply, a message has WhatsApp's length) holds everywhere.
Each publishes its event (runtime/events) in the caller's transaction; the caller commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, select

from db.models import (
    AgentMode,
    Author,
    Contact,
    Conversation,
    ConversationStatus,
    Membership,
    Message,
    utcnow,
)
from runtime.channels.base import MessageKind, OutboundMedia, Template
from runtime.contacts import LEAD_TYPES, ContactError, set_stage
from runtime.events import (
    ConversationClosed,
    ConversationReleased,
    ConversationTakenOver,
    HandoffRequested,
    LeadStageChanged,
    LeadUpdated,
    publish,
)
from runtime.pipeline.outbound import queue_message

MAX_TEXT = 4096  # WhatsApp's limit for a text message


class ConversationError(ValueError):
    """A refusal with its reason in pt-BR: the panel shows it, the REST API answers it with 409."""


CLOSED = "Esta conversa está encerrada. Reabra para responder."


# --- who answers ----------------------------------------------------------------------------------


def take_over(session: Session, conversation: Conversation, user_id: uuid.UUID | None = None) -> None:
    """A seller takes the conversation: the bot stays silent until release."""
    conversation.mode_override = AgentMode.off
    if user_id:
        conversation.assigned_user_id = user_id
    session.add(conversation)
    publish(session, ConversationTakenOver(conversation.workspace_id, conversation.id, user_id))


def release(session: Session, conversation: Conversation) -> None:
    """Back to the bot (and any pending handoff is considered handled)."""
    conversation.mode_override = None
    conversation.handoff_requested_at = None
    conversation.handoff_reason = None
    conversation.handoff_question = None
    session.add(conversation)
    publish(session, ConversationReleased(conversation.workspace_id, conversation.id))


def transfer(session: Session, conversation: Conversation, to_user_id: uuid.UUID | None) -> None:
    """Assign the conversation to an active member of its workspace, or to nobody (the queue)."""
    if to_user_id is not None:
        member = session.exec(
            select(Membership).where(
                Membership.workspace_id == conversation.workspace_id,
                Membership.user_id == to_user_id,
                Membership.is_active,
            )
        ).first()
        if member is None:
            raise ConversationError("Essa pessoa não faz parte da equipe.")
    conversation.assigned_user_id = to_user_id
    session.add(conversation)


def close(session: Session, conversation: Conversation) -> None:
    conversation.status = ConversationStatus.closed
    session.add(conversation)
    publish(session, ConversationClosed(conversation.workspace_id, conversation.id))


def reopen(session: Session, conversation: Conversation) -> None:
    """A closed conversation opens again, unless the lead already has another open one there."""
    if conversation.status != ConversationStatus.closed:
        return
    clash = session.exec(
        select(Conversation.id).where(
            Conversation.channel_id == conversation.channel_id,
            Conversation.contact_id == conversation.contact_id,
            Conversation.status == ConversationStatus.open,
        )
    ).first()
    if clash is not None:
        raise ConversationError("Este lead já tem outra conversa aberta neste canal.")
    conversation.status = ConversationStatus.open
    session.add(conversation)


# --- a seller's messages --------------------------------------------------------------------------


def _claim(conversation: Conversation, user_id: uuid.UUID | None) -> None:
    """Answering an unassigned conversation makes it the seller's (so two sellers don't both answer)."""
    if user_id is not None and conversation.assigned_user_id is None:
        conversation.assigned_user_id = user_id


def _open(conversation: Conversation) -> None:
    if conversation.status == ConversationStatus.closed:
        raise ConversationError(CLOSED)


def seller_reply(
    session: Session, conversation: Conversation, text: str, *, user_id: uuid.UUID | None = None
) -> Message:
    """A seller's (or an integration's) text. If it answers the agent's pending handoff question,
    the answer is learned and the bot resumes (a reaction: the message's details then carry
    `learned_answer_id`). Raises ConversationError, or SendRefused from the send path."""
    body = (text or "").strip()
    if not body:
        raise ConversationError("Escreva a mensagem antes de enviar.")
    if len(body) > MAX_TEXT:
        raise ConversationError(f"A mensagem passa do limite do WhatsApp ({MAX_TEXT} caracteres).")
    _open(conversation)
    _claim(conversation, user_id)
    return queue_message(
        session, conversation, kind=MessageKind.text, text=body, author=Author.seller, author_user_id=user_id
    )


def seller_media(
    session: Session,
    conversation: Conversation,
    kind: MessageKind,
    media: OutboundMedia,
    caption: str = "",
    *,
    user_id: uuid.UUID | None = None,
) -> Message:
    """A seller's file or voice note."""
    _open(conversation)
    _claim(conversation, user_id)
    return queue_message(
        session, conversation, kind=kind, text=caption, media=media, author=Author.seller, author_user_id=user_id
    )


def seller_template(
    session: Session, conversation: Conversation, template: Template, *, user_id: uuid.UUID | None = None
) -> Message:
    """An approved template: the only thing that may go out when the 24-hour window is closed."""
    _claim(conversation, user_id)
    return queue_message(
        session,
        conversation,
        kind=MessageKind.template,
        text=f"[modelo {template.name}]",
        template=template,
        author=Author.seller,
        author_user_id=user_id,
    )


# --- the agent ------------------------------------------------------------------------------------


def request_handoff(session: Session, conversation: Conversation, reason: str, question: str) -> None:
    """The agent asks for a person: the conversation is flagged for the sellers and the bot waits."""
    conversation.handoff_requested_at = utcnow()
    conversation.handoff_reason = reason[:500]
    conversation.handoff_question = question
    session.add(conversation)
    publish(session, HandoffRequested(conversation.workspace_id, conversation.id))


# --- the lead -------------------------------------------------------------------------------------


def update_lead(
    session: Session, contact: Contact, changes: dict[str, Any], *, conversation_id: uuid.UUID | None = None
) -> Contact:
    """A person edits the lead (the inbox sidebar): name, e-mail, stage, score, type, notes, tags, CRM
    link, fields. Refuses what does not fit with ConversationError."""
    if "name" in changes:
        contact.name = str(changes["name"] or "").strip()[:200]
    if "email" in changes:
        email = str(changes["email"] or "").strip().lower()
        if email and ("@" not in email or "." not in email.rsplit("@", 1)[-1]):
            raise ConversationError("E-mail inválido.")
        contact.email = email or None
    stage_changed = False
    if "stage" in changes:
        try:
            stage_changed = set_stage(contact, changes["stage"])
        except ContactError as exc:
            raise ConversationError(str(exc)) from exc
    if "lead_type" in changes:
        if changes["lead_type"] not in LEAD_TYPES:
            raise ConversationError("Tipo de contato desconhecido.")
        contact.lead_type = changes["lead_type"]
    if "score" in changes:
        try:
            score = int(str(changes["score"]).strip() or 0)
        except ValueError as exc:
            raise ConversationError("A pontuação deve ser um número de 0 a 100.") from exc
        if not 0 <= score <= 100:
            raise ConversationError("A pontuação deve ser um número de 0 a 100.")
        contact.score = score
    if "notes" in changes:
        contact.notes = str(changes["notes"] or "")[:10_000]
    if "tags" in changes:
        raw = changes["tags"]
        tags = raw.split(",") if isinstance(raw, str) else list(raw or [])
        contact.tags = sorted({t.strip()[:40] for t in tags if str(t).strip()})[:30]
    if "crm_url" in changes:
        url = str(changes["crm_url"] or "").strip()
        if url and not url.startswith(("https://", "http://")):
            raise ConversationError("O link do CRM deve começar com https://")
        contact.crm_url = url or None
    if "fields" in changes and isinstance(changes["fields"], dict):
        contact.fields = {**(contact.fields or {}), **{str(k): v for k, v in changes["fields"].items()}}
    session.add(contact)
    _published_lead_events(session, contact, conversation_id, stage_changed)
    return contact


def apply_agent_findings(
    session: Session,
    contact: Contact,
    *,
    conversation_id: uuid.UUID | None,
    fields: dict[str, Any] | None = None,
    stage: str | None = None,
    score: int | None = None,
    lead_type: str | None = None,
    opted_out: bool = False,
) -> None:
    """What the agent learned about the lead in a turn (its qualification tool, an opt-out). Its
    stage may be a company's own word (kept as written when it is no known stage)."""
    if fields:
        contact.fields = {**(contact.fields or {}), **fields}
    stage_changed = bool(stage) and set_stage(contact, stage, allow_custom=True)
    if score is not None:
        contact.score = score
    if lead_type:
        contact.lead_type = lead_type
    if opted_out:
        contact.opted_out_at = utcnow()
    session.add(contact)
    if fields or stage or score is not None or lead_type or opted_out:
        _published_lead_events(session, contact, conversation_id, stage_changed)


def _published_lead_events(
    session: Session, contact: Contact, conversation_id: uuid.UUID | None, stage_changed: bool
) -> None:
    events = [LeadUpdated(contact.workspace_id, contact.id, conversation_id)]
    if stage_changed:
        events.append(LeadStageChanged(contact.workspace_id, contact.id, conversation_id))
    publish(session, *events)
