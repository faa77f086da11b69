"""Domain events: facts about conversations (ids only), published by the pipeline and the
conversation service, reacted to by the features listed in runtime/wiring.py."""

from .bus import publish
from .types import (
    ConversationClosed,
    ConversationReleased,
    ConversationTakenOver,
    Event,
    HandoffRequested,
    LeadStageChanged,
    LeadUpdated,
    LeadWrote,
    MessageStatusChanged,
    OutboundQueued,
    TurnFinished,
)

__all__ = [
    "ConversationClosed",
    "ConversationReleased",
    "ConversationTakenOver",
    "Event",
    "HandoffRequested",
    "LeadStageChanged",
    "LeadUpdated",
    "LeadWrote",
    "MessageStatusChanged",
    "OutboundQueued",
    "TurnFinished",
    "publish",
]
