"""The one place a turn's reply is decided. A conversation whose channel (or itself) has an agent
is answered by the agent (runtime.agent); otherwise by the channel's fixed auto-reply text.

Deciding happens outside any database transaction (a model call takes seconds); the result is then
applied in one transaction by the turn."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlmodel import Session

from db.models import Conversation, TurnRoute
from runtime import wiring
from runtime.channels.base import MessageKind, OutboundMedia, Template
from runtime.channels.service import ChannelSettings
from runtime.events.bus import resolve


@dataclass(frozen=True)
class LeadMessage:
    id: uuid.UUID
    kind: str
    text: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TurnContext:
    workspace_id: uuid.UUID
    conversation_id: uuid.UUID
    channel_id: uuid.UUID
    contact_id: uuid.UUID
    contact_name: str
    messages: list[LeadMessage]  # the burst this turn answers, oldest first
    channel_settings: ChannelSettings
    agent_id: uuid.UUID | None = None
    mode: str = "pilot"  # pilot | copilot (off never reaches a responder)


@dataclass(frozen=True)
class Reply:
    kind: MessageKind = MessageKind.text
    text: str = ""
    media: OutboundMedia | None = None
    template: Template | None = None
    details: dict = field(default_factory=dict)


@dataclass
class TurnResult:
    replies: list[Reply] = field(default_factory=list)
    route: str | None = None  # rules, learned, llm, extractive, handoff, fixed
    details: dict[str, Any] = field(default_factory=dict)
    # Responder-specific effects (lead fields, handoff, suggestion...), run in the turn's transaction.
    apply: Callable[[Session, Conversation], str | None] | None = None


class Responder(Protocol):
    def decide(self, ctx: TurnContext) -> TurnResult: ...


class FixedTextResponder:
    """Replies with the channel's configured text, or stays silent when none is set."""

    def decide(self, ctx: TurnContext) -> TurnResult:
        text = ctx.channel_settings.auto_reply_text
        return TurnResult(replies=[Reply(text=text)] if text else [], route=TurnRoute.fixed if text else None)


def get_responder(ctx: TurnContext) -> Responder:
    """The agent when the conversation has one (named in runtime/wiring.py: the pipeline imports no
    feature), else the channel's fixed auto-reply."""
    if ctx.agent_id is not None:
        return resolve(wiring.AGENT_RESPONDER)()
    return FixedTextResponder()
