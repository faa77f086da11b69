"""Append-only audit trail per workspace (who did what, from where)."""

from __future__ import annotations

import uuid
from typing import Any

from db.models import AuditLog
from db.tenancy import tenant_session


def record(
    workspace_id: uuid.UUID,
    action: str,
    *,
    user_id: uuid.UUID | None = None,
    api_key_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    with tenant_session(workspace_id) as s:
        s.add(
            AuditLog(
                workspace_id=workspace_id,
                actor_user_id=user_id,
                actor_api_key_id=api_key_id,
                action=action,
                target_type=target_type,
                target_id=target_id,
                data=data or {},
                ip=ip,
            )
        )
        s.commit()
