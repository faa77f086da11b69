"""Equipe: the workspace's members and pending invitations; invite, change roles, deactivate.

Owners and admins manage the team. Only an owner may touch an owner or make someone an owner,
and the workspace always keeps at least one active owner. Deactivating someone signs them out of
this workspace at once (their sessions here are deleted; resolve_session also checks the
membership on every request).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import select

from db.models import Membership, Role, User
from runtime import audit, mail
from runtime.access import Principal, UserError, require_manager, require_owner
from runtime.auth import invitations, password_reset, sessions
from runtime.auth.invitations import InvitationError

ROLE_LABELS = {"owner": "Proprietário", "admin": "Administrador", "seller": "Vendedor"}
STATUS_LABELS = {"pending": "Pendente", "expired": "Expirado"}
EMAIL_LABELS = {"queued": "Enviando e-mail…", "sent": "E-mail enviado", "failed": "E-mail não enviado"}


def _uuid(value: Any, what: str = "pessoa") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise UserError(f"{what.capitalize()} não encontrada.") from exc


def _iso(dt) -> str:
    return dt.isoformat() if dt else ""


def _date_br(dt) -> str:
    return dt.strftime("%d/%m/%Y") if dt else ""


def _initials(source: str) -> str:
    words = [w for w in source.replace("@", " ").replace(".", " ").split() if w]
    if not words:
        return "?"
    return (words[0][:2] if len(words) == 1 else words[0][0] + words[1][0]).upper()


def _members(principal: Principal) -> list[dict[str, Any]]:
    with principal.session() as s:
        rows = s.exec(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.workspace_id == principal.workspace_id)
            .order_by(Membership.created_at)
        ).all()
    return [
        {
            "user_id": str(u.id),
            "name": u.name or u.email.split("@", 1)[0],
            "initials": _initials(u.name or u.email),
            "email": u.email,
            "role": m.role.value,
            "role_label": ROLE_LABELS[m.role.value],
            "is_active": bool(m.is_active and u.is_active),
            "is_me": u.id == principal.user_id,
            "joined": _date_br(m.created_at),
            "last_login": _date_br(u.last_login_at),
        }
        for m, u in rows
    ]


def overview(principal: Principal) -> dict[str, Any]:
    """Members (oldest first) and invitations not yet accepted or cancelled (newest first)."""
    require_manager(principal)
    pending = []
    for inv in invitations.list_invitations(principal.workspace_id):
        status = invitations.invitation_status(inv)
        pending.append(
            {
                "id": str(inv.id),
                "email": inv.email,
                "role": inv.role.value,
                "role_label": ROLE_LABELS[inv.role.value],
                "status": status,
                "status_label": STATUS_LABELS.get(status, status),
                "expires": _date_br(inv.expires_at),
                "created": _date_br(inv.created_at),
                "email_status": inv.email_status or "",
                "email_label": EMAIL_LABELS.get(inv.email_status or "", ""),
                "email_error": inv.email_error or "",
            }
        )
    return {
        "members": _members(principal),
        "invitations": pending,
        "can_manage_owners": principal.role == Role.owner,
        "email_enabled": mail.mail_enabled(),
    }


def invite(principal: Principal, email: str, role: str) -> dict[str, Any]:
    """A new invitation, e-mailed when SMTP is configured; returns the link (the only time it can
    be shown) for the inviter to send as well, e.g. on WhatsApp."""
    require_manager(principal)
    emailed = mail.mail_enabled()
    try:
        new = invitations.create_invitation(
            principal.workspace_id, email, role or "", invited_by=principal.user_id, email_it=emailed
        )
    except InvitationError as exc:
        raise UserError(str(exc)) from exc
    audit.record(
        principal.workspace_id,
        "team.invite",
        user_id=principal.user_id,
        target_type="invitation",
        target_id=str(new.id),
        data={"email": new.email, "role": new.role.value, "emailed": emailed},
    )
    return _new_link(new, emailed)


def renew_invitation(principal: Principal, invitation_id: str) -> dict[str, Any]:
    """A new link for a pending or expired invitation (the old one stops working), e-mailed again
    when SMTP is configured: for a lost link, a mistyped e-mail fixed at the server, an expiry."""
    require_manager(principal)
    inv_id = _uuid(invitation_id, "convite")
    emailed = mail.mail_enabled()
    try:
        new = invitations.renew_invitation(principal.workspace_id, inv_id, email_it=emailed)
    except InvitationError as exc:
        raise UserError(str(exc)) from exc
    if new is None:
        raise UserError("Este convite já foi usado ou cancelado.")
    audit.record(
        principal.workspace_id,
        "team.invite_renew",
        user_id=principal.user_id,
        target_type="invitation",
        target_id=str(inv_id),
        data={"emailed": emailed},
    )
    return _new_link(new, emailed)


def _new_link(new: invitations.NewInvitation, emailed: bool) -> dict[str, Any]:
    return {
        "id": str(new.id),
        "email": new.email,
        "role": new.role.value,
        "role_label": ROLE_LABELS[new.role.value],
        "link": invitations.invitation_link(new.token),
        "expires": _date_br(new.expires_at),
        "emailed": emailed,
    }


def revoke_invitation(principal: Principal, invitation_id: str) -> dict[str, Any]:
    require_manager(principal)
    inv_id = _uuid(invitation_id, "convite")
    if not invitations.revoke_invitation(principal.workspace_id, inv_id):
        raise UserError("Este convite já foi usado ou cancelado.")
    audit.record(
        principal.workspace_id,
        "team.invite_revoke",
        user_id=principal.user_id,
        target_type="invitation",
        target_id=str(inv_id),
    )
    return {"ok": True}


def _managed_membership(s, principal: Principal, user_id: uuid.UUID) -> Membership:
    """A member of this workspace the principal may act on: only an owner acts on an owner."""
    m = s.exec(
        select(Membership).where(Membership.workspace_id == principal.workspace_id, Membership.user_id == user_id)
    ).first()
    if m is None:
        raise UserError("Pessoa não encontrada na equipe.")
    if m.role == Role.owner:
        require_owner(principal)
    return m


def _other_active_owners(s, principal: Principal, user_id: uuid.UUID) -> int:
    return len(
        s.exec(
            select(Membership.id).where(
                Membership.workspace_id == principal.workspace_id,
                Membership.role == Role.owner,
                Membership.is_active,
                Membership.user_id != user_id,
            )
        ).all()
    )


LAST_OWNER = "A empresa precisa de pelo menos um proprietário ativo."


def change_role(principal: Principal, user_id: str, role: str) -> dict[str, Any]:
    """Make a member a seller, an admin or (owners only) an owner."""
    require_manager(principal)
    target = _uuid(user_id)
    try:
        new_role = Role(role)
    except ValueError as exc:
        raise UserError("Papel inválido.") from exc
    with principal.session() as s:
        m = _managed_membership(s, principal, target)
        if new_role == Role.owner:
            require_owner(principal)
        if m.role == new_role:
            return {"ok": True}
        if m.role == Role.owner and _other_active_owners(s, principal, target) == 0:
            raise UserError(LAST_OWNER)
        old = m.role
        m.role = new_role
        s.add(m)
        s.commit()
    audit.record(
        principal.workspace_id,
        "team.role",
        user_id=principal.user_id,
        target_type="user",
        target_id=str(target),
        data={"from": old.value, "to": new_role.value},
    )
    return {"ok": True}


def deactivate(principal: Principal, user_id: str) -> dict[str, Any]:
    """Remove a member's access to this workspace and sign them out of it now."""
    require_manager(principal)
    target = _uuid(user_id)
    if target == principal.user_id:
        raise UserError("Você não pode desativar a sua própria conta.")
    with principal.session() as s:
        m = _managed_membership(s, principal, target)
        if m.role == Role.owner and _other_active_owners(s, principal, target) == 0:
            raise UserError(LAST_OWNER)
        m.is_active = False
        s.add(m)
        s.commit()
    signed_out = sessions.revoke_user_sessions(target, workspace_id=principal.workspace_id)
    audit.record(
        principal.workspace_id,
        "team.deactivate",
        user_id=principal.user_id,
        target_type="user",
        target_id=str(target),
        data={"sessions_revoked": signed_out},
    )
    return {"ok": True, "sessions_revoked": signed_out}


def password_link(principal: Principal, user_id: str) -> dict[str, Any]:
    """A one-use link (24 h) for a member who forgot their password, for the manager to send them.
    Not for oneself (Configurações), an owner (unless by an owner), or someone who is also in
    another company (an admin here must not be able to take over their account there)."""
    require_manager(principal)
    target = _uuid(user_id)
    if target == principal.user_id:
        raise UserError("Para trocar a sua própria senha, use Configurações.")
    with principal.session() as s:
        m = _managed_membership(s, principal, target)
        if not m.is_active:
            raise UserError("Reative o acesso desta pessoa antes.")
    try:
        link = password_reset.link_for_member(target, principal.user_id, principal.workspace_id)
    except password_reset.ResetError as exc:
        raise UserError(str(exc)) from exc
    audit.record(
        principal.workspace_id,
        "team.password_link",
        user_id=principal.user_id,
        target_type="user",
        target_id=str(target),
    )
    return {"link": link.url, "hours": int(password_reset.MEMBER_TTL.total_seconds() // 3600)}


def reactivate(principal: Principal, user_id: str) -> dict[str, Any]:
    require_manager(principal)
    target = _uuid(user_id)
    with principal.session() as s:
        m = _managed_membership(s, principal, target)
        m.is_active = True
        s.add(m)
        s.commit()
    audit.record(
        principal.workspace_id,
        "team.reactivate",
        user_id=principal.user_id,
        target_type="user",
        target_id=str(target),
    )
    return {"ok": True}
