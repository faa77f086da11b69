"""The adapters, and everything about providers derived from them: a new channel is its adapter
plus one line in ADAPTERS (the checks below refuse an adapter that leaves out a label, a slug or a
capability). Also builds a live adapter for a stored channel."""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
import uuid
from collections.abc import Iterable
from typing import Any, ClassVar

import httpx

from db.models import Provider
from runtime import crypto, egress
from runtime.config import get_settings

from .base import ChannelAdapter, ChannelConfig
from .cloud_api import CloudApiAdapter
from .evolution import EvolutionAdapter
from .twilio import TwilioAdapter
from .zapi import ZapiAdapter

# In the order the panel offers them.
ADAPTERS: tuple[type[ChannelAdapter], ...] = (CloudApiAdapter, EvolutionAdapter, ZapiAdapter, TwilioAdapter)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_TEXTS = ("slug", "label", "description", "setup_hint", "default_api_base_url")


class UnknownProvider(LookupError):
    pass


class IncompleteAdapter(TypeError):
    """An adapter class that does not describe itself fully: it is refused at import."""


def _declared() -> dict[str, Any]:
    """ChannelAdapter's class attributes and their types, read from the protocol itself."""
    hints = typing.get_type_hints(ChannelAdapter)
    return {name: typing.get_args(tp)[0] for name, tp in hints.items() if typing.get_origin(tp) is ClassVar}


def _conforms(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if origin is tuple:  # tuple[X, ...]
        return isinstance(value, tuple) and all(_conforms(v, typing.get_args(tp)[0]) for v in value)
    return isinstance(value, origin or tp)


def check_adapter(cls: type) -> None:
    """Raise IncompleteAdapter unless `cls` sets every class attribute ChannelAdapter declares, with
    its type, and has its methods."""
    problems = []
    for name, tp in _declared().items():
        if not hasattr(cls, name):
            problems.append(f"{name} is not set")
        elif not _conforms(getattr(cls, name), tp):
            problems.append(f"{name} is not a {tp}")
    for name in _TEXTS:
        if isinstance(getattr(cls, name, None), str) and not getattr(cls, name).strip():
            problems.append(f"{name} is empty")
    if isinstance(getattr(cls, "slug", None), str) and not _SLUG.match(cls.slug):
        problems.append(f"slug {cls.slug!r} is not a lowercase URL segment")
    specs, fields = getattr(cls, "credential_specs", ()), getattr(cls, "credential_fields", ())
    if isinstance(specs, tuple) and tuple(getattr(s, "key", None) for s in specs) != fields:
        problems.append("credential_fields are not the keys of credential_specs")
    if not set(getattr(cls, "api_credentials", ())) <= set(fields):
        problems.append("api_credentials must be among credential_fields")
    if getattr(cls, "webhook_secret_in_url", False) and "webhook_secret" not in fields:
        problems.append("webhook_secret_in_url needs a webhook_secret credential")
    if getattr(cls, "custom_webhook_headers", False) and not getattr(cls, "webhook_secret_in_url", False):
        problems.append("custom_webhook_headers carry the webhook secret: set webhook_secret_in_url")
    for name, _ in inspect.getmembers(ChannelAdapter, inspect.isfunction):
        if not name.startswith("_") and not callable(getattr(cls, name, None)):
            problems.append(f"method {name}() is missing")
    if problems:
        raise IncompleteAdapter(f"{cls.__name__}: " + "; ".join(problems))


def index_adapters(adapters: Iterable[type[ChannelAdapter]]) -> dict[Provider, type[ChannelAdapter]]:
    """Provider -> adapter class, after checking each adapter and that no provider or slug repeats."""
    by_provider: dict[Provider, type[ChannelAdapter]] = {}
    slugs: set[str] = set()
    specs: dict[str, Any] = {}
    for cls in adapters:
        check_adapter(cls)
        if cls.provider in by_provider or cls.slug in slugs:
            raise IncompleteAdapter(f"{cls.__name__}: provider {cls.provider} or slug {cls.slug!r} is taken")
        for spec in cls.credential_specs:  # one key, one meaning: forms and errors name fields by key
            if specs.setdefault(spec.key, spec) != spec:
                raise IncompleteAdapter(f"{cls.__name__}: credential {spec.key!r} differs from another adapter's")
        by_provider[cls.provider] = cls
        slugs.add(cls.slug)
    return by_provider


_BY_PROVIDER = index_adapters(ADAPTERS)
PROVIDERS: tuple[Provider, ...] = tuple(_BY_PROVIDER)  # the providers a channel can use
SLUG_TO_PROVIDER: dict[str, Provider] = {cls.slug: cls.provider for cls in ADAPTERS}
PROVIDER_LABELS: dict[str, str] = {cls.provider.value: cls.label for cls in ADAPTERS}


def adapter_class(provider: Provider | str) -> type[ChannelAdapter]:
    try:
        return _BY_PROVIDER[Provider(provider)]
    except (KeyError, ValueError) as exc:
        raise UnknownProvider(f"unknown provider {provider!r}") from exc


def provider_label(provider: Provider | str | None) -> str:
    """The provider's name as the pages show it; the raw value for one without an adapter."""
    return PROVIDER_LABELS.get(str(provider or ""), str(provider or ""))


def webhook_url(provider: Provider | str, channel_id: uuid.UUID | str) -> str:
    return get_settings().absolute_url(f"/webhooks/{adapter_class(provider).slug}/{channel_id}")


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
