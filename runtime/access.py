"""Who may do what in the panel. Every panel service takes a Principal and checks it here, so a
seller calling an owner-only event from a crafted websocket message is refused by the runtime,
not only by a hidden button."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from db.models import Role
from db.tenancy import tenant_session

MANAGERS = (Role.owner, Role.admin)


class UserError(ValueError):
    """A problem the user can fix, with a pt-BR message the panel shows as is."""


class Forbidden(PermissionError):
    """The signed-in user's role does not allow this action (shown to the user as is)."""

    def __init__(self, message: str = "Você não tem permissão para fazer isso.") -> None:
        super().__init__(message)


class NotSignedIn(PermissionError):
    def __init__(self) -> None:
        super().__init__("Sua sessão expirou. Entre novamente.")


@dataclass(frozen=True)
class Principal:
    """A signed-in user acting inside one workspace."""

    user_id: uuid.UUID
    workspace_id: uuid.UUID
    role: Role
    email: str = ""
    name: str = ""

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGERS

    def session(self):
        """A tenant-scoped database session (RLS) for this user's workspace."""
        return tenant_session(self.workspace_id, user_id=self.user_id)


def principal_for_token(token: str | None) -> Principal:
    """The principal behind a session cookie, checked against the database on every call (a
    deactivated user or revoked session stops working at once). Raises NotSignedIn."""
    from runtime.auth.sessions import resolve_session

    user = resolve_session(token)
    if user is None:
        raise NotSignedIn()
    return Principal(user.user_id, user.workspace_id, user.role, user.email, user.name)


def require_manager(principal: Principal) -> Principal:
    """Owners and admins only (agents, channels, knowledge, team, settings, dashboard, status)."""
    if principal.role not in MANAGERS:
        raise Forbidden()
    return principal


def require_owner(principal: Principal) -> Principal:
    if principal.role != Role.owner:
        raise Forbidden("Apenas o proprietário da conta pode fazer isso.")
    return principal
