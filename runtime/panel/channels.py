"""Canais: connect WhatsApp numbers (Cloud API, Evolution, Z-API, Twilio), copy the webhook URL and
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

# How the panel presents each credential the adapters declare (the adapters decide which exist).
CREDENTIAL_LABELS: dict[str, tuple[str, bool, str]] = {  # key -> (label, secret, help)
    "phone_number_id": ("ID do número de telefone", False, "Em WhatsApp > Configuração da API, no app da Meta."),
    "access_token": (
        "Token de acesso",
        True,
        "Um token permanente de usuário do sistema, com whatsapp_business_messaging.",
    ),
    "app_secret": (
        "Chave secreta do app",
        True,
        "Em Configurações do app > Básico. Confere a assinatura dos webhooks.",
    ),
    "verify_token": (
        "Token de verificação do webhook",
        False,
        "Deixe em branco para gerarmos um. Cole o mesmo valor na Meta ao cadastrar o webhook.",
    ),
    "instance": ("Nome da instância", False, "A instância criada no seu servidor Evolution."),
    "api_key": ("Chave da API (apikey)", True, "A AUTHENTICATION_API_KEY do servidor ou a chave da instância."),
    "instance_id": ("ID da instância", False, "No painel da Z-API, em Instâncias."),
    "token": ("Token da instância", True, "No painel da Z-API, ao lado do ID da instância."),
    "client_token": ("Token de segurança da conta", True, "Em Segurança, no painel da Z-API (Client-Token)."),
    "account_sid": ("Account SID", False, "No Console da Twilio, começa com AC."),
    "auth_token": ("Auth Token", True, "No Console da Twilio, ao lado do Account SID."),
    "from_number": (
        "Número do WhatsApp (remetente)",
        False,
        "O número habilitado para WhatsApp na Twilio, ex. +55 11 99999-8888.",
    ),
}
# Filled by us when left blank (the service generates webhook_secret; the panel the verify token).
OPTIONAL_CREDENTIALS = {"verify_token", *service.GENERATED_SECRETS}
HIDDEN_CREDENTIALS = set(service.GENERATED_SECRETS)  # travels inside the webhook URL; never typed

PROVIDER_INFO: dict[Provider, tuple[str, str, str]] = {  # -> (label, short, description)
    Provider.cloud_api: (
        "WhatsApp Cloud API (Meta)",
        "Cloud API",
        "A API oficial da Meta. Exige um app no Meta for Developers e um número verificado.",
    ),
    Provider.evolution: (
        "Evolution API",
        "Evolution",
        "Servidor próprio (self-hosted) conectado ao WhatsApp pelo QR code.",
    ),
    Provider.zapi: ("Z-API", "Z-API", "Serviço brasileiro que conecta o seu WhatsApp pelo QR code."),
    Provider.twilio: ("Twilio", "Twilio", "API oficial do WhatsApp pela Twilio."),
}
PROVIDERS = tuple(PROVIDER_INFO)

# What the page tells the owner to do with the webhook address, per provider.
SETUP_HINTS: dict[str, str] = {
    "cloud_api": (
        "No app da Meta (WhatsApp > Configuração > Webhook), cole o endereço e o token de verificação e "
        "assine o campo messages. Dois números no mesmo app? Cadastre o endereço de cada canal como webhook "
        "do próprio número (webhook override na Graph API): eventos de outro número que chegarem aqui são "
        "ignorados."
    ),
    "evolution": (
        "No Evolution, configure o webhook da instância e ative o evento MESSAGES_UPSERT. Recomendado: use o "
        "endereço sem o segredo e ponha o segredo no cabeçalho X-Webhook-Secret (campo headers do webhook), "
        "para que ele não apareça em logs de acesso. O endereço com ?secret= também funciona."
    ),
    "zapi": (
        "Na Z-API, em Webhooks, cole este endereço em “Ao receber” e em “Status da mensagem”. A Z-API não envia "
        "cabeçalhos próprios, então o segredo vai no endereço: trate-o como uma senha. Com um proxy seu na "
        "frente, ele pode enviar o segredo no cabeçalho X-Webhook-Secret e chamar o endereço sem ?secret=."
    ),
    "twilio": (
        "Na Twilio, no remetente do WhatsApp, cole este endereço em “When a message comes in” e em Status callback."
    ),
}


def _form_fields(provider: Provider) -> list[dict[str, Any]]:
    fields = []
    for key in adapter_class(provider).credential_fields:
        if key in HIDDEN_CREDENTIALS:
            continue
        label, secret, help_text = CREDENTIAL_LABELS[key]
        fields.append(
            {
                "key": key,
                "label": label,
                "secret": secret,
                "required": key not in OPTIONAL_CREDENTIALS,
                "help": help_text,
            }
        )
    return fields


# What the page builds its forms from (static: no principal, nothing from the database).
PROVIDER_FORMS: list[dict[str, Any]] = [
    {
        "provider": p.value,
        "label": PROVIDER_INFO[p][0],
        "short": PROVIDER_INFO[p][1],
        "description": PROVIDER_INFO[p][2],
        "fields": _form_fields(p),
        "default_api_base_url": adapter_class(p).default_api_base_url,
        "api_base_url_required": p == Provider.evolution,  # self-hosted: the default is localhost
        "asks_phone": "from_number" not in adapter_class(p).credential_fields,
        "has_service_window": adapter_class(p).has_service_window,
    }
    for p in PROVIDERS
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
        provider = Provider(str(value or ""))
    except ValueError:
        provider = None
    if provider not in PROVIDER_INFO:
        raise UserError("Escolha um provedor: Cloud API, Evolution, Z-API ou Twilio.")
    return provider


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
    if channel is None or channel.provider not in PROVIDER_INFO:
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
        return UserError("Escolha um provedor: Cloud API, Evolution, Z-API ou Twilio.")
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
    if provider == Provider.cloud_api:
        verify_token = decrypt_credentials(channel.credentials_encrypted).get("verify_token", "")
    credentials = []
    for key in adapter_class(provider).credential_fields:
        if key in HIDDEN_CREDENTIALS or key == "verify_token":
            continue
        label, secret, _ = CREDENTIAL_LABELS[key]
        shown = SET
        if not secret and key in creds_set:
            shown = _mask_id(decrypt_credentials(channel.credentials_encrypted).get(key, ""))
        credentials.append({"key": key, "label": label, "value": shown if key in creds_set else "não configurado"})
    return {
        "id": str(channel.id),
        "provider": provider.value,
        "provider_label": PROVIDER_INFO[provider][1],
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
        return [_view(c, agents) for c in service.list_channels(s) if c.provider in PROVIDER_INFO]


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
    if prov == Provider.cloud_api and not creds.get("verify_token"):
        creds["verify_token"] = secrets.token_urlsafe(18)
    base_url = _text(data, "api_base_url")
    if prov == Provider.evolution and not base_url:
        raise UserError("Informe o endereço do seu servidor Evolution (ex. https://evolution.suaempresa.com.br).")
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
        if channel.provider == Provider.evolution and "api_base_url" in data and not base_url:
            raise UserError("Informe o endereço do seu servidor Evolution.")
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
        if "phone_number" in data and "from_number" not in adapter_class(channel.provider).credential_fields:
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
