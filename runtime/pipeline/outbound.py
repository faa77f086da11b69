"""Outbound messages: stored as 'queued' with their send job in one transaction, then sent by one
worker (an atomic claim), retried with exponential backoff on temporary failures, and left
'failed' with the provider's error when retries run out."""

from __future__ import annotations

import base64
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from db.models import Author, Channel, Contact, Conversation, Direction, Message, MessageStatus, utcnow
from db.tenancy import tenant_session
from runtime.channels.base import MessageKind, OutboundMedia, OutboundMessage, SendError, Template
from runtime.channels.registry import adapter_class, build_adapter, channel_config, http_client
from runtime.config import get_settings
from runtime.jobs import get_queue, job

log = logging.getLogger(__name__)

SEND_JOB = "channels.send_message"
SERVICE_WINDOW = timedelta(hours=24)


class OutsideServiceWindow(Exception):
    """WhatsApp allows free-form messages only within 24 h of the lead's last message."""

    def __init__(self, last_inbound_at: datetime | None) -> None:
        since = f"the lead last wrote at {last_inbound_at.isoformat()}" if last_inbound_at else "the lead never wrote"
        super().__init__(
            f"outside WhatsApp's 24-hour customer-service window ({since}): only an approved template can be sent"
        )


class ChannelUnavailable(Exception):
    pass


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
    from runtime.followups.service import schedule_after_outbound  # here: followups imports this module

    schedule_after_outbound(session, conversation, message)  # our reply: the lead's silence starts the cadence
    return message


def requeue_failed(session: Session, message: Message) -> Message:
    """Send a failed outbound message again (the seller's "tentar de novo"), as a new send job."""
    if message.direction != Direction.outbound or message.status != MessageStatus.failed:
        raise ValueError("only a failed outbound message can be sent again")
    message.status, message.error = MessageStatus.queued, None
    session.add(message)
    session.flush()
    get_queue().enqueue_in(session, SEND_JOB, {"workspace_id": message.workspace_id, "message_id": message.id})
    return message


# One worker claims a queued message. A claim older than RECLAIM_AFTER means the worker died
# mid-send (the job queue re-delivers a job whose worker stopped beating): it may be claimed again,
# so the lead is not left in silence.
RECLAIM_AFTER = "5 minutes"
_CLAIM = text(f"""
UPDATE message SET status = 'sending', attempts = attempts + 1,
       details = details || jsonb_build_object('claimed_at', now())
WHERE id = :id AND (
  status = 'queued'
  OR (status = 'sending' AND (details->>'claimed_at')::timestamptz < now() - interval '{RECLAIM_AFTER}')
)
RETURNING id
""")


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


async def send_queued(workspace_id: uuid.UUID, message_id: uuid.UUID) -> MessageStatus | None:
    """Send one queued message. Returns its final status, or None if another run owns it."""
    import asyncio

    def claim() -> tuple[OutboundMessage, Any] | None:
        with tenant_session(workspace_id) as s:
            if s.execute(_CLAIM, {"id": message_id}).scalar_one_or_none() is None:
                return None  # sent already, or being sent by another worker: never twice
            message = s.get(Message, message_id)
            conversation = s.get(Conversation, message.conversation_id)
            contact = s.get(Contact, conversation.contact_id)
            channel = s.get(Channel, message.channel_id)
            s.commit()
            config = channel_config(channel.id, channel.provider, channel.credentials_encrypted, channel.api_base_url)
            return _outbound(message, contact), config

    claimed = await asyncio.to_thread(claim)
    if claimed is None:
        return None
    outbound, config = claimed
    settings = get_settings()
    error: str | None = None
    provider_id: str | None = None
    attempts = 0
    async with http_client() as http:
        adapter = build_adapter(config, http)
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(settings.send_max_attempts),
                wait=wait_exponential(multiplier=settings.send_retry_base_seconds, max=60),
                retry=retry_if_exception(lambda e: isinstance(e, SendError) and e.retryable),
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    provider_id = (await adapter.send(outbound)).provider_message_id
        except SendError as exc:
            error = exc.detail
        except Exception as exc:  # a bug in an adapter must not leave the message 'sending' forever
            log.exception("send crashed message=%s", message_id)
            error = f"internal error: {type(exc).__name__}"

    def finish() -> MessageStatus:
        with tenant_session(workspace_id) as s:
            message = s.get(Message, message_id)
            message.attempts += attempts - 1  # the claim counted the first attempt
            if error is None:
                message.status, message.provider_message_id, message.error = MessageStatus.sent, provider_id, None
                message.sent_at = utcnow()
            else:
                message.status, message.error = MessageStatus.failed, error[:2000]
                log.warning("send failed message=%s after %d attempt(s): %s", message_id, attempts, error[:200])
            s.add(message)
            channel = s.get(Channel, message.channel_id)
            channel.last_error = None if error is None else f"send failed: {error[:500]}"
            s.add(channel)
            s.commit()
            return message.status

    return await asyncio.to_thread(finish)


@job(SEND_JOB)
async def send_message(payload: dict) -> None:
    await send_queued(uuid.UUID(payload["workspace_id"]), uuid.UUID(payload["message_id"]))
