"""SQLModel tables. Every tenant table carries workspace_id and is guarded by RLS (db.tenancy)."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Enum, Index, LargeBinary, UniqueConstraint, text
from sqlalchemy import text as sa_text  # "text" is also a Message column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False, **kw: Any) -> Any:
    if nullable:
        return Field(default=None, sa_type=DateTime(timezone=True), **kw)
    return Field(
        default_factory=utcnow,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("now()")},
        nullable=False,
        **kw,
    )


def _enum(e: type[enum.Enum], default: enum.Enum) -> Any:
    return Field(
        default=default,
        sa_type=Enum(e, native_enum=False, length=20, values_callable=lambda x: [m.value for m in x]),
        nullable=False,
    )


def _json() -> Any:
    return Field(
        default_factory=dict,
        sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )


def _workspace_fk() -> Any:
    return Field(foreign_key="workspace.id", index=True, nullable=False, ondelete="CASCADE")


class Role(enum.StrEnum):
    owner = "owner"
    admin = "admin"
    seller = "seller"


class AgentMode(enum.StrEnum):
    pilot = "pilot"
    copilot = "copilot"
    off = "off"


class Provider(enum.StrEnum):
    cloud_api = "cloud_api"  # Meta WhatsApp Cloud API (official)
    evolution = "evolution"
    zapi = "zapi"
    twilio = "twilio"
    widget = "widget"


class ConversationStatus(enum.StrEnum):
    open = "open"
    closed = "closed"


class Direction(enum.StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class Author(enum.StrEnum):
    lead = "lead"
    agent = "agent"
    seller = "seller"
    system = "system"


class MessageStatus(enum.StrEnum):
    received = "received"
    queued = "queued"
    sending = "sending"  # claimed by one worker: no second worker sends it
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"  # the provider refused it, or it provably never reached the provider
    unknown = "unknown"  # the provider may have it (a timeout after the request went out): not re-sent


# --- global (not tenant) tables -------------------------------------------------------


class Workspace(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=120)
    timezone: str = Field(default="America/Sao_Paulo", max_length=64)
    created_at: datetime = _ts()


class User(SQLModel, table=True):
    """A person; may belong to several workspaces through Membership."""

    __tablename__ = "app_user"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)  # stored lower-case
    name: str = Field(default="", max_length=120)
    password_hash: str | None = None  # None for Google-only accounts
    google_sub: str | None = Field(default=None, unique=True, max_length=255)
    # When the person proved they receive mail at `email` (a link we e-mailed, or Google saying so).
    # Until then a Google sign-in with this address takes the account over instead of joining it.
    email_verified_at: datetime | None = _ts(nullable=True)
    is_active: bool = True
    created_at: datetime = _ts()
    last_login_at: datetime | None = _ts(nullable=True)


class UserSession(SQLModel, table=True):
    """Server-side session behind the HttpOnly cookie; only the token's hash is stored."""

    __tablename__ = "user_session"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: uuid.UUID = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE")
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)


class LoginAttempt(SQLModel, table=True):
    """Kept in PostgreSQL so rate limits hold across web instances."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_email_at", "email", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    ip: str = Field(max_length=64, index=True)
    email: str = Field(max_length=320)
    success: bool
    created_at: datetime = _ts(index=True)


class PasswordReset(SQLModel, table=True):
    """A one-use link to set a new password: asked for by e-mail, or made by a manager for a member.
    Only the token's hash is stored."""

    __tablename__ = "password_reset"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    used_at: datetime | None = _ts(nullable=True)
    created_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    # A manager's link: the workspace it was made in. It works only while the person belongs to no
    # other workspace (checked when it is made and when it is used). None for links asked by e-mail.
    workspace_id: uuid.UUID | None = Field(default=None, foreign_key="workspace.id", ondelete="CASCADE")


class EmailVerification(SQLModel, table=True):
    """A one-use link, e-mailed to `email`, that proves its owner reads that mailbox. Only the
    token's hash is stored."""

    __tablename__ = "email_verification"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=320)  # the address it was sent to (the account's at the time)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    used_at: datetime | None = _ts(nullable=True)


# --- tenant tables (workspace_id + RLS) ---------------------------------------------


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    user_id: uuid.UUID = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    role: Role = _enum(Role, Role.seller)
    is_active: bool = True
    created_at: datetime = _ts()


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=16)  # shown in the panel to tell keys apart
    key_hash: str = Field(max_length=64, unique=True)
    created_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    created_at: datetime = _ts()
    last_used_at: datetime | None = _ts(nullable=True)
    revoked_at: datetime | None = _ts(nullable=True)


class Agent(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    name: str = Field(max_length=120)
    mode: AgentMode = _enum(AgentMode, AgentMode.pilot)
    persona: str = ""
    config: dict[str, Any] = _json()  # runtime.agent.settings.AgentSettings
    llm_api_key_encrypted: str | None = None  # runtime.crypto; never returned
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Channel(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    agent_id: uuid.UUID | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    provider: Provider = _enum(Provider, Provider.cloud_api)
    name: str = Field(max_length=120)
    phone_number: str | None = Field(default=None, max_length=32)
    credentials_encrypted: str | None = None  # runtime.crypto; never returned by the API
    api_base_url: str | None = Field(default=None, max_length=500)  # None = the provider's default
    config: dict[str, Any] = _json()  # non-secret settings: debounce, groups, auto-reply text
    is_active: bool = True
    last_event_at: datetime | None = _ts(nullable=True)
    last_error: str | None = None
    created_at: datetime = _ts()


class Contact(SQLModel, table=True):
    """A lead (or customer, supplier...) as seen on a channel."""

    __table_args__ = (
        UniqueConstraint("workspace_id", "phone"),
        # Painel: new leads per day (covering: no heap access).
        Index("ix_contact_ws_created", "workspace_id", "created_at", postgresql_include=["lead_type", "stage"]),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    phone: str = Field(max_length=32)
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    lead_type: str = Field(default="lead", max_length=20)
    stage: str = Field(default="new", max_length=40)
    score: int = 0
    fields: dict[str, Any] = _json()
    notes: str = Field(default="", sa_column_kwargs={"server_default": sa_text("''")})  # the sellers' notes
    tags: list[str] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    )
    crm_url: str | None = Field(default=None, max_length=2000)  # the lead's page in the company's CRM
    opted_out_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()


class Conversation(SQLModel, table=True):
    __table_args__ = (
        Index("ix_conversation_ws_last", "workspace_id", "last_message_at"),
        # Painel: conversations per day, per agent.
        Index(
            "ix_conversation_ws_created",
            "workspace_id",
            "created_at",
            postgresql_include=["agent_id", "contact_id"],
        ),
        # One open conversation per lead and channel: the webhook upserts on it.
        Index(
            "uq_conversation_open",
            "channel_id",
            "contact_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    contact_id: uuid.UUID = Field(foreign_key="contact.id", index=True, ondelete="CASCADE")
    channel_id: uuid.UUID | None = Field(default=None, foreign_key="channel.id", ondelete="SET NULL")
    agent_id: uuid.UUID | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    status: ConversationStatus = _enum(ConversationStatus, ConversationStatus.open)
    mode_override: AgentMode | None = Field(
        default=None,
        sa_type=Enum(AgentMode, native_enum=False, length=20, values_callable=lambda x: [m.value for m in x]),
    )
    assigned_user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    last_message_at: datetime | None = _ts(nullable=True)
    last_inbound_at: datetime | None = _ts(nullable=True)
    # A pending handoff pauses the bot here until a seller answers (or releases the conversation).
    handoff_requested_at: datetime | None = _ts(nullable=True)
    handoff_reason: str | None = Field(default=None, max_length=500)
    handoff_question: str | None = None
    created_at: datetime = _ts()


class Message(SQLModel, table=True):
    __table_args__ = (
        # A provider redelivering the same event is a no-op.
        UniqueConstraint("channel_id", "provider_message_id"),
        Index("ix_message_conversation_created", "conversation_id", "created_at"),
        # Covering for the Painel's messages per channel and day (an index-only scan).
        Index(
            "ix_message_ws_created",
            "workspace_id",
            "created_at",
            postgresql_include=["channel_id", "direction", "conversation_id"],
        ),
        # Painel: a conversation's first lead message and first reply after it (two index-only
        # probes: workspace_id is included for the row-level security filter).
        Index(
            "ix_message_conversation_direction_created",
            "conversation_id",
            "direction",
            "created_at",
            postgresql_include=["workspace_id"],
        ),
        # Row-level security adds workspace_id = ... to every query: with it leading, a thread's
        # newest message or unread count is one index range, not a scan of the workspace.
        Index("ix_message_ws_conversation_created", "workspace_id", "conversation_id", "created_at"),
        # The sweep of sends whose worker died long ago.
        Index("ix_message_sending_lease", "lease_expires_at", postgresql_where=sa_text("status = 'sending'")),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    conversation_id: uuid.UUID = Field(foreign_key="conversation.id", ondelete="CASCADE")
    channel_id: uuid.UUID | None = Field(default=None, foreign_key="channel.id", ondelete="SET NULL")
    direction: Direction = _enum(Direction, Direction.inbound)
    author: Author = _enum(Author, Author.lead)
    author_user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    kind: str = Field(default="text", max_length=20)  # text, audio, image, document, ...
    text: str = ""
    media: dict[str, Any] = _json()
    details: dict[str, Any] = _json()  # location, reply/reaction/context ids, template
    provider_message_id: str | None = Field(default=None, max_length=255)
    status: MessageStatus = _enum(MessageStatus, MessageStatus.received)
    error: str | None = None
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": sa_text("0")})
    sent_at: datetime | None = _ts(nullable=True)  # provider time for inbound; send time for outbound
    delivered_at: datetime | None = _ts(nullable=True)
    read_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()
    # A send's claim (runtime.jobs.lease): its worker and until when; in_flight while a request to
    # the provider may be under way.
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = _ts(nullable=True)
    in_flight: bool = Field(default=False, sa_column_kwargs={"server_default": sa_text("false")})


class WebhookEvent(SQLModel, table=True):
    """Every authenticated delivery as received (raw bytes), stored with its messages in one transaction;
    deleted after WEBHOOK_EVENT_RETENTION_DAYS (runtime.channels.webhook_retention)."""

    __tablename__ = "webhook_event"
    __table_args__ = (
        Index("ix_webhook_event_channel_received", "channel_id", "received_at"),
        Index("ix_webhook_event_received_at", "received_at"),  # the retention purge, oldest first
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    channel_id: uuid.UUID = Field(foreign_key="channel.id", ondelete="CASCADE")
    content_type: str | None = Field(default=None, max_length=120)
    body: bytes = Field(sa_type=LargeBinary, nullable=False)
    messages: int = 0  # new messages stored from it (redeliveries: 0)
    statuses: int = 0
    received_at: datetime = _ts()


class DocumentStatus(enum.StrEnum):
    """A knowledge document's processing (knowledge_document.status)."""

    queued = "queued"
    processing = "processing"
    ready = "ready"
    failed = "failed"


class LearnedStatus(enum.StrEnum):
    """A learned answer: used by the agent only when approved."""

    approved = "approved"
    pending = "pending"  # waiting for the owner's approval
    rejected = "rejected"


class SuggestionStatus(enum.StrEnum):
    """A copilot draft and what the seller did with it."""

    pending = "pending"
    accepted = "accepted"
    edited = "edited"
    rejected = "rejected"
    superseded = "superseded"


class ConnectionStatus(enum.StrEnum):
    """A Google Drive connection."""

    active = "active"
    needs_reauth = "needs_reauth"
    error = "error"


class TurnOutcome(enum.StrEnum):
    """What a turn did (conversation_turn.outcome): replied, suggested, or why not."""

    pending = "pending"  # being decided (its worker holds the lease)
    replied = "replied"
    suggested = "suggested"  # copilot: a draft for the seller
    no_reply = "no_reply"
    skipped_channel_inactive = "skipped: channel inactive"
    skipped_conversation_closed = "skipped: conversation closed"
    skipped_bot_paused = "skipped: bot paused in this conversation"
    skipped_waiting_for_human = "skipped: waiting for a human"
    skipped_opted_out = "skipped: lead opted out"
    skipped_outside_window = "skipped: outside the 24-hour window"
    failed_internal = "failed: internal error"
    # What run_turn answers without a settled row of its own:
    superseded = "superseded"  # a later message of the burst has its own turn
    duplicate = "duplicate"  # the job came twice; the turn was settled
    lease_lost = "superseded: taken over by another worker"
    abandoned = "superseded: worker lost, answered by a later turn"


class TurnRoute(enum.StrEnum):
    """How a reply was decided (conversation_turn.route; the Painel groups turns by it)."""

    rules = "rules"
    learned = "learned"
    extractive = "extractive"
    llm = "llm"
    handoff = "handoff"
    fixed = "fixed"  # a channel's fixed auto-reply (no agent)
    media_error = "media_error"  # only unreadable media: the agent says so


class ConversationTurn(SQLModel, table=True):
    """One reply decision per burst of lead messages: the UNIQUE trigger makes it happen once."""

    __tablename__ = "conversation_turn"
    # Painel: turns per route and conversation in a period.
    __table_args__ = (
        Index(
            "ix_conversation_turn_ws_created",
            "workspace_id",
            "created_at",
            postgresql_include=["conversation_id", "route"],
        ),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    conversation_id: uuid.UUID = Field(foreign_key="conversation.id", index=True, ondelete="CASCADE")
    trigger_message_id: uuid.UUID = Field(foreign_key="message.id", unique=True, ondelete="CASCADE")
    outcome: str = Field(default="pending", max_length=60)  # replied, suggested, no_reply, skipped: <reason>
    route: str | None = Field(default=None, max_length=20)  # rules, learned, llm, extractive, handoff
    details: dict[str, Any] = _json()  # intent, lead type, confidence, sources, tokens, tool calls
    created_at: datetime = _ts()
    # The claim of the worker deciding it (runtime.jobs.lease); taken over when it expires.
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = _ts(nullable=True)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_ws_created", "workspace_id", "created_at"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    actor_user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    actor_api_key_id: uuid.UUID | None = Field(default=None, foreign_key="api_key.id", ondelete="SET NULL")
    action: str = Field(max_length=80)
    target_type: str | None = Field(default=None, max_length=40)
    target_id: str | None = Field(default=None, max_length=64)
    data: dict[str, Any] = _json()
    ip: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts()


# Tables that are not scoped by workspace_id (authentication infrastructure).
GLOBAL_TABLES = {"workspace", "app_user", "user_session", "login_attempt", "password_reset", "email_verification"}


# --- knowledge base -----------------------------------------------------------------


class KnowledgeDocument(SQLModel, table=True):
    """A source of the agent's answers: an upload, a web page, a Drive file or a learned answer."""

    __tablename__ = "knowledge_document"
    __table_args__ = (
        # Identical content is stored once per workspace.
        UniqueConstraint("workspace_id", "content_hash"),
        Index("ix_knowledge_document_ws_created", "workspace_id", "created_at"),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    collection: str | None = Field(default=None, max_length=80)  # e.g. an agent's own knowledge
    source_type: str = Field(default="upload", max_length=20)  # upload, url, drive, learned
    title: str = Field(default="", max_length=300)
    filename: str = Field(max_length=300)  # the original file name, shown with search results
    mime_type: str | None = Field(default=None, max_length=120)
    size_bytes: int = 0
    content_hash: str = Field(max_length=64)
    source_url: str | None = Field(default=None, max_length=2000)
    external_id: str | None = Field(default=None, max_length=200)  # Drive file id
    source_ref: str | None = Field(default=None, max_length=80, index=True)  # e.g. the Drive connection id
    external_modified_at: datetime | None = _ts(nullable=True)
    status: str = Field(default=DocumentStatus.queued, max_length=20)  # a DocumentStatus
    error: str | None = None
    progress: int = Field(default=0, sa_column_kwargs={"server_default": sa_text("0")})
    pages: int = Field(default=0, sa_column_kwargs={"server_default": sa_text("0")})
    chunk_count: int = Field(default=0, sa_column_kwargs={"server_default": sa_text("0")})
    embedding_model: str | None = Field(default=None, max_length=120)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class KnowledgeBlob(SQLModel, table=True):
    """The original bytes, kept for re-processing (re-chunking, re-embedding after a provider change)."""

    __tablename__ = "knowledge_blob"
    document_id: uuid.UUID = Field(foreign_key="knowledge_document.id", primary_key=True, ondelete="CASCADE")
    workspace_id: uuid.UUID = _workspace_fk()
    data: bytes = Field(sa_type=LargeBinary, nullable=False)


class LearnedAnswer(SQLModel, table=True):
    """A seller's answer to a question the agent could not answer, reused for the next lead who asks
    the same. Mirrored into the knowledge base (source_type learned) so search finds it too."""

    __tablename__ = "learned_answer"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    agent_id: uuid.UUID | None = Field(default=None, foreign_key="agent.id", ondelete="CASCADE")
    question: str  # as generalized for reuse
    original_question: str = ""  # as the lead wrote it
    answer: str
    status: str = Field(default=LearnedStatus.approved, max_length=20)  # a LearnedStatus
    source_conversation_id: uuid.UUID | None = Field(default=None, foreign_key="conversation.id", ondelete="SET NULL")
    created_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    knowledge_document_id: uuid.UUID | None = Field(
        default=None, foreign_key="knowledge_document.id", ondelete="SET NULL"
    )
    uses: int = Field(default=0, sa_column_kwargs={"server_default": sa_text("0")})
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Suggestion(SQLModel, table=True):
    """Copilot: the agent's draft for a seller, and what the seller did with it."""

    __tablename__ = "suggestion"
    __table_args__ = (Index("ix_suggestion_conversation_created", "conversation_id", "created_at"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    conversation_id: uuid.UUID = Field(foreign_key="conversation.id", ondelete="CASCADE")
    turn_id: uuid.UUID | None = Field(default=None, foreign_key="conversation_turn.id", ondelete="SET NULL")
    draft: str
    next_step: str = ""
    details: dict[str, Any] = _json()  # intent, sources, confidence ...
    status: str = Field(default=SuggestionStatus.pending, max_length=20)  # a SuggestionStatus
    final_text: str | None = None
    message_id: uuid.UUID | None = Field(default=None, foreign_key="message.id", ondelete="SET NULL")
    decided_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    decided_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()


# Tables defined in raw SQL by their migration (generated tsvector, dimension-less pgvector column
# with per-dimension HNSW indexes): not SQLModel classes, so autogenerate must leave them alone.
RAW_SQL_TABLES = {"knowledge_chunk"}
# Tables created and migrated by libraries (job queue, LangGraph checkpoints), not by our migrations.
LIBRARY_TABLE_PREFIXES = ("pgqueuer", "checkpoint")


class DriveConnection(SQLModel, table=True):
    """A Google Drive folder synced into the knowledge base. The refresh token is encrypted
    (runtime.crypto) and never returned by the API."""

    __tablename__ = "drive_connection"
    __table_args__ = (UniqueConstraint("workspace_id", "folder_id"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    folder_id: str = Field(max_length=200)
    folder_name: str = Field(default="", max_length=300)
    account_email: str | None = Field(default=None, max_length=320)  # the Google account that granted access
    connected_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    refresh_token_encrypted: str
    status: str = Field(default=ConnectionStatus.active, max_length=20)  # a ConnectionStatus
    last_sync_at: datetime | None = _ts(nullable=True)
    next_sync_at: datetime | None = _ts(nullable=True)  # the live link of the self-rescheduling sync chain
    sync_started_at: datetime | None = _ts(nullable=True)  # lease: a sync is running (heartbeat per file)
    last_error: str | None = None
    files_synced: int = Field(default=0, sa_column_kwargs={"server_default": sa_text("0")})
    sync_state: dict[str, Any] = _json()  # e.g. Drive files whose content duplicates another document
    created_at: datetime = _ts()


class Invitation(SQLModel, table=True):
    """An invitation to join a workspace's team. The link's token is stored only as its hash;
    it is looked up before the invitee has a session through app_invitation_lookup (SECURITY
    DEFINER, one row by hash), then read and updated under RLS for its workspace."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    email: str = Field(max_length=320)  # stored lower-case
    role: Role = _enum(Role, Role.seller)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    accepted_at: datetime | None = _ts(nullable=True)
    accepted_user_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    revoked_at: datetime | None = _ts(nullable=True)
    # queued | sent | failed; None = not e-mailed (no SMTP configured: the inviter sends the link)
    email_status: str | None = Field(default=None, max_length=16)
    email_error: str | None = None
    email_sent_at: datetime | None = _ts(nullable=True)


class InvitationEmailSend(SQLModel, table=True):
    """One row per invitation e-mail queued (a new invitation or a new link): the workspace's hourly
    allowance (INVITATION_EMAILS_PER_HOUR) counts them. Rows older than a day are dropped."""

    __tablename__ = "invitation_email_send"
    __table_args__ = (Index("ix_invitation_email_send_ws_at", "workspace_id", "created_at"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", nullable=False, ondelete="CASCADE")
    invitation_id: uuid.UUID = Field(foreign_key="invitation.id", nullable=False, ondelete="CASCADE")
    created_at: datetime = _ts()


# --- seller inbox ---------------------------------------------------------------------------


class ConversationRead(SQLModel, table=True):
    """How far each user has read each conversation: the inbox's unread counts are per seller."""

    __tablename__ = "conversation_read"
    user_id: uuid.UUID = Field(foreign_key="app_user.id", primary_key=True, ondelete="CASCADE")
    conversation_id: uuid.UUID = Field(foreign_key="conversation.id", primary_key=True, ondelete="CASCADE")
    workspace_id: uuid.UUID = _workspace_fk()
    last_read_at: datetime = _ts()


class QuickReply(SQLModel, table=True):
    """A canned answer the sellers insert with its shortcut ("/preco")."""

    __tablename__ = "quick_reply"
    __table_args__ = (UniqueConstraint("workspace_id", "shortcut"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    shortcut: str = Field(max_length=40)
    text: str
    created_at: datetime = _ts()


class LlmUsage(SQLModel, table=True):
    """The tokens one turn's language model used (one row per turn that called a model), written
    with the turn's outcome. The Painel sums these narrow rows through a covering index instead of
    reading every turn's JSON details."""

    __tablename__ = "llm_usage"
    __table_args__ = (
        Index(
            "ix_llm_usage_ws_created",
            "workspace_id",
            "created_at",
            postgresql_include=["conversation_id", "model", "input_tokens", "output_tokens"],
        ),
    )
    turn_id: uuid.UUID = Field(foreign_key="conversation_turn.id", primary_key=True, ondelete="CASCADE")
    workspace_id: uuid.UUID = _workspace_fk()
    conversation_id: uuid.UUID = Field(foreign_key="conversation.id", ondelete="CASCADE")
    model: str = Field(default="", max_length=160)  # "provider:model", e.g. "gemini:gemini-2.5-flash"
    input_tokens: int = 0
    output_tokens: int = 0
    created_at: datetime = _ts()  # the turn's


# --- follow-up cadences ---------------------------------------------------------------------


class FollowupStatus(enum.StrEnum):
    scheduled = "scheduled"
    sent = "sent"
    cancelled = "cancelled"  # the lead replied, opted out, a human took over, the conversation closed...
    skipped = "skipped"  # this step could not go (outside the window without a template...): the next one may


class Followup(SQLModel, table=True):
    """One step of a conversation's follow-up cadence, from scheduled to sent, cancelled or skipped
    (with the reason). `silence_since` is the lead's last message the cadence counts from; the
    idempotency key (conversation, silence, step) makes scheduling and sending happen once."""

    __table_args__ = (
        # At most one pending step per conversation.
        Index("uq_followup_scheduled", "conversation_id", unique=True, postgresql_where=text("status = 'scheduled'")),
        Index("ix_followup_ws_sent", "workspace_id", "sent_at"),
        # The periodic sweep for steps whose job was lost: scheduled ones by due time.
        Index("ix_followup_scheduled_due", "due_at", postgresql_where=text("status = 'scheduled'")),
        Index("ix_followup_channel_sent", "channel_id", "sent_at"),
    )
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workspace_id: uuid.UUID = _workspace_fk()
    conversation_id: uuid.UUID = Field(foreign_key="conversation.id", index=True, ondelete="CASCADE")
    agent_id: uuid.UUID | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    channel_id: uuid.UUID | None = Field(default=None, foreign_key="channel.id", ondelete="SET NULL")
    step: int
    silence_since: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    due_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    status: FollowupStatus = _enum(FollowupStatus, FollowupStatus.scheduled)
    reason: str | None = Field(default=None, max_length=300)
    idempotency_key: str = Field(max_length=200, unique=True)
    message_id: uuid.UUID | None = Field(default=None, foreign_key="message.id", ondelete="SET NULL")
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": sa_text("0")})
    details: dict[str, Any] = _json()  # deferrals, content kind, the engine's job id
    sent_at: datetime | None = _ts(nullable=True)
    replied_at: datetime | None = _ts(nullable=True)  # the lead wrote back after this step was sent
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
