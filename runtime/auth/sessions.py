"""Server-side sessions behind the HttpOnly cookie. The cookie holds a random token; the
database keeps only its hash, so a database leak does not leak live sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import delete, select

from db.models import Membership, Role, User, UserSession, Workspace, utcnow
from db.tenancy import global_session, tenant_session
from runtime import security
from runtime.config import get_settings


@dataclass(frozen=True)
class CurrentUser:
    session_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str
    workspace_id: uuid.UUID
    workspace_name: str
    role: Role
    expires_at: datetime


def create_session(
    user_id: uuid.UUID, workspace_id: uuid.UUID, ip: str | None = None, user_agent: str | None = None
) -> str:
    token = security.new_token()
    ttl = timedelta(hours=get_settings().session_ttl_hours)
    with global_session() as s:
        s.add(
            UserSession(
                token_hash=security.token_hash(token),
                user_id=user_id,
                workspace_id=workspace_id,
                expires_at=utcnow() + ttl,
                ip=ip,
                user_agent=(user_agent or "")[:300] or None,
            )
        )
        s.commit()
    return token


def resolve_session(token: str | None, now: datetime | None = None) -> CurrentUser | None:
    """The signed-in user for a cookie token, or None if unknown, expired or deactivated."""
    if not token:
        return None
    now = now or utcnow()
    with global_session() as s:
        row = s.exec(select(UserSession).where(UserSession.token_hash == security.token_hash(token))).first()
        if row is None:
            return None
        if row.expires_at <= now:
            s.delete(row)
            s.commit()
            return None
        user = s.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        session_id, user_id, workspace_id, expires_at = row.id, row.user_id, row.workspace_id, row.expires_at
        email, name = user.email, user.name
    with tenant_session(workspace_id, user_id=user_id) as s:
        m = s.exec(
            select(Membership).where(Membership.user_id == user_id, Membership.workspace_id == workspace_id)
        ).first()
        ws = s.get(Workspace, workspace_id)
        if m is None or not m.is_active or ws is None:
            return None
        return CurrentUser(
            session_id=session_id,
            user_id=user_id,
            email=email,
            name=name,
            workspace_id=workspace_id,
            workspace_name=ws.name,
            role=m.role,
            expires_at=expires_at,
        )


def revoke_session(token: str | None) -> None:
    if not token:
        return
    with global_session() as s:
        s.exec(delete(UserSession).where(UserSession.token_hash == security.token_hash(token)))
        s.commit()


def purge_expired(now: datetime | None = None) -> int:
    with global_session() as s:
        result = s.exec(delete(UserSession).where(UserSession.expires_at <= (now or utcnow())))
        s.commit()
        return result.rowcount or 0


def revoke_user_sessions(
    user_id: uuid.UUID, workspace_id: uuid.UUID | None = None, keep_token: str | None = None
) -> int:
    """Sign a user out everywhere (or only in one workspace), except the session `keep_token` is."""
    with global_session() as s:
        q = delete(UserSession).where(UserSession.user_id == user_id)
        if workspace_id is not None:
            q = q.where(UserSession.workspace_id == workspace_id)
        if keep_token:
            q = q.where(UserSession.token_hash != security.token_hash(keep_token))
        result = s.exec(q)
        s.commit()
        return result.rowcount or 0
