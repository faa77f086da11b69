"""Provider -> adapter class, and building a live adapter for a stored channel."""

from __future__ import annotations

import importlib
import json
import uuid
from typing import Any

import httpx

from db.models import Provider
from runtime import crypto, egress
from runtime.config import get_settings

from .base import WEBHOOK_SLUGS, ChannelAdapter, ChannelConfig

_MODULES = {
    Provider.cloud_api: ("runtime.channels.cloud_api", "CloudApiAdapter"),
    Provider.evolution: ("runtime.channels.evolution", "EvolutionAdapter"),
    Provider.zapi: ("runtime.channels.zapi", "ZapiAdapter"),
    Provider.twilio: ("runtime.channels.twilio", "TwilioAdapter"),
}
SLUG_TO_PROVIDER = {slug: provider for provider, slug in WEBHOOK_SLUGS.items()}


class UnknownProvider(LookupError):
    pass


def adapter_class(provider: Provider | str) -> type[ChannelAdapter]:
    try:
        module, cls = _MODULES[Provider(provider)]
    except (KeyError, ValueError) as exc:
        raise UnknownProvider(f"unknown provider {provider!r}") from exc
    return getattr(importlib.import_module(module), cls)


def webhook_url(provider: Provider | str, channel_id: uuid.UUID | str) -> str:
    return get_settings().absolute_url(f"/webhooks/{WEBHOOK_SLUGS[Provider(provider)]}/{channel_id}")


def decrypt_credentials(ciphertext: str | None) -> dict[str, str]:
    return json.loads(crypto.decrypt(ciphertext)) if ciphertext else {}


def encrypt_credentials(credentials: dict[str, str]) -> str:
    return crypto.encrypt(json.dumps(credentials, separators=(",", ":")))


def channel_config(
    channel_id: uuid.UUID | str, provider: Provider | str, credentials_encrypted: str | None, api_base_url: str | None
) -> ChannelConfig:
    cls = adapter_class(provider)
    return ChannelConfig(
        channel_id=str(channel_id),
        provider=Provider(provider),
        api_base_url=(api_base_url or cls.default_api_base_url).rstrip("/"),
        credentials=decrypt_credentials(credentials_encrypted),
        webhook_url=webhook_url(provider, channel_id),
    )


def build_adapter(config: ChannelConfig, http: httpx.AsyncClient) -> ChannelAdapter:
    return adapter_class(config.provider)(config, http)


def http_client(**kwargs: Any) -> httpx.AsyncClient:
    """The client adapters get: through the egress guard (a channel's api_base_url is the tenant's
    choice: an internal address is refused at connection time), with bounded timeouts so a hung
    provider becomes an error (a send that timed out after the request went out is 'unknown',
    never retried)."""
    return egress.async_client(timeout=httpx.Timeout(get_settings().send_timeout_seconds, connect=5.0), **kwargs)
