"""The one place a turn's reply is decided. Today: the channel's fixed auto-reply text.
The agent (LangGraph) plugs in here by replacing get_responder()."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel import Session

from runtime.channels.base import MessageKind, OutboundMedia, Template
from runtime.channels.service import ChannelSettings


@dataclass(frozen=True)
class LeadMessage:
    id: uuid.UUID
    kind: str
    text: str


@dataclass(frozen=True)
class TurnContext:
    workspace_id: uuid.UUID
    conversation_id: uuid.UUID
    channel_id: uuid.UUID
    contact_id: uuid.UUID
    contact_name: str
    messages: list[LeadMessage]  # the burst this turn answers, oldest first
    channel_settings: ChannelSettings


@dataclass(frozen=True)
class Reply:
    kind: MessageKind = MessageKind.text
    text: str = ""
    media: OutboundMedia | None = None
    template: Template | None = None
    details: dict = field(default_factory=dict)


class Responder(Protocol):
    def respond(self, session: Session, ctx: TurnContext) -> list[Reply]: ...


class FixedTextResponder:
    """Replies with the channel's configured text, or stays silent when none is set."""

    def respond(self, session: Session, ctx: TurnContext) -> list[Reply]:
        text = ctx.channel_settings.auto_reply_text
        return [Reply(text=text)] if text else []


def get_responder() -> Responder:
    return FixedTextResponder()
