"""Channel management shared by the REST API and the web panel: validation, encrypted credentials,
per-channel settings and the public (secret-free) view."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlmodel import Session, select

from db.models import Channel, Provider
from runtime import egress

from .registry import (
    ADAPTERS,
    PROVIDERS,
    UnknownProvider,
    adapter_class,
    decrypt_credentials,
    encrypt_credentials,
    webhook_url,
)
from .shared_secret import SECRET_HEADER_NAME, WEBHOOK_SECRET

# Gateways that sign nothing authenticate their webhooks with this secret in the URL.
URL_SECRET_PROVIDERS = frozenset(cls.provider for cls in ADAPTERS if cls.webhook_secret_in_url)
GENERATED_SECRETS = {WEBHOOK_SECRET.key}


class ChannelError(ValueError):
    """Invalid channel input; the message is safe to show (never contains a secret)."""


class ApiAddressRefused(ChannelError):
    """api_base_url points at an internal address the egress guard refuses (pt-BR message)."""


class CredentialsRequired(ChannelError):
    """The API address moved to another server while credentials are saved: the ones sent to the
    API (`fields`) must come again in the same change, or the stored token would go to the new host."""

    def __init__(self, fields: list[str], old: str, new: str) -> None:
        super().__init__(
            f"Você mudou o endereço da API (de {old} para {new}): informe de novo {', '.join(fields)} nesta "
            "mesma alteração. Por segurança, as credenciais salvas nunca são enviadas a outro servidor."
        )
        self.fields = fields


@dataclass(frozen=True)
class ChannelSettings:
    debounce_seconds: float = 4.0  # a burst of lead messages within this window gets one reply
    ignore_groups: bool = True
    auto_reply_text: str = ""  # until the agent answers: a fixed reply ("" = none)

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> ChannelSettings:
        config = config or {}
        return cls(**{k: config[k] for k in cls.__dataclass_fields__ if k in config})


def validate_settings(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "debounce_seconds":
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 120:
                raise ChannelError("debounce_seconds must be a number between 0 and 120")
            out[key] = float(value)
        elif key == "ignore_groups":
            if not isinstance(value, bool):
                raise ChannelError("ignore_groups must be true or false")
            out[key] = value
        elif key == "auto_reply_text":
            if not isinstance(value, str) or len(value) > 4096:
                raise ChannelError("auto_reply_text must be text of at most 4096 characters")
            out[key] = value.strip()
        else:
            raise ChannelError(f"unknown setting {key!r}")
    return out


def _validate_base_url(url: str | None) -> str | None:
    if url is None or url == "":
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ChannelError("api_base_url must be an http(s) URL")
    try:
        egress.check_url(url)  # checked again at every connection; this says it at once
    except egress.EgressRefused as exc:
        raise ApiAddressRefused(
            f"Endereço da API não permitido: {exc.host} aponta para uma rede interna ou local. Use o endereço "
            "público do servidor (quem administra a instalação pode liberar um servidor interno em "
            "EGRESS_ALLOW_PRIVATE_NETWORKS)."
        ) from exc
    except ValueError as exc:
        raise ChannelError("api_base_url must be an http(s) URL") from exc
    return url.rstrip("/")


def _api_origin(provider: Provider, api_base_url: str | None) -> tuple[str, str, int]:
    return egress.origin(api_base_url or adapter_class(provider).default_api_base_url)


def _credentials_follow_the_host(
    channel: Channel, new_base_url: str | None, given: dict[str, str], stored: dict[str, str]
) -> None:
    """A stored credential is sent only to the server (scheme, host, port) it was saved for. Another
    path on the same server keeps the credentials; another server needs them again."""
    before, after = _api_origin(channel.provider, channel.api_base_url), _api_origin(channel.provider, new_base_url)
    if before == after:
        return
    missing = [f for f in adapter_class(channel.provider).api_credentials if stored.get(f) and not given.get(f)]
    if missing:
        raise CredentialsRequired(missing, before[1], after[1])


def _provider(value: str) -> Provider:
    try:
        adapter_class(value)
        return Provider(value)
    except UnknownProvider as exc:
        raise ChannelError(f"provider must be one of: {', '.join(PROVIDERS)}") from exc


def _check_credentials(provider: Provider, credentials: dict[str, Any]) -> dict[str, str]:
    fields = adapter_class(provider).credential_fields
    unknown = set(credentials) - set(fields)
    if unknown:
        raise ChannelError(f"unknown credential field(s) for {provider}: {', '.join(sorted(unknown))}")
    creds = {}
    for key, value in credentials.items():
        if not isinstance(value, str) or not value.strip():
            raise ChannelError(f"credential {key!r} must be a non-empty string")
        creds[key] = value.strip()
    return creds


def create_channel(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    provider: str,
    name: str,
    credentials: dict[str, Any],
    api_base_url: str | None = None,
    agent_id: uuid.UUID | None = None,
    settings: dict[str, Any] | None = None,
) -> Channel:
    prov = _provider(provider)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ChannelError("name is required (at most 120 characters)")
    creds = _check_credentials(prov, credentials or {})
    for key in GENERATED_SECRETS & set(adapter_class(prov).credential_fields):
        creds.setdefault(key, secrets.token_urlsafe(24))
    missing = [f for f in adapter_class(prov).credential_fields if f not in creds]
    if missing:
        raise ChannelError(f"missing credential(s) for {prov}: {', '.join(missing)}")
    channel = Channel(
        workspace_id=workspace_id,
        provider=prov,
        name=name,
        agent_id=agent_id,
        api_base_url=_validate_base_url(api_base_url),
        credentials_encrypted=encrypt_credentials(creds),
        config=validate_settings(settings or {}),
        phone_number=creds.get("from_number"),
    )
    session.add(channel)
    session.flush()
    return channel


def update_channel(
    session: Session,
    channel: Channel,
    *,
    name: str | None = None,
    credentials: dict[str, Any] | None = None,
    api_base_url: str | None = None,
    clear_api_base_url: bool = False,
    agent_id: uuid.UUID | None = None,
    settings: dict[str, Any] | None = None,
    is_active: bool | None = None,
) -> Channel:
    if name is not None:
        name = name.strip()
        if not name or len(name) > 120:
            raise ChannelError("name is required (at most 120 characters)")
        channel.name = name
    given = _check_credentials(channel.provider, credentials or {})
    new_base_url = channel.api_base_url
    if clear_api_base_url:
        new_base_url = None
    elif api_base_url is not None and api_base_url.rstrip("/") != (channel.api_base_url or ""):
        new_base_url = _validate_base_url(api_base_url)
    stored = decrypt_credentials(channel.credentials_encrypted)
    _credentials_follow_the_host(channel, new_base_url, given, stored)
    if given:
        channel.credentials_encrypted = encrypt_credentials({**stored, **given})
    channel.api_base_url = new_base_url
    if agent_id is not None:
        channel.agent_id = agent_id
    if settings:
        channel.config = {**(channel.config or {}), **validate_settings(settings)}
    if is_active is not None:
        channel.is_active = is_active
    session.add(channel)
    session.flush()
    return channel


def channel_webhook_url(channel: Channel) -> str:
    url = webhook_url(channel.provider, channel.id)
    if channel.provider in URL_SECRET_PROVIDERS:
        secret = decrypt_credentials(channel.credentials_encrypted).get("webhook_secret", "")
        url += "?" + urlencode({"secret": secret})
    return url


def webhook_secret_header(channel: Channel) -> tuple[str, str] | None:
    """(header name, value) that carries a gateway channel's webhook secret instead of its URL;
    None for providers that sign their webhooks."""
    if channel.provider not in URL_SECRET_PROVIDERS:
        return None
    return SECRET_HEADER_NAME, decrypt_credentials(channel.credentials_encrypted).get("webhook_secret", "")


def public_view(channel: Channel) -> dict[str, Any]:
    """What the API and panel may show: never a credential value, only which ones are set."""
    cls = adapter_class(channel.provider)
    creds = decrypt_credentials(channel.credentials_encrypted)
    return {
        "id": channel.id,
        "provider": channel.provider.value,
        "name": channel.name,
        "api_base_url": channel.api_base_url or cls.default_api_base_url,
        "agent_id": channel.agent_id,
        "webhook_url": channel_webhook_url(channel),
        "credentials_set": sorted(k for k in creds if creds[k]),
        "settings": asdict(ChannelSettings.from_config(channel.config)),
        "has_service_window": cls.has_service_window,
        "is_active": channel.is_active,
        "last_event_at": channel.last_event_at,
        "last_error": channel.last_error,
        "created_at": channel.created_at,
    }


def list_channels(session: Session) -> list[Channel]:
    return list(session.exec(select(Channel).order_by(Channel.created_at)).all())


def mark_error(session: Session, channel_id: uuid.UUID, error: str | None) -> None:
    channel = session.get(Channel, channel_id)
    if channel is not None:
        channel.last_error = error[:1000] if error else None
        session.add(channel)
