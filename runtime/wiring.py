"""The one list of reactions: who reacts to what, and how. Read this to follow a conversation's
flow; tests/test_architecture.py asserts it, so a change here is a visible change.

IN_TRANSACTION subscribers run inside the publisher's transaction (their effect commits with the
cause); AFTER_COMMIT ones run from the job queue once it committed (runtime/events/bus.py).
Subscribers are "module:function" strings, imported when first used: publishers import no
feature. One reaction per function, named <effect>_when_<event>."""

from __future__ import annotations

from runtime.events.types import (
    ConversationClosed,
    ConversationTakenOver,
    Event,
    LeadWrote,
    OutboundQueued,
)

IN_TRANSACTION: dict[type[Event], tuple[str, ...]] = {
    # A lead's message stops the pending follow-up and counts the sent ones as answered.
    LeadWrote: ("runtime.followups.reactions:stop_cadence_when_lead_wrote",),
    OutboundQueued: (
        # Our reply starts the lead's silence: the next follow-up step is scheduled.
        "runtime.followups.reactions:schedule_step_when_outbound_queued",
        # A seller's text answering the agent's handoff question is learned; the bot resumes.
        "runtime.agent.reactions:learn_answer_when_seller_answers_handoff",
    ),
    ConversationTakenOver: ("runtime.followups.reactions:cancel_cadence_when_taken_over",),
    ConversationClosed: ("runtime.followups.reactions:cancel_cadence_when_closed",),
}

# Reactions that may run after the cause committed (CRM sync, audits and usage metering will
# subscribe here). Delivered through the job queue: at least once, so idempotent.
AFTER_COMMIT: dict[type[Event], tuple[str, ...]] = {}

# Who decides a turn's reply when the conversation has an agent (runtime/pipeline/responder.py).
AGENT_RESPONDER = "runtime.agent.responder:AgentResponder"
