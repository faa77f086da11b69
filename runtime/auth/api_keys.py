"""Workspace API keys: shown once, stored hashed, revocable."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import select

from db.models import ApiKey, utcnow
from db.tenancy import global_session, tenant_session
from runtime import security

KEY_PREFIX = "pv_"


@dataclass(frozen=True)
class NewApiKey:
    id: uuid.UUID
    key: str  # the only time the plaintext exists


@dataclass(frozen=True)
class ApiKeyPrincipal:
    api_key_id: uuid.UUID
    workspace_id: uuid.UUID


def create_api_key(workspace_id: uuid.UUID, name: str, created_by: uuid.UUID | None = None) -> NewApiKey:
    key = KEY_PREFIX + security.new_token(32)
    with tenant_session(workspace_id) as s:
        row = ApiKey(
            workspace_id=workspace_id,
            name=name.strip()[:120] or "API key",
            prefix=key[:10],
            key_hash=security.token_hash(key),
            created_by_user_id=created_by,
        )
        s.add(row)
        s.commit()
        return NewApiKey(id=row.id, key=key)


def authenticate_api_key(key: str | None) -> ApiKeyPrincipal | None:
    """Resolve a bearer key to its workspace; None if missing, unknown or revoked."""
    if not key or not key.startswith(KEY_PREFIX):
        return None
    with global_session() as s:
        row = s.execute(
            text("SELECT id, workspace_id, revoked_at FROM app_api_key_lookup(:h)"),
            {"h": security.token_hash(key)},
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    with tenant_session(row.workspace_id) as s:
        s.execute(text("UPDATE api_key SET last_used_at = :now WHERE id = :id"), {"now": utcnow(), "id": row.id})
        s.commit()
    return ApiKeyPrincipal(api_key_id=row.id, workspace_id=row.workspace_id)


def revoke_api_key(workspace_id: uuid.UUID, api_key_id: uuid.UUID) -> bool:
    with tenant_session(workspace_id) as s:
        row = s.exec(select(ApiKey).where(ApiKey.id == api_key_id)).first()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        s.add(row)
        s.commit()
        return True


def list_api_keys(workspace_id: uuid.UUID) -> list[ApiKey]:
    with tenant_session(workspace_id) as s:
        return list(s.exec(select(ApiKey).order_by(ApiKey.created_at.desc())).all())
