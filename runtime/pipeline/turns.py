"""The debounced turn: each stored lead message schedules a turn job `debounce_seconds` later; only
the job of the burst's latest message goes on, and a UNIQUE trigger makes it reply at most once.

Three steps: claim the turn and read its context (one transaction), decide the reply (no
transaction: the agent may call a model for seconds), apply it (one transaction). The claim is a
lease (runtime.jobs.lease): while the worker lives it renews it; if the worker dies mid-decision,
the job delivered again takes the turn over once the lease ends, and only the lease's owner may
apply, so the lead is answered exactly once."""

from __future__ import annotations

import contextlib
import json
import logging
import uuid

from sqlalchemy import text
from sqlmodel import select

from db.models import (
    Agent,
    AgentMode,
    Author,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    Suggestion,
    TurnOutcome,
)
from db.tenancy import tenant_session
from runtime.channels.service import ChannelSettings
from runtime.events import TurnFinished, publish
from runtime.jobs import Lane, job
from runtime.jobs.lease import WORKER_ID, Lease, LeaseHeld, lease_seconds
from runtime.jobs.names import PROCESS_TURN
from runtime.jobs.threads import run_blocking
from runtime.pgtext import pg_json

from .outbound import ChannelUnavailable, OutsideServiceWindow, queue_message
from .responder import LeadMessage, TurnContext, TurnResult, get_responder

log = logging.getLogger(__name__)


_LATEST_INBOUND = text("""
SELECT id FROM message WHERE conversation_id = :c AND direction = 'inbound'
ORDER BY created_at DESC, id DESC LIMIT 1
""")
# A new turn, or a pending one whose lease ended (its worker died): ours until the lease ends.
_CLAIM_TURN = text("""
INSERT INTO conversation_turn AS t (id, workspace_id, conversation_id, trigger_message_id, outcome, details,
                                    created_at, lease_owner, lease_expires_at)
VALUES (:id, :ws, :c, :m, 'pending', '{}'::jsonb, now(), :me, now() + make_interval(secs => :secs))
ON CONFLICT (trigger_message_id) DO UPDATE
  SET lease_owner = EXCLUDED.lease_owner, lease_expires_at = EXCLUDED.lease_expires_at
  WHERE t.outcome = 'pending' AND (t.lease_expires_at IS NULL OR t.lease_expires_at <= now())
RETURNING id
""")
_TURN_STATE = text("""
SELECT outcome, GREATEST(EXTRACT(EPOCH FROM lease_expires_at - now()), 0) AS left_s
FROM conversation_turn WHERE trigger_message_id = :m
""")
# The final write of a turn: only while this worker still holds its lease (fencing).
_OWN_TURN = text("""
SELECT id FROM conversation_turn WHERE id = :id AND outcome = 'pending' AND lease_owner = :me FOR UPDATE
""")
_PREVIOUS_TRIGGER_AT = text("""
SELECT max(m.created_at) FROM conversation_turn t JOIN message m ON m.id = t.trigger_message_id
WHERE t.conversation_id = :c AND t.id <> :turn AND t.outcome <> :abandoned
""")
# An earlier turn whose worker died and whose burst a later message continued: this turn answers
# its messages too.
_ABANDON_EARLIER = text("""
UPDATE conversation_turn SET outcome = :abandoned, lease_owner = NULL
WHERE conversation_id = :c AND id <> :turn AND outcome = 'pending' AND lease_expires_at <= now()
""")


def effective_mode(conversation: Conversation, agent: Agent | None) -> str:
    if conversation.mode_override is not None:
        return conversation.mode_override.value
    return agent.mode.value if agent is not None else AgentMode.pilot.value


def _claim(workspace_id: uuid.UUID, conversation_id: uuid.UUID, message_id: uuid.UUID):
    """-> (turn_id, TurnContext) to decide, (turn_id, outcome) already settled, or (None, reason)."""
    with tenant_session(workspace_id) as s:
        latest = s.execute(_LATEST_INBOUND, {"c": conversation_id}).scalar_one_or_none()
        if latest != message_id:
            return None, TurnOutcome.superseded  # a later message of the same burst has its own, later job
        turn_id = s.execute(
            _CLAIM_TURN,
            {
                "id": uuid.uuid4(),
                "ws": workspace_id,
                "c": conversation_id,
                "m": message_id,
                "me": WORKER_ID,
                "secs": lease_seconds(),
            },
        ).scalar_one_or_none()
        if turn_id is None:
            state = s.execute(_TURN_STATE, {"m": message_id}).one()
            s.rollback()
            if state.outcome == TurnOutcome.pending:  # a live worker is on it: come back when its lease may end
                raise LeaseHeld(float(state.left_s) + 0.5, "turn")
            return None, TurnOutcome.duplicate  # this job was delivered twice; the turn is settled
        conversation = s.get(Conversation, conversation_id)
        channel = s.get(Channel, conversation.channel_id) if conversation.channel_id else None
        contact = s.get(Contact, conversation.contact_id)
        agent_id = conversation.agent_id or (channel.agent_id if channel else None)
        agent = s.get(Agent, agent_id) if agent_id else None
        mode = effective_mode(conversation, agent)
        skip = _skip_reason(conversation, channel, contact, mode)
        if skip is not None:
            _finish(s, turn_id, skip)
            s.commit()
            return turn_id, skip
        s.execute(_ABANDON_EARLIER, {"c": conversation_id, "turn": turn_id, "abandoned": TurnOutcome.abandoned})
        since = s.execute(
            _PREVIOUS_TRIGGER_AT, {"c": conversation_id, "turn": turn_id, "abandoned": TurnOutcome.abandoned}
        ).scalar()
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
            messages=[LeadMessage(id=m.id, kind=m.kind, text=m.text, details=dict(m.details)) for m in burst],
            channel_settings=ChannelSettings.from_config(channel.config),
            agent_id=agent.id if agent is not None and agent.mode != AgentMode.off else None,
            mode=mode,
        )
        s.commit()
        return turn_id, ctx


def _skip_reason(conversation: Conversation, channel: Channel | None, contact: Contact, mode: str) -> str | None:
    if channel is None or not channel.is_active:
        return TurnOutcome.skipped_channel_inactive
    if conversation.status != ConversationStatus.open:
        return TurnOutcome.skipped_conversation_closed
    if mode == AgentMode.off.value:
        return TurnOutcome.skipped_bot_paused
    if conversation.handoff_requested_at is not None:
        return TurnOutcome.skipped_waiting_for_human
    if contact.opted_out_at is not None:
        return TurnOutcome.skipped_opted_out
    return None


def _finish(s, turn_id: uuid.UUID, outcome: str, route: str | None = None, details: dict | None = None) -> None:
    settled = s.execute(
        text(
            "UPDATE conversation_turn SET outcome = :o, route = :r, details = CAST(:d AS jsonb), "
            "lease_owner = NULL, lease_expires_at = NULL WHERE id = :id RETURNING workspace_id, conversation_id"
        ),
        {"o": outcome[:60], "r": route, "d": json.dumps(pg_json(details or {}), default=str), "id": turn_id},
    ).one()
    record_usage(s, turn_id, details or {})
    publish(s, TurnFinished(settled.workspace_id, settled.conversation_id, turn_id))


def record_usage(s, turn_id: uuid.UUID, details: dict) -> None:
    """The turn's model tokens as a llm_usage row (what the Painel sums for the estimated cost)."""
    tokens = details.get("tokens") or {}
    tokens_in, tokens_out = int(tokens.get("input") or 0), int(tokens.get("output") or 0)
    if tokens_in + tokens_out <= 0:
        return
    s.execute(
        text(
            "INSERT INTO llm_usage (turn_id, workspace_id, conversation_id, model, input_tokens, output_tokens, "
            "created_at) SELECT id, workspace_id, conversation_id, :m, :i, :o, created_at FROM conversation_turn "
            "WHERE id = :id ON CONFLICT (turn_id) DO UPDATE SET model = EXCLUDED.model, "
            "input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens"
        ),
        {"m": str(details.get("model") or "")[:160], "i": tokens_in, "o": tokens_out, "id": turn_id},
    )


def _apply(workspace_id: uuid.UUID, turn_id: uuid.UUID, ctx: TurnContext, result: TurnResult) -> str:
    with tenant_session(workspace_id) as s:
        if s.execute(_OWN_TURN, {"id": turn_id, "me": WORKER_ID}).first() is None:
            return TurnOutcome.lease_lost  # taken over while we decided (we were presumed dead): theirs to apply
        conversation = s.get(Conversation, ctx.conversation_id)
        outcome = None
        if result.apply is not None:
            outcome = result.apply(s, conversation)
        if outcome is None:
            if ctx.mode == AgentMode.copilot.value and result.replies:
                draft = "\n\n".join(r.text for r in result.replies if r.text)
                s.add(
                    Suggestion(
                        workspace_id=workspace_id,
                        conversation_id=conversation.id,
                        turn_id=turn_id,
                        draft=draft,
                        next_step=result.details.get("next_step", ""),
                        details=result.details,
                    )
                )
                outcome = TurnOutcome.suggested
            else:
                try:
                    for reply in result.replies:
                        queue_message(
                            s,
                            conversation,
                            kind=reply.kind,
                            text=reply.text,
                            media=reply.media,
                            template=reply.template,
                            details={**reply.details, **_turn_summary(result)},
                            author=Author.agent,
                        )
                    outcome = TurnOutcome.replied if result.replies else TurnOutcome.no_reply
                except OutsideServiceWindow:
                    outcome = TurnOutcome.skipped_outside_window
                except ChannelUnavailable:
                    outcome = TurnOutcome.skipped_channel_inactive
        _finish(s, turn_id, outcome, result.route, result.details)
        s.commit()
        return outcome


def _turn_summary(result: TurnResult) -> dict:
    keep = ("route", "intent", "lead_type", "confidence", "sources", "tokens", "model")
    return {k: result.details[k] for k in keep if k in result.details}


def _agent_language(ctx: TurnContext) -> str | None:
    """ "pt-BR" -> "pt": the agent's language as the speech-to-text hint."""
    if ctx.agent_id is None:
        return None
    with tenant_session(ctx.workspace_id) as s:
        agent = s.get(Agent, ctx.agent_id)
        lang = (agent.config or {}).get("language") if agent else None
    return lang.split("-")[0].lower() if lang else None


def _with_media(ctx: TurnContext) -> TurnContext:
    """Voice notes, images and documents of the burst become text first (outside any transaction)."""
    from dataclasses import replace

    from runtime.media.understand import MEDIA_KINDS, understand_message

    pending = [m.id for m in ctx.messages if m.kind in MEDIA_KINDS and not m.details.get("understood")]
    if not pending:
        return ctx
    language = _agent_language(ctx)
    for message_id in pending:
        try:
            understand_message(ctx.workspace_id, message_id, language)
        except Exception:  # one bad file must not cost the lead an answer
            log.exception("media understanding crashed message=%s", message_id)
    with tenant_session(ctx.workspace_id) as s:
        fresh = {m.id: m for m in s.exec(select(Message).where(Message.id.in_([m.id for m in ctx.messages])))}
        messages = [
            LeadMessage(
                id=m.id,
                kind=m.kind,
                text=m.text,
                details={
                    **m.details,
                    "media_status": (fresh[m.id].media or {}).get("status"),
                    "media_error": (fresh[m.id].media or {}).get("error"),
                    **fresh[m.id].details,
                },
            )
            for m in ctx.messages
        ]
    return replace(ctx, messages=messages)


def run_turn(workspace_id: uuid.UUID, conversation_id: uuid.UUID, message_id: uuid.UUID) -> str:
    """Decide and queue the reply for one burst. Returns the outcome (also stored on the turn).

    Raises LeaseHeld when another live worker is deciding this turn (the job comes back later)."""
    turn_id, claimed = _claim(workspace_id, conversation_id, message_id)
    if not isinstance(claimed, TurnContext):
        return claimed
    lease = Lease("conversation_turn", workspace_id, turn_id)
    with lease.held():
        try:
            ctx = _with_media(claimed)
            try:
                result = get_responder(ctx).decide(ctx)
            except Exception:
                log.exception("turn decision crashed conversation=%s", conversation_id)
                with tenant_session(workspace_id) as s:
                    if s.execute(_OWN_TURN, {"id": turn_id, "me": WORKER_ID}).first() is None:
                        return TurnOutcome.lease_lost
                    _finish(s, turn_id, TurnOutcome.failed_internal)
                    s.commit()
                return TurnOutcome.failed_internal
            outcome = _apply(workspace_id, turn_id, ctx, result)
        except BaseException:
            # The database went away, or the worker is stopping: hand the turn back at once so the
            # job's next delivery (a retry) need not wait for the lease to run out.
            with contextlib.suppress(Exception):
                lease.release()
            raise
    log.info("turn conversation=%s outcome=%s route=%s", conversation_id, outcome, result.route)
    return outcome


@job(PROCESS_TURN, lane=Lane.interactive)
async def process_turn(payload: dict) -> None:
    await run_blocking(
        run_turn,
        uuid.UUID(payload["workspace_id"]),
        uuid.UUID(payload["conversation_id"]),
        uuid.UUID(payload["message_id"]),
    )
