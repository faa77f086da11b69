"""/api/v1/conversations: read threads and send messages (free text within the 24-hour window,
approved templates at any time)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field, model_validator
from sqlmodel import select

from db.models import Contact, Conversation, Message, Suggestion
from runtime import conversations
from runtime.agent.service import AgentError, decide_suggestion
from runtime.channels.base import Template
from runtime.conversations import ConversationError
from runtime.pipeline.outbound import SendRefused, window_open

from ..deps import TenantDB, require_api_key
from ..inputs import Limit, Offset

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"], dependencies=[Depends(require_api_key)])


class LeadPublic(BaseModel):
    id: uuid.UUID
    name: str
    phone: str
    stage: str


class ConversationPublic(BaseModel):
    id: uuid.UUID
    contact_id: uuid.UUID
    lead: LeadPublic
    channel_id: uuid.UUID | None
    agent_id: uuid.UUID | None
    status: str
    mode_override: str | None
    last_message_at: datetime | None
    last_inbound_at: datetime | None
    handoff_requested_at: datetime | None
    handoff_reason: str | None
    handoff_question: str | None
    window_open: bool


class MessagePublic(BaseModel):
    id: uuid.UUID
    direction: str
    author: str
    kind: str
    text: str
    media: dict[str, Any]
    details: dict[str, Any]
    provider_message_id: str | None
    status: str
    error: str | None
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=512, description="Cloud API template name or Twilio ContentSid")
    language: str = "pt_BR"
    variables: list[str] = Field(default_factory=list)


class MessageSend(BaseModel):
    kind: Literal["text", "template"] = "text"
    text: str = Field(default="", max_length=4096)
    template: TemplateIn | None = None

    @model_validator(mode="after")
    def _check(self) -> MessageSend:
        if self.kind == "text" and not self.text.strip():
            raise ValueError("text is required")
        if self.kind == "template" and self.template is None:
            raise ValueError("template is required for kind=template")
        return self


def _conversation(db, conversation_id: uuid.UUID) -> Conversation:
    conv = db.get(Conversation, conversation_id)
    if conv is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Conversation not found")
    return conv


def _public(conv: Conversation, contact: Contact) -> dict:
    return {
        **conv.model_dump(),
        "lead": {"id": contact.id, "name": contact.name, "phone": contact.phone, "stage": contact.stage},
        "status": conv.status.value,
        "mode_override": conv.mode_override.value if conv.mode_override else None,
        "window_open": window_open(conv),
    }


def _public_one(db, conv: Conversation) -> dict:
    return _public(conv, db.get(Contact, conv.contact_id))


def _message(m: Message) -> dict:
    media = {k: v for k, v in m.media.items() if k != "data_b64"}
    return {
        **m.model_dump(),
        "media": media,
        "direction": m.direction.value,
        "author": m.author.value,
        "status": m.status.value,
    }


@router.get("", response_model=list[ConversationPublic])
def list_conversations(db: TenantDB, limit: Limit = 50, offset: Offset = 0) -> list[dict]:
    stmt = (
        select(Conversation, Contact)
        .join(Contact, Contact.id == Conversation.contact_id)
        .order_by(Conversation.last_message_at.desc().nulls_last())
        .limit(limit)
        .offset(offset)
    )
    return [_public(c, lead) for c, lead in db.exec(stmt).all()]


@router.get("/{conversation_id}", response_model=ConversationPublic)
def get_conversation(conversation_id: uuid.UUID, db: TenantDB) -> dict:
    return _public_one(db, _conversation(db, conversation_id))


@router.get("/{conversation_id}/messages", response_model=list[MessagePublic])
def list_messages(conversation_id: uuid.UUID, db: TenantDB) -> list[dict]:
    _conversation(db, conversation_id)
    stmt = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created_at, Message.id)
    return [_message(m) for m in db.exec(stmt).all()]


@router.post("/{conversation_id}/messages", response_model=MessagePublic, status_code=status.HTTP_202_ACCEPTED)
def send_message(conversation_id: uuid.UUID, body: MessageSend, db: TenantDB) -> dict:
    """A seller's (or integration's) message to the lead. Free text answers a pending handoff: it is
    sent, learned for the next lead who asks the same, and the bot resumes."""
    conv = _conversation(db, conversation_id)
    try:
        if body.kind == "text":
            message = conversations.seller_reply(db, conv, body.text)
        else:
            message = conversations.seller_template(db, conv, Template(**body.template.model_dump()))
    except (ConversationError, SendRefused) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    db.commit()
    return _message(message)


@router.post("/{conversation_id}/takeover", response_model=ConversationPublic)
def takeover(conversation_id: uuid.UUID, db: TenantDB) -> dict:
    """A seller takes the conversation: the bot stays silent until /release."""
    conv = _conversation(db, conversation_id)
    conversations.take_over(db, conv, None)
    db.commit()
    return _public_one(db, conv)


@router.post("/{conversation_id}/release", response_model=ConversationPublic)
def release_to_bot(conversation_id: uuid.UUID, db: TenantDB) -> dict:
    conv = _conversation(db, conversation_id)
    conversations.release(db, conv)
    db.commit()
    return _public_one(db, conv)


class SuggestionPublic(BaseModel):
    id: uuid.UUID
    draft: str
    next_step: str
    details: dict[str, Any]
    status: str
    final_text: str | None
    message_id: uuid.UUID | None
    created_at: datetime
    decided_at: datetime | None


class SuggestionDecision(BaseModel):
    action: Literal["accept", "edit", "reject"]
    text: str | None = Field(default=None, max_length=4096)


@router.get("/{conversation_id}/suggestions", response_model=list[SuggestionPublic])
def list_suggestions(conversation_id: uuid.UUID, db: TenantDB) -> list[Suggestion]:
    _conversation(db, conversation_id)
    stmt = select(Suggestion).where(Suggestion.conversation_id == conversation_id).order_by(Suggestion.created_at)
    return list(db.exec(stmt).all())


@router.post("/{conversation_id}/suggestions/{suggestion_id}", response_model=SuggestionPublic)
def decide(conversation_id: uuid.UUID, suggestion_id: uuid.UUID, body: SuggestionDecision, db: TenantDB) -> Suggestion:
    """Copilot: accept (send the draft), edit (send `text`) or reject a suggestion."""
    conv = _conversation(db, conversation_id)
    suggestion = db.get(Suggestion, suggestion_id)
    if suggestion is None or suggestion.conversation_id != conv.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Suggestion not found")
    try:
        decide_suggestion(db, conv, suggestion, action=body.action, text=body.text)
    except (AgentError, ConversationError, SendRefused) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    db.commit()
    return suggestion
