"""The one protocol every WhatsApp provider adapter implements, and the normalized shapes it
speaks. Nothing outside runtime/channels/ knows which provider a channel uses."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

import httpx

from db.models import Provider


class MessageKind(enum.StrEnum):
    text = "text"
    audio = "audio"  # voice notes included (Media.voice)
    image = "image"
    video = "video"
    document = "document"
    sticker = "sticker"
    location = "location"
    interactive = "interactive"  # button / list reply
    reaction = "reaction"
    template = "template"  # outbound only
    unsupported = "unsupported"


class DeliveryStatus(enum.StrEnum):
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"


@dataclass(frozen=True)
class Media:
    """Inbound media as the provider describes it; download_media() fetches the bytes."""

    id: str | None = None  # provider media id (Cloud API) ...
    url: str | None = None  # ... or a URL (Z-API, Twilio, Evolution)
    mime_type: str | None = None
    filename: str | None = None
    voice: bool = False  # a push-to-talk voice note rather than an audio file
    extra: Mapping[str, Any] = field(default_factory=dict)  # provider-specific (e.g. Evolution message key)


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    provider_message_id: str
    from_phone: str  # E.164, '+5511999998888'
    from_name: str
    timestamp: datetime  # timezone-aware UTC
    kind: MessageKind
    text: str = ""  # body, media caption, button/list title, or the reaction emoji
    media: Media | None = None
    location: Location | None = None
    reply_id: str | None = None  # id of the chosen button / list row
    reaction_to: str | None = None  # provider id of the message reacted to
    context_id: str | None = None  # provider id of the message this one replies to
    is_group: bool = False


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    status: DeliveryStatus
    timestamp: datetime
    error: str | None = None  # provider's code + message when failed


@dataclass(frozen=True)
class ParsedEvent:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    ignored: int = 0  # events understood and deliberately skipped (fromMe echoes, unknown types)
    # Events for another number of the same provider account (Cloud API: metadata.phone_number_id):
    # not this channel's to store or answer.
    misaddressed: int = 0


@dataclass(frozen=True)
class WebhookRequest:
    """What an adapter needs from an HTTP request: raw bytes, never a re-serialized body."""

    method: str
    url: str  # the public URL the provider called (PUBLIC_URL + path + query), for Twilio's signature
    headers: Mapping[str, str]  # lower-cased names
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class DownloadedMedia:
    data: bytes
    mime_type: str
    filename: str | None = None


@dataclass(frozen=True)
class OutboundMedia:
    """Media to send: a public URL, or bytes (uploaded / inlined where the provider allows)."""

    mime_type: str
    url: str | None = None
    data: bytes | None = None
    filename: str | None = None


@dataclass(frozen=True)
class Template:
    """An approved template: Cloud API name + language + body parameters; Twilio ContentSid + variables."""

    name: str  # Cloud API template name, or Twilio ContentSid ("HX...")
    language: str = "pt_BR"
    variables: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OutboundMessage:
    to_phone: str  # E.164
    kind: MessageKind  # text, audio, image, document or template
    text: str = ""  # body, or the caption of image/document
    media: OutboundMedia | None = None
    template: Template | None = None


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str


class WebhookRejected(Exception):
    """The request is refused: 401/403 for authentication, 400/422 for a malformed body."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class SendFailure(enum.StrEnum):
    """What a failed send means for the lead, which decides whether it may be tried again."""

    retry = "retry"  # provably never reached the provider (no connection, 429, 503 + Retry-After)
    refused = "refused"  # the provider answered and took nothing: failed, safe to send again by hand
    unknown = "unknown"  # the provider may have it (timeout after the request went out): never re-sent


class SendError(Exception):
    """A send that did not succeed. `failure` says whether the provider may have it; `retryable`
    (failure == retry) is what the automatic retries look at."""

    def __init__(
        self,
        detail: str,
        *,
        retryable: bool | None = None,
        failure: SendFailure | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        if failure is None:
            failure = SendFailure.retry if retryable else SendFailure.refused
        self.detail = detail
        self.failure = failure
        self.status_code = status_code
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.failure is SendFailure.retry


class MediaError(Exception):
    """Media could not be downloaded (expired URL, provider error)."""


@dataclass(frozen=True)
class ChannelConfig:
    """Everything an adapter gets about its channel: decrypted credentials live only here, in memory."""

    channel_id: str
    provider: Provider
    api_base_url: str
    credentials: Mapping[str, str]
    webhook_url: str  # public URL of /webhooks/{slug}/{channel_id}


@dataclass(frozen=True)
class CredentialSpec:
    """One credential an adapter needs, as the panel asks for it (pt-BR label and help)."""

    key: str
    label: str
    secret: bool  # typed into a password box; afterwards shown only as "configurado"
    help: str = ""


@dataclass(frozen=True)
class WebhookAck:
    """The body a provider expects in answer to a stored webhook, instead of our JSON summary."""

    body: str
    media_type: str


class ChannelAdapter(Protocol):
    """What every provider adapter is and can do. Its class attributes are the only place a provider
    is described: runtime.channels.registry checks that each one is set and derives its lookups
    (webhook slugs, labels) from them; the panel, the webhook route and the send paths read them
    instead of keeping tables keyed by provider."""

    provider: ClassVar[Provider]
    slug: ClassVar[str]  # the webhook path segment: /webhooks/{slug}/{channel_id}
    label: ClassVar[str]  # the provider's name as the pages show it ("Cloud API", "Z-API")
    description: ClassVar[str]  # pt-BR, one sentence for the connect form
    setup_hint: ClassVar[str]  # pt-BR: where to paste the webhook address in the provider's console
    default_api_base_url: ClassVar[str]
    # The owner runs the server (Evolution): its address must be given, the default is only local.
    self_hosted: ClassVar[bool]
    credential_specs: ClassVar[tuple[CredentialSpec, ...]]  # in the form's order
    credential_fields: ClassVar[tuple[str, ...]]  # their keys: all required, all write-only
    # The secrets sent to api_base_url: a new API host gets them only when they are typed again.
    api_credentials: ClassVar[tuple[str, ...]]
    # Gateways that sign nothing: a per-channel secret (credential webhook_secret) authenticates
    # their webhooks, in the URL (?secret=) or in the X-Webhook-Secret header.
    webhook_secret_in_url: ClassVar[bool]
    # The provider itself can add our header to its webhooks (so the secret can stay out of URLs).
    custom_webhook_headers: ClassVar[bool]
    webhook_ack: ClassVar[WebhookAck | None]  # what it expects back; None: our JSON summary
    # Official APIs enforce WhatsApp's 24-hour customer-service window; gateways don't.
    has_service_window: ClassVar[bool]
    sends_media_bytes: ClassVar[bool]  # False: media goes out only from a public URL (Twilio's MediaUrl)

    def __init__(self, config: ChannelConfig, http: httpx.AsyncClient) -> None: ...

    def handshake(self, request: WebhookRequest) -> str:
        """GET verification (Meta's hub.challenge). Returns the body to answer; raises WebhookRejected."""
        ...

    def verify(self, request: WebhookRequest) -> None:
        """Authenticate a POST on its raw bytes, in constant time; raises WebhookRejected(401/403)."""
        ...

    def parse(self, request: WebhookRequest) -> ParsedEvent:
        """Normalize a verified POST; raises WebhookRejected(400) for a malformed body."""
        ...

    async def download_media(self, media: Media) -> DownloadedMedia:
        """Fetch inbound media bytes; raises MediaError."""
        ...

    async def send(self, message: OutboundMessage) -> SendResult:
        """One attempt (retries are the caller's); raises SendError with retryable set correctly."""
        ...
