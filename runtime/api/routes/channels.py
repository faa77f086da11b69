"""/api/v1/channels: connect WhatsApp numbers. Credentials are write-only; responses carry the
webhook URL to paste into the provider."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field
from sqlmodel import select

from db.models import Channel
from runtime import audit
from runtime.channels import service
from runtime.channels.registry import ADAPTERS, PROVIDERS

from ..deps import ApiPrincipal, TenantDB, require_api_key

router = APIRouter(prefix="/api/v1/channels", tags=["channels"], dependencies=[Depends(require_api_key)])

ProviderName = Literal[tuple(p.value for p in PROVIDERS)]  # the providers with an adapter
CREDENTIALS_DOC = "; ".join(
    f"{cls.provider.value}: "
    + ", ".join(
        k + (" (generated when omitted)" if k in service.GENERATED_SECRETS else "") for k in cls.credential_fields
    )
    for cls in ADAPTERS
)


class ChannelCreate(BaseModel):
    provider: ProviderName
    name: str = Field(min_length=1, max_length=120)
    api_base_url: str | None = Field(default=None, description="Provider default when omitted")
    agent_id: uuid.UUID | None = None
    credentials: dict[str, str] = Field(description=CREDENTIALS_DOC)
    settings: dict[str, Any] = Field(
        default_factory=dict, description="debounce_seconds, ignore_groups, auto_reply_text"
    )


class ChannelUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    api_base_url: str | None = None
    agent_id: uuid.UUID | None = None
    credentials: dict[str, str] | None = Field(default=None, description="Only the keys to replace")
    settings: dict[str, Any] | None = None
    is_active: bool | None = None


class ChannelSettingsPublic(BaseModel):
    debounce_seconds: float
    ignore_groups: bool
    auto_reply_text: str


class ChannelPublic(BaseModel):
    id: uuid.UUID
    provider: str
    name: str
    api_base_url: str
    agent_id: uuid.UUID | None
    webhook_url: str
    credentials_set: list[str]
    settings: ChannelSettingsPublic
    has_service_window: bool
    is_active: bool
    last_event_at: datetime | None
    last_error: str | None
    created_at: datetime


def _get(db, channel_id: uuid.UUID) -> Channel:
    channel = db.get(Channel, channel_id)
    if channel is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Channel not found")
    return channel


def _unprocessable(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


@router.post("", response_model=ChannelPublic, status_code=status.HTTP_201_CREATED)
def create_channel(body: ChannelCreate, principal: ApiPrincipal, db: TenantDB) -> dict:
    try:
        channel = service.create_channel(
            db,
            principal.workspace_id,
            provider=body.provider,
            name=body.name,
            credentials=body.credentials,
            api_base_url=body.api_base_url,
            agent_id=body.agent_id,
            settings=body.settings,
        )
    except service.ChannelError as exc:
        raise _unprocessable(exc) from exc
    db.commit()
    audit.record(
        principal.workspace_id,
        "channel.create",
        api_key_id=principal.api_key_id,
        target_type="channel",
        target_id=str(channel.id),
        data={"provider": body.provider},
    )
    return service.public_view(channel)


@router.get("", response_model=list[ChannelPublic])
def list_channels(db: TenantDB) -> list[dict]:
    return [service.public_view(c) for c in db.exec(select(Channel).order_by(Channel.created_at)).all()]


@router.get("/{channel_id}", response_model=ChannelPublic)
def get_channel(channel_id: uuid.UUID, db: TenantDB) -> dict:
    return service.public_view(_get(db, channel_id))


@router.patch("/{channel_id}", response_model=ChannelPublic)
def update_channel(channel_id: uuid.UUID, body: ChannelUpdate, principal: ApiPrincipal, db: TenantDB) -> dict:
    channel = _get(db, channel_id)
    fields = body.model_fields_set
    try:
        service.update_channel(
            db,
            channel,
            name=body.name,
            credentials=body.credentials,
            api_base_url=body.api_base_url,
            clear_api_base_url="api_base_url" in fields and body.api_base_url is None,
            agent_id=body.agent_id,
            settings=body.settings,
            is_active=body.is_active,
        )
    except service.ChannelError as exc:
        raise _unprocessable(exc) from exc
    db.commit()
    audit.record(
        principal.workspace_id,
        "channel.update",
        api_key_id=principal.api_key_id,
        target_type="channel",
        target_id=str(channel.id),
        data={"fields": sorted(fields - {"credentials"}) + (["credentials"] if body.credentials else [])},
    )
    return service.public_view(channel)


@router.delete("/{channel_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_channel(channel_id: uuid.UUID, principal: ApiPrincipal, db: TenantDB) -> None:
    db.delete(_get(db, channel_id))
    db.commit()
    audit.record(
        principal.workspace_id,
        "channel.delete",
        api_key_id=principal.api_key_id,
        target_type="channel",
        target_id=str(channel_id),
    )
