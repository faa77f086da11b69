"""Outbound messages: stored as 'queued' with their send job in one transaction, then sent by one
worker (a leased claim), retried with backoff only when the provider provably never got the
request, left 'failed' with the provider's error when it refused or retries ran out, and 'unknown'
when it may have the message (a timeout after the request went out): never sent twice."""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential

from db.models import Author, Channel, Contact, Conversation, Direction, Message, MessageStatus, utcnow
from db.tenancy import tenant_session
from runtime.channels.base import MessageKind, OutboundMedia, OutboundMessage, SendError, SendFailure, Template
from runtime.channels.registry import adapter_class, build_adapter, channel_config, http_client
from runtime.config import get_settings
from runtime.events import MessageStatusChanged, OutboundQueued, publish
from runtime.jobs import Lane, get_queue, job
from runtime.jobs.lease import WORKER_ID, Lease, LeaseHeld, lease_seconds
from runtime.jobs.names import SEND_MESSAGE as SEND_JOB
from runtime.jobs.names import SWEEP_SENDS

from .ids import provider_id as stored_id

log = logging.getLogger(__name__)

SERVICE_WINDOW = timedelta(hours=24)


class SendRefused(Exception):
    """A message that may not be queued at all (the one send path's vetoes: the 24-hour window, a
    missing or inactive channel, and the plan limits to come). Callers catch this one class."""


class OutsideServiceWindow(SendRefused):
    """WhatsApp allows free-form messages only within 24 h of the lead's last message."""

    def __init__(self, last_inbound_at: datetime | None) -> None:
        since = f"the lead last wrote at {last_inbound_at.isoformat()}" if last_inbound_at else "the lead never wrote"
        super().__init__(
            f"outside WhatsApp's 24-hour customer-service window ({since}): only an approved template can be sent"
        )


class ChannelUnavailable(SendRefused):
    """The conversation's channel is missing or inactive."""


def window_open(conversation: Conversation, now: datetime | None = None) -> bool:
    last = conversation.last_inbound_at
    return last is not None and (now or utcnow()) - last < SERVICE_WINDOW


def queue_message(
    session: Session,
    conversation: Conversation,
    *,
    kind: MessageKind = MessageKind.text,
    text: str = "",
    media: OutboundMedia | None = None,
    template: Template | None = None,
    details: dict[str, Any] | None = None,
    author: Author = Author.agent,
    author_user_id: uuid.UUID | None = None,
) -> Message:
    """Store an outbound message and its send job in the caller's transaction."""
    channel = session.get(Channel, conversation.channel_id) if conversation.channel_id else None
    if channel is None or not channel.is_active:
        raise ChannelUnavailable("the conversation's channel is missing or inactive")
    if kind == MessageKind.template and template is None:
        raise ValueError("a template message needs a template")
    needs_window = kind != MessageKind.template and adapter_class(channel.provider).has_service_window
    if needs_window and not window_open(conversation):
        raise OutsideServiceWindow(conversation.last_inbound_at)
    info = dict(details or {})
    if template is not None:
        info["template"] = {"name": template.name, "language": template.language, "variables": template.variables}
    stored_media: dict[str, Any] = {}
    if media is not None:
        stored_media = {"mime_type": media.mime_type, "url": media.url, "filename": media.filename}
        if media.data is not None:  # small outbound files travel with the message (media storage comes later)
            stored_media["data_b64"] = base64.b64encode(media.data).decode()
    message = Message(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction=Direction.outbound,
        author=author,
        author_user_id=author_user_id,
        kind=kind.value,
        text=text,
        media={k: v for k, v in stored_media.items() if v is not None},
        details=info,
        status=MessageStatus.queued,
    )
    session.add(message)
    conversation.last_message_at = utcnow()
    session.add(conversation)
    session.flush()
    get_queue().enqueue_in(session, SEND_JOB, {"workspace_id": conversation.workspace_id, "message_id": message.id})
    publish(session, OutboundQueued(conversation.workspace_id, conversation.id, message.id))
    return message


RESENDABLE = frozenset({MessageStatus.failed, MessageStatus.unknown})


def requeue_failed(session: Session, message: Message) -> Message:
    """Send a failed or unconfirmed outbound message again (the seller's "tentar de novo"), as a new
    send job. For an unconfirmed one the seller decides: it may already have reached the lead."""
    if message.direction != Direction.outbound or message.status not in RESENDABLE:
        raise ValueError("only a failed or unconfirmed outbound message can be sent again")
    message.status, message.error, message.in_flight = MessageStatus.queued, None, False
    session.add(message)
    session.flush()
    get_queue().enqueue_in(session, SEND_JOB, {"workspace_id": message.workspace_id, "message_id": message.id})
    return message


# A send is leased (runtime.jobs.lease): one worker claims a queued message, or takes over a claim
# whose lease ended (its worker died) if no request to the provider was under way then. A claim
# that ended mid-request is settled 'unknown' instead: the provider may have taken the message and
# a second request could reach the lead twice; the seller sees it and decides.
_CLAIM = text("""
UPDATE message SET status = 'sending', attempts = attempts + 1, in_flight = true,
       lease_owner = :me, lease_expires_at = now() + make_interval(secs => :secs)
WHERE id = :id AND (
  status = 'queued'
  OR (status = 'sending' AND NOT in_flight AND (lease_expires_at IS NULL OR lease_expires_at <= now()))
)
RETURNING id
""")
_SETTLE_ABANDONED = text("""
UPDATE message SET status = 'unknown', in_flight = false, lease_owner = NULL, lease_expires_at = NULL,
       error = :error
WHERE id = :id AND status = 'sending' AND in_flight AND (lease_expires_at IS NULL OR lease_expires_at <= now())
RETURNING id
""")
_SEND_STATE = text("""
SELECT status, GREATEST(EXTRACT(EPOCH FROM lease_expires_at - now()), 0) AS left_s FROM message WHERE id = :id
""")
_IN_FLIGHT = text("UPDATE message SET in_flight = :f WHERE id = :id AND lease_owner = :me")
ABANDONED_MID_SEND = "the worker stopped while the provider had the request: it may have reached the lead"


def _outbound(message: Message, contact: Contact) -> OutboundMessage:
    media = None
    if message.media:
        data = message.media.get("data_b64")
        media = OutboundMedia(
            mime_type=message.media.get("mime_type", "application/octet-stream"),
            url=message.media.get("url"),
            data=base64.b64decode(data) if data else None,
            filename=message.media.get("filename"),
        )
    template = None
    if "template" in message.details:
        t = message.details["template"]
        template = Template(name=t["name"], language=t.get("language", "pt_BR"), variables=list(t.get("variables", [])))
    return OutboundMessage(
        to_phone=contact.phone, kind=MessageKind(message.kind), text=message.text, media=media, template=template
    )


def _claim(workspace_id: uuid.UUID, message_id: uuid.UUID) -> tuple[OutboundMessage, Any] | None:
    """The message to send and its channel's config, or None when there is nothing to send (sent,
    failed, settled). Raises LeaseHeld while another live worker is sending it."""
    with tenant_session(workspace_id) as s:
        claimed = s.execute(_CLAIM, {"id": message_id, "me": WORKER_ID, "secs": lease_seconds()}).first()
        if claimed is None:
            if s.execute(_SETTLE_ABANDONED, {"id": message_id, "error": ABANDONED_MID_SEND}).first() is not None:
                publish(s, MessageStatusChanged(workspace_id, message_id))
                s.commit()
                log.warning("send taken over mid-request message=%s: left unknown, not sent again", message_id)
                return None
            state = s.execute(_SEND_STATE, {"id": message_id}).first()
            s.rollback()
            if state is not None and state.status == MessageStatus.sending.value:
                raise LeaseHeld(float(state.left_s) + 0.5, "send")
            return None  # sent already, or settled: never twice
        message = s.get(Message, message_id)
        conversation = s.get(Conversation, message.conversation_id)
        contact = s.get(Contact, conversation.contact_id)
        channel = s.get(Channel, message.channel_id)
        s.commit()
        config = channel_config(channel.id, channel.provider, channel.credentials_encrypted, channel.api_base_url)
        return _outbound(message, contact), config


def _mark_in_flight(workspace_id: uuid.UUID, message_id: uuid.UUID, in_flight: bool) -> None:
    with tenant_session(workspace_id) as s:
        s.execute(_IN_FLIGHT, {"id": message_id, "me": WORKER_ID, "f": in_flight})
        s.commit()


def _wait(state: RetryCallState) -> float:
    """Exponential backoff, or the provider's Retry-After when it gave one (capped at a minute)."""
    exc = state.outcome.exception() if state.outcome else None
    after = getattr(exc, "retry_after", None)
    if after is not None:
        return min(float(after), 60.0)
    return wait_exponential(multiplier=get_settings().send_retry_base_seconds, max=60)(state)


async def send_queued(workspace_id: uuid.UUID, message_id: uuid.UUID) -> MessageStatus | None:
    """Send one queued message. Returns its final status, or None if there was nothing to send.

    Only failures that provably never reached the provider are retried (SendFailure.retry); while
    waiting between attempts the message is not in flight, so a worker dying then is taken over
    and the message still goes out once. Raises LeaseHeld while another live worker sends it."""
    claimed = await asyncio.to_thread(_claim, workspace_id, message_id)
    if claimed is None:
        return None
    outbound, config = claimed
    settings = get_settings()
    error: str | None = None
    failure: SendFailure | None = None
    provider_id: str | None = None
    attempts = 0

    async def before(state: RetryCallState) -> None:
        if state.attempt_number > 1:  # the claim marked the first attempt
            await asyncio.to_thread(_mark_in_flight, workspace_id, message_id, True)

    async def before_sleep(_: RetryCallState) -> None:
        await asyncio.to_thread(_mark_in_flight, workspace_id, message_id, False)

    lease = Lease("message", workspace_id, message_id)
    with lease.held():
        async with http_client() as http:
            adapter = build_adapter(config, http)
            try:
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(settings.send_max_attempts),
                    wait=_wait,
                    retry=retry_if_exception(lambda e: isinstance(e, SendError) and e.retryable),
                    before=before,
                    before_sleep=before_sleep,
                    reraise=True,
                ):
                    with attempt:
                        attempts += 1
                        provider_id = (await adapter.send(outbound)).provider_message_id
            except SendError as exc:
                error, failure = exc.detail, exc.failure
            except Exception as exc:  # a bug in an adapter: whether the provider got it is unknown
                log.exception("send crashed message=%s", message_id)
                error, failure = f"internal error: {type(exc).__name__}", SendFailure.unknown

    def finish() -> MessageStatus | None:
        with tenant_session(workspace_id) as s:
            message = s.get(Message, message_id, with_for_update=True)
            if error is None:
                # Sent: true whoever holds the lease now (a taker-over may have marked it unknown).
                if message.status not in (MessageStatus.sending, MessageStatus.unknown):
                    return message.status
                message.status, message.error = MessageStatus.sent, None
                message.provider_message_id = stored_id(provider_id) if provider_id else None
                message.sent_at = utcnow()
            else:
                if message.lease_owner != WORKER_ID or message.status != MessageStatus.sending:
                    return None  # taken over while we tried: the new owner settles it
                unknown = failure is SendFailure.unknown
                message.status = MessageStatus.unknown if unknown else MessageStatus.failed
                message.error = error[:2000]
                log.warning(
                    "send %s message=%s after %d attempt(s): %s",
                    "unknown" if unknown else "failed",
                    message_id,
                    attempts,
                    error[:200],
                )
            message.attempts += max(attempts - 1, 0)  # the claim counted the first attempt
            message.in_flight, message.lease_owner, message.lease_expires_at = False, None, None
            s.add(message)
            channel = s.get(Channel, message.channel_id)
            channel.last_error = None if error is None else f"send failed: {error[:500]}"
            s.add(channel)
            publish(s, MessageStatusChanged(workspace_id, message_id))
            s.commit()
            return message.status

    return await asyncio.to_thread(finish)


def settle_stale_send(workspace_id: uuid.UUID, message_id: uuid.UUID) -> MessageStatus | None:
    """A send whose lease ended long ago and whose job is gone (held as failed after its attempts):
    mid-request -> unknown; else queued again with a new job. The maintenance sweep calls it."""
    with tenant_session(workspace_id) as s:
        if s.execute(_SETTLE_ABANDONED, {"id": message_id, "error": ABANDONED_MID_SEND}).first() is not None:
            publish(s, MessageStatusChanged(workspace_id, message_id))
            s.commit()
            return MessageStatus.unknown
        message = s.get(Message, message_id, with_for_update=True)
        if message is None or message.status != MessageStatus.sending or message.in_flight:
            return None
        if message.lease_expires_at is not None and message.lease_expires_at > utcnow():
            return None
        message.status, message.lease_owner, message.lease_expires_at = MessageStatus.queued, None, None
        s.add(message)
        s.flush()
        get_queue().enqueue_in(s, SEND_JOB, {"workspace_id": workspace_id, "message_id": message_id})
        s.commit()
        return MessageStatus.queued


@job(SEND_JOB, lane=Lane.interactive)
async def send_message(payload: dict) -> None:
    await send_queued(uuid.UUID(payload["workspace_id"]), uuid.UUID(payload["message_id"]))


# A send still 'sending' this long after its lease ended lost its job (held as failed after its
# attempts, or the queue's row was removed by hand): the sweep settles it so none stays 'sending'.
SWEEP_AFTER_SECONDS = 300
SWEEP_BATCH = 500


@job(SWEEP_SENDS)
def sweep_stale_sends(payload: dict) -> None:
    """Run periodically by the worker; settling is idempotent, so a duplicate run is harmless."""
    with tenant_session(None) as s:  # all workspaces: through a SECURITY DEFINER function (ids only)
        rows = s.execute(
            text("SELECT workspace_id, id FROM app_stale_sends(CAST(:older AS interval), :n)"),
            {"older": f"{int(payload.get('older_seconds', SWEEP_AFTER_SECONDS))} seconds", "n": SWEEP_BATCH},
        ).all()
    settled = [settle_stale_send(workspace_id, message_id) for workspace_id, message_id in rows]
    if rows:
        log.warning(
            "pipeline.sweep_sends: %d unknown, %d queued again",
            settled.count(MessageStatus.unknown),
            settled.count(MessageStatus.queued),
        )
