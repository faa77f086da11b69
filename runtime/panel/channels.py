"""Canais: connect WhatsApp numbers (one form per adapter in runtime.channels.registry), copy the webhook URL and
verify token, send a test message through the real adapter, and see each channel's health.

The rules (which credentials each provider needs, how they are encrypted, what the public view
shows) are runtime.channels.service's; this module only turns the panel's form into its calls and
its English errors into pt-BR. Credential values never come back: only whether each one is set.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from db.models import Agent, Channel, Provider
from runtime import audit
from runtime.access import Principal, UserError, require_manager
from runtime.channels import service
from runtime.channels.base import MessageKind, OutboundMessage, SendError
from runtime.channels.registry import (
    ADAPTERS,
    PROVIDERS,
    UnknownProvider,
    adapter_class,
    build_adapter,
    channel_config,
    decrypt_credentials,
    http_client,
    webhook_url,
)
from runtime.contacts import ContactError, normalize_phone

log = logging.getLogger(__name__)

SET = "configurado"
MASK = "••••••••"  # a secret the page shows without printing it (it is copied whole, on request)
TEST_TEXT = "Mensagem de teste do PilotoDeVendas: seu canal está funcionando. ✅"
MAX_TEST_CHARS = 1000

# Each credential the adapters declare, by key (the registry refuses one key with two meanings):
# key -> (label, secret, help). Errors name fields by key only.
CREDENTIAL_LABELS: dict[str, tuple[str, bool, str]] = {
    spec.key: (spec.label, spec.secret, spec.help) for cls in ADAPTERS for spec in cls.credential_specs
}
# Filled by us when left blank (the service generates webhook_secret; the panel the verify token).
OPTIONAL_CREDENTIALS = {"verify_token", *service.GENERATED_SECRETS}
HIDDEN_CREDENTIALS = set(service.GENERATED_SECRETS)  # travels inside the webhook URL; never typed

# What the page tells the owner to do with the webhook address, per provider.
SETUP_HINTS: dict[str, str] = {cls.provider.value: cls.setup_hint for cls in ADAPTERS}


def _one_of(words: list[str]) -> str:
    """'A, B, C ou D'."""
    return f"{', '.join(words[:-1])} ou {words[-1]}" if len(words) > 1 else "".join(words)


CHOOSE_PROVIDER = f"Escolha um provedor: {_one_of([cls.label for cls in ADAPTERS])}."


def _form_fields(provider: Provider) -> list[dict[str, Any]]:
    return [
        {
            "key": spec.key,
            "label": spec.label,
            "secret": spec.secret,
            "required": spec.key not in OPTIONAL_CREDENTIALS,
            "help": spec.help,
        }
        for spec in adapter_class(provider).credential_specs
        if spec.key not in HIDDEN_CREDENTIALS
    ]


def _asks_phone(provider: Provider) -> bool:
    """The number shown is typed in, unless it is a credential (Twilio's sender)."""
    return "from_number" not in adapter_class(provider).credential_fields


# What the page builds its forms from (static: no principal, nothing from the database).
PROVIDER_FORMS: list[dict[str, Any]] = [
    {
        "provider": cls.provider.value,
        "label": cls.label,
        "description": cls.description,
        "fields": _form_fields(cls.provider),
        "default_api_base_url": cls.default_api_base_url,
        "api_base_url_required": cls.self_hosted,  # the default is only a local address
        "asks_phone": _asks_phone(cls.provider),
        "has_service_window": cls.has_service_window,
    }
    for cls in ADAPTERS
]


# --- helpers ---------------------------------------------------------------------------------


def mask_phone(phone: str | None) -> str:
    """'+5511999998888' -> '+55•••••••8888' (logs and audit entries never carry a full number)."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) < 6:
        return "•" * len(digits)
    return f"+{digits[:2]}{'•' * (len(digits) - 6)}{digits[-4:]}"


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """A pt-BR relative time: 'agora mesmo', 'há 5 min', 'há 3 h', 'há 2 dias'; 'nunca' for None."""
    if when is None:
        return "nunca"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    if seconds < 60:
        return "agora mesmo"
    if seconds < 3600:
        return f"há {seconds // 60} min"
    if seconds < 86400:
        return f"há {seconds // 3600} h"
    days = seconds // 86400
    return "há 1 dia" if days == 1 else f"há {days} dias"


def _provider(value: Any) -> Provider:
    try:
        return adapter_class(str(value or "")).provider
    except UnknownProvider as exc:
        raise UserError(CHOOSE_PROVIDER) from exc


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def _channel_id(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError) as exc:
        raise UserError("Canal não encontrado.") from exc


def _get(session, channel_id: Any) -> Channel:
    channel = session.get(Channel, _channel_id(channel_id))  # RLS: another workspace's channel is None
    if channel is None or channel.provider not in PROVIDERS:
        raise UserError("Canal não encontrado.")
    return channel


def _agent_id(session, value: Any) -> uuid.UUID | None:
    if value in (None, "", "none"):
        return None
    try:
        agent = session.get(Agent, uuid.UUID(str(value)))
    except ValueError:
        agent = None
    if agent is None:
        raise UserError("Agente não encontrado.")
    return agent.id


def _phone(value: str) -> str | None:
    if not value:
        return None
    try:
        return normalize_phone(value)
    except ContactError as exc:
        raise UserError(str(exc)) from exc


def _pt_br(exc: service.ChannelError) -> UserError:
    """runtime.channels.service's (English, API-facing) errors as the panel shows them."""
    if isinstance(exc, service.CredentialsRequired):
        labels = [CREDENTIAL_LABELS.get(n, (n,))[0] for n in exc.fields]
        return UserError(
            f"Você mudou o endereço da API: digite de novo {', '.join(labels)}. Por segurança, as credenciais "
            "salvas nunca são enviadas a outro servidor."
        )
    if isinstance(exc, service.ApiAddressRefused):
        return UserError(str(exc))
    msg = str(exc)
    if msg.startswith("missing credential"):
        names = [n.strip() for n in msg.split(":", 1)[1].split(",")]
        labels = [CREDENTIAL_LABELS.get(n, (n,))[0] for n in names]
        return UserError(f"Preencha: {', '.join(labels)}.")
    if msg.startswith("credential "):
        key = msg.split("'")[1] if "'" in msg else ""
        return UserError(f"Preencha {CREDENTIAL_LABELS.get(key, (key,))[0]}.")
    if msg.startswith("name is required"):
        return UserError("Dê um nome ao canal (até 120 caracteres).")
    if msg.startswith("api_base_url"):
        return UserError("O endereço da API deve ser uma URL começando com http:// ou https://.")
    if msg.startswith("provider must be"):
        return UserError(CHOOSE_PROVIDER)
    return UserError(f"Dados do canal inválidos: {msg}")


def _credentials_from(provider: Provider, data: dict[str, Any]) -> dict[str, str]:
    """The form's non-blank credential fields (blank = not given: required ones are the service's check)."""
    creds = {}
    for key in adapter_class(provider).credential_fields:
        if key in HIDDEN_CREDENTIALS:
            continue
        value = _text(data, key)
        if value:
            creds[key] = value
    if "from_number" in creds:
        creds["from_number"] = _phone(creds["from_number"]) or ""
    return creds


def _view(channel: Channel, agents: dict[uuid.UUID, str]) -> dict[str, Any]:
    """The page's row: runtime.channels.service.public_view plus labels; never a credential value.
    The webhook URL, the gateways' webhook secret (as a header) and the verify token are meant to be
    copied into the provider: they come whole (`webhook_url`, `webhook_header_value`,
    `verify_token`) and masked for printing (`*_shown`)."""
    public = service.public_view(channel)
    provider = channel.provider
    cls = adapter_class(provider)
    creds_set = set(public["credentials_set"])
    if not channel.is_active:
        status, color = "Desativado", "gray"
    elif channel.last_error:
        status, color = "Com erro", "red"
    elif channel.last_event_at is None:
        status, color = "Aguardando o primeiro evento", "amber"
    else:
        status, color = "Conectado", "green"
    header = service.webhook_secret_header(channel)
    verify_token = ""
    if "verify_token" in cls.credential_fields:
        verify_token = decrypt_credentials(channel.credentials_encrypted).get("verify_token", "")
    credentials = []
    for spec in cls.credential_specs:
        key = spec.key
        if key in HIDDEN_CREDENTIALS or key == "verify_token":
            continue
        shown = SET
        if not spec.secret and key in creds_set:
            shown = _mask_id(decrypt_credentials(channel.credentials_encrypted).get(key, ""))
        credentials.append({"key": key, "label": spec.label, "value": shown if key in creds_set else "não configurado"})
    return {
        "id": str(channel.id),
        "provider": provider.value,
        "provider_label": cls.label,
        "name": channel.name,
        "phone": channel.phone_number or "",
        "is_active": channel.is_active,
        "status": status,
        "status_color": color,
        "last_event_at": channel.last_event_at.isoformat() if channel.last_event_at else "",
        "last_event_ago": ago(channel.last_event_at),
        "last_error": channel.last_error or "",
        "webhook_url": public["webhook_url"],
        # Gateways: the same secret may go in a header instead, with the address without it.
        "webhook_base_url": webhook_url(provider, channel.id),
        "webhook_header_name": header[0] if header else "",
        "webhook_header_value": header[1] if header else "",
        "verify_token": verify_token,
        # What the page prints: the same, with the secrets masked (the page copies the whole ones).
        "webhook_url_shown": _masked_webhook_url(channel.provider, public["webhook_url"]),
        "verify_token_shown": MASK + verify_token[-4:] if verify_token else "",
        "webhook_header_value_shown": MASK + header[1][-4:] if header else "",
        "api_base_url": public["api_base_url"],
        "custom_api_base_url": channel.api_base_url or "",
        "agent_id": str(channel.agent_id) if channel.agent_id else "",
        "agent_name": agents.get(channel.agent_id, "") if channel.agent_id else "",
        "credentials": credentials,
        "has_service_window": public["has_service_window"],
        "asks_phone": _asks_phone(provider),
        # The provider can send the header itself (else the secret-free address needs a proxy in front).
        "offers_webhook_header": bool(header) and cls.custom_webhook_headers,
        "created_at": channel.created_at.isoformat() if channel.created_at else "",
    }


def _masked_webhook_url(provider: Provider, url: str) -> str:
    if provider not in service.URL_SECRET_PROVIDERS:
        return url
    return f"{url.split('?', 1)[0]}?secret={MASK}"


def _mask_id(value: str) -> str:
    """Identifiers (not secrets) are shown shortened, enough to recognise which account it is."""
    if len(value) <= 8:
        return value
    return f"{value[:4]}…{value[-4:]}"


def _agents(session) -> dict[uuid.UUID, str]:
    return {a.id: a.name for a in session.exec(select(Agent).order_by(Agent.created_at)).all()}


def _audit(principal: Principal, action: str, channel_id: uuid.UUID, data: dict[str, Any] | None = None) -> None:
    audit.record(
        principal.workspace_id,
        action,
        user_id=principal.user_id,
        target_type="channel",
        target_id=str(channel_id),
        data=data or {},
    )


# --- services --------------------------------------------------------------------------------


def list_channels(principal: Principal) -> list[dict[str, Any]]:
    """This workspace's WhatsApp channels, oldest first, with their health and webhook URL."""
    require_manager(principal)
    with principal.session() as s:
        agents = _agents(s)
        return [_view(c, agents) for c in service.list_channels(s) if c.provider in PROVIDERS]


def agent_choices(principal: Principal) -> list[dict[str, str]]:
    """The agents a channel can be answered by: [{id, name}]."""
    require_manager(principal)
    with principal.session() as s:
        return [{"id": str(k), "name": v} for k, v in _agents(s).items()]


def connect_channel(principal: Principal, provider: str, data: dict[str, Any]) -> dict[str, Any]:
    """Create a channel from the panel's form: name, api_base_url, phone_number (display), agent_id
    and the provider's credential fields. Cloud API: a blank verify token is generated."""
    require_manager(principal)
    prov = _provider(provider)
    data = data or {}
    creds = _credentials_from(prov, data)
    cls = adapter_class(prov)
    if "verify_token" in cls.credential_fields and not creds.get("verify_token"):
        creds["verify_token"] = secrets.token_urlsafe(18)
    base_url = _text(data, "api_base_url")
    if cls.self_hosted and not base_url:
        raise UserError(f"Informe o endereço do seu servidor {cls.label} (ex. https://{cls.slug}.suaempresa.com.br).")
    phone = _phone(_text(data, "phone_number"))
    with principal.session() as s:
        agent_id = _agent_id(s, data.get("agent_id"))
        try:
            channel = service.create_channel(
                s,
                principal.workspace_id,
                provider=prov.value,
                name=_text(data, "name"),
                credentials=creds,
                api_base_url=base_url or None,
                agent_id=agent_id,
            )
        except service.ChannelError as exc:
            raise _pt_br(exc) from exc
        if phone and not channel.phone_number:
            channel.phone_number = phone
            s.add(channel)
        s.commit()
        s.refresh(channel)
        view = _view(channel, _agents(s))
    _audit(principal, "channel.create", channel.id, {"provider": prov.value})
    return view


def update_channel(principal: Principal, channel_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change name, API address, number shown, agent, or replace credentials (blank fields keep
    the stored value: they are never sent back to the form)."""
    require_manager(principal)
    data = data or {}
    with principal.session() as s:
        channel = _get(s, channel_id)
        creds = _credentials_from(channel.provider, data)
        base_url = _text(data, "api_base_url")
        cls = adapter_class(channel.provider)
        if cls.self_hosted and "api_base_url" in data and not base_url:
            raise UserError(f"Informe o endereço do seu servidor {cls.label}.")
        agent_id = _agent_id(s, data.get("agent_id")) if "agent_id" in data else channel.agent_id
        try:
            service.update_channel(
                s,
                channel,
                name=_text(data, "name") if "name" in data else None,
                credentials=creds or None,
                api_base_url=base_url or None,
                clear_api_base_url="api_base_url" in data and not base_url,
            )
        except service.ChannelError as exc:
            raise _pt_br(exc) from exc
        channel.agent_id = agent_id  # None unassigns (the service's update only ever sets one)
        if "phone_number" in data and _asks_phone(channel.provider):
            channel.phone_number = _phone(_text(data, "phone_number"))
        elif "from_number" in creds:
            channel.phone_number = creds["from_number"]
        s.add(channel)
        s.commit()
        s.refresh(channel)
        view = _view(channel, _agents(s))
    changed = sorted(k for k in data if k in {"name", "api_base_url", "phone_number", "agent_id"})
    _audit(principal, "channel.update", channel.id, {"fields": changed + (["credentials"] if creds else [])})
    return view


def set_channel_active(principal: Principal, channel_id: str, active: bool) -> dict[str, Any]:
    """Disable (webhooks answered 410, nothing sent) or re-enable a channel."""
    require_manager(principal)
    with principal.session() as s:
        channel = _get(s, channel_id)
        service.update_channel(s, channel, is_active=bool(active))
        s.commit()
        s.refresh(channel)
        view = _view(channel, _agents(s))
    _audit(principal, "channel.update", channel.id, {"fields": ["is_active"], "is_active": bool(active)})
    return view


def delete_channel(principal: Principal, channel_id: str) -> None:
    """Remove the channel; its conversations stay (without a channel) and its webhook stops working."""
    require_manager(principal)
    with principal.session() as s:
        channel = _get(s, channel_id)
        cid = channel.id
        s.delete(channel)
        s.commit()
    _audit(principal, "channel.delete", cid)


def send_test_message(principal: Principal, channel_id: str, to_number: str, text: str | None = None) -> dict[str, Any]:
    """Send one text message through the channel's real adapter (no conversation is created).
    A refusal is recorded as the channel's last error and raised as UserError; a success clears
    it, as the runtime's own sends do. Both are written to the audit log with the number masked."""
    require_manager(principal)
    try:
        to = normalize_phone(to_number if isinstance(to_number, str) else "")
    except ContactError as exc:
        raise UserError(str(exc)) from exc
    body = (text or "").strip() or TEST_TEXT
    if len(body) > MAX_TEST_CHARS:
        raise UserError(f"A mensagem de teste pode ter no máximo {MAX_TEST_CHARS} caracteres.")
    with principal.session() as s:
        channel = _get(s, channel_id)
        if not channel.is_active:
            raise UserError("Este canal está desativado. Ative-o para enviar a mensagem de teste.")
        cid, provider = channel.id, channel.provider
        config = channel_config(channel.id, channel.provider, channel.credentials_encrypted, channel.api_base_url)

    async def send() -> str:
        async with http_client() as http:
            result = await build_adapter(config, http).send(
                OutboundMessage(to_phone=to, kind=MessageKind.text, text=body)
            )
            return result.provider_message_id

    error: str | None = None
    provider_id = ""
    try:
        provider_id = asyncio.run(send())
    except SendError as exc:
        error = exc.detail
    except Exception as exc:  # an adapter bug must still end in a clear answer
        log.exception("test message crashed channel=%s", cid)
        error = f"erro interno: {type(exc).__name__}"
    masked = mask_phone(to)
    with principal.session() as s:
        service.mark_error(s, cid, f"mensagem de teste falhou: {error}"[:1000] if error else None)
        s.commit()
    _audit(
        principal,
        "channel.test_message",
        cid,
        {"to": masked, "ok": error is None, "provider": provider.value, **({"error": error[:300]} if error else {})},
    )
    if error is not None:
        log.info("test message refused channel=%s to=%s: %s", cid, masked, error[:200])
        raise UserError(f"O provedor não aceitou a mensagem: {error[:300]}")
    log.info("test message sent channel=%s to=%s", cid, masked)
    return {"ok": True, "to": masked, "provider_message_id": provider_id}
