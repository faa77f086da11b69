"""Team invitations: an owner or admin invites someone by e-mail as a seller or an admin.

With SMTP configured (SMTP_URL) the invitation is e-mailed (runtime.auth.invitation_email);
either way the panel shows the link once for the inviter to send. The link carries a random
token; the database keeps only its hash. An invitation is good for 7 days
and once. Accepting it happens before the invitee has a session, so the invitation is found by
hash through ``app_invitation_lookup`` (SECURITY DEFINER, migration 0008) and everything else runs
under RLS for the invitation's workspace.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from db.models import Invitation, Membership, Role, User, Workspace, utcnow
from db.tenancy import global_session, tenant_session
from runtime import security

from . import invitation_email
from .accounts import AccountError, normalize_email
from .invitation_email import invitation_link  # noqa: F401  (the panel gives the link to copy)

INVITATION_TTL = timedelta(days=7)
INVITABLE_ROLES = (Role.seller, Role.admin)

INVITATION_ERRORS = {
    "convite_invalido": "Este convite não existe. Confira o link ou peça um novo convite.",
    "convite_expirado": "Este convite expirou. Peça um novo convite a quem te convidou.",
    "convite_revogado": "Este convite foi cancelado. Peça um novo convite a quem te convidou.",
    "convite_usado": "Este convite já foi usado. Entre com o seu e-mail e senha.",
    "email_invalido": "E-mail inválido.",
    "papel_invalido": "Escolha vendedor ou administrador.",
    "ja_membro": "Esta pessoa já faz parte da equipe.",
    "membro_desativado": "Esta pessoa já faz parte da equipe, desativada. Reative-a na lista da equipe.",
    "senha_ausente": "Informe uma senha.",
    "senha_fraca": f"A senha precisa ter pelo menos {security.MIN_PASSWORD_LENGTH} caracteres.",
    "senha_incorreta": "Já existe uma conta com este e-mail: informe a senha dela para entrar na equipe.",
    "conta_google": "Esta conta entra com o Google: entre com o Google e abra o link do convite de novo.",
    "conta_desativada": "Conta desativada.",
    "limite_emails": "Esta empresa chegou ao limite de convites por e-mail desta hora. Tente de novo mais tarde.",
}


class InvitationError(ValueError):
    """A stable code (for URLs) and a pt-BR message."""

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        super().__init__(message or INVITATION_ERRORS[code])


def _too_many_emails(exc: invitation_email.TooManyEmails) -> InvitationError:
    n, m = exc.per_hour, exc.minutes
    return InvitationError(
        "limite_emails",
        f"Esta empresa chegou ao limite de {n} convite{'s' if n > 1 else ''} por e-mail por hora. "
        f"Tente de novo em {m} minuto{'s' if m > 1 else ''}.",
    )


@dataclass(frozen=True)
class NewInvitation:
    id: uuid.UUID
    token: str  # the only time the plaintext exists
    email: str
    role: Role
    expires_at: datetime


@dataclass(frozen=True)
class InvitationInfo:
    """What the accept page shows before the invitee decides."""

    workspace_name: str
    email: str
    role: Role
    account_exists: bool


@dataclass(frozen=True)
class Accepted:
    user_id: uuid.UUID
    workspace_id: uuid.UUID
    role: Role
    created_user: bool


def invitation_status(inv: Invitation, now: datetime | None = None) -> str:
    """pending, accepted, revoked or expired."""
    if inv.accepted_at is not None:
        return "accepted"
    if inv.revoked_at is not None:
        return "revoked"
    if inv.expires_at <= (now or utcnow()):
        return "expired"
    return "pending"


def create_invitation(
    workspace_id: uuid.UUID,
    email: str,
    role: Role | str,
    invited_by: uuid.UUID | None = None,
    now: datetime | None = None,
    *,
    email_it: bool = False,
) -> NewInvitation:
    """A new invitation (an older pending one for the same e-mail is revoked: one live link each);
    with `email_it`, its e-mail is queued in the same transaction."""
    try:
        email = normalize_email(email or "")
    except AccountError as exc:
        raise InvitationError("email_invalido") from exc
    try:
        role = Role(role)
    except ValueError as exc:
        raise InvitationError("papel_invalido") from exc
    if role not in INVITABLE_ROLES:
        raise InvitationError("papel_invalido")
    now = now or utcnow()
    token = security.new_token(32)
    with tenant_session(workspace_id) as s:
        member = s.exec(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.workspace_id == workspace_id, User.email == email)
        ).first()
        if member is not None:
            raise InvitationError("ja_membro" if member.is_active else "membro_desativado")
        for old in s.exec(
            select(Invitation).where(
                Invitation.email == email, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
            )
        ).all():
            old.revoked_at = now
            s.add(old)
        inv = Invitation(
            workspace_id=workspace_id,
            email=email,
            role=role,
            token_hash=security.token_hash(token),
            invited_by_user_id=invited_by,
            created_at=now,
            expires_at=now + INVITATION_TTL,
        )
        s.add(inv)
        if email_it:
            s.flush()
            try:
                invitation_email.queue_in(s, inv, token, now)
            except invitation_email.TooManyEmails as exc:
                raise _too_many_emails(exc) from None  # nothing is kept: the session rolls back
        s.commit()
        return NewInvitation(id=inv.id, token=token, email=email, role=role, expires_at=inv.expires_at)


def renew_invitation(
    workspace_id: uuid.UUID, invitation_id: uuid.UUID, now: datetime | None = None, *, email_it: bool = False
) -> NewInvitation | None:
    """A new link (and 7 more days) for a pending or expired invitation; the old link stops working.
    None when it was accepted or cancelled."""
    now = now or utcnow()
    token = security.new_token(32)
    with tenant_session(workspace_id) as s:
        inv = s.exec(select(Invitation).where(Invitation.id == invitation_id).with_for_update()).first()
        if inv is None or inv.accepted_at is not None or inv.revoked_at is not None:
            return None
        inv.token_hash = security.token_hash(token)
        inv.expires_at = now + INVITATION_TTL
        inv.email_status, inv.email_error, inv.email_sent_at = None, None, None
        s.add(inv)
        if email_it:
            try:
                invitation_email.queue_in(s, inv, token, now)
            except invitation_email.TooManyEmails as exc:
                raise _too_many_emails(exc) from None
        s.commit()
        return NewInvitation(id=inv.id, token=token, email=inv.email, role=inv.role, expires_at=inv.expires_at)


def list_invitations(workspace_id: uuid.UUID, include_closed: bool = False) -> list[Invitation]:
    """Newest first; by default only the ones not yet accepted or revoked (expired ones included)."""
    with tenant_session(workspace_id) as s:
        q = select(Invitation).order_by(Invitation.created_at.desc())
        if not include_closed:
            q = q.where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        return list(s.exec(q).all())


def revoke_invitation(workspace_id: uuid.UUID, invitation_id: uuid.UUID, now: datetime | None = None) -> bool:
    with tenant_session(workspace_id) as s:
        inv = s.exec(select(Invitation).where(Invitation.id == invitation_id)).first()
        if inv is None or inv.accepted_at is not None or inv.revoked_at is not None:
            return False
        inv.revoked_at = now or utcnow()
        s.add(inv)
        s.commit()
        return True


def _lookup(token: str | None) -> tuple[uuid.UUID, uuid.UUID]:
    """(invitation id, workspace id) for a link's token, found by hash before any tenant is known."""
    if not token or len(token) > 200:
        raise InvitationError("convite_invalido")
    with global_session() as s:
        row = s.execute(
            text("SELECT id, workspace_id FROM app_invitation_lookup(:h)"), {"h": security.token_hash(token)}
        ).first()
    if row is None:
        raise InvitationError("convite_invalido")
    return row.id, row.workspace_id


def _check_open(inv: Invitation, now: datetime) -> None:
    status = invitation_status(inv, now)
    if status != "pending":
        raise InvitationError(
            {"accepted": "convite_usado", "revoked": "convite_revogado", "expired": "convite_expirado"}[status]
        )


def describe(token: str | None, now: datetime | None = None) -> InvitationInfo:
    """The invitation behind a link, if it can still be accepted (else InvitationError)."""
    now = now or utcnow()
    inv_id, workspace_id = _lookup(token)
    with tenant_session(workspace_id) as s:
        inv = s.get(Invitation, inv_id)
        ws = s.get(Workspace, workspace_id)
        if inv is None or ws is None:
            raise InvitationError("convite_invalido")
        _check_open(inv, now)
        exists = s.exec(select(User.id).where(User.email == inv.email)).first() is not None
        return InvitationInfo(workspace_name=ws.name, email=inv.email, role=inv.role, account_exists=exists)


def accept(
    token: str | None,
    name: str,
    password: str | None,
    *,
    signed_in_user_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Accepted:
    """Join the invitation's workspace with its role.

    A new e-mail gets an account with this name and password. An existing account joins after
    proving it is theirs: its current password, or being signed in as it already (Google-only
    accounts). The invitation is used once (row locked while it is checked and marked).
    """
    now = now or utcnow()
    inv_id, workspace_id = _lookup(token)
    with tenant_session(workspace_id) as s:
        inv = s.exec(select(Invitation).where(Invitation.id == inv_id).with_for_update()).first()
        if inv is None:
            raise InvitationError("convite_invalido")
        _check_open(inv, now)
        user = s.exec(select(User).where(User.email == inv.email)).first()
        created = user is None
        if user is None:
            if not password:
                raise InvitationError("senha_ausente")
            try:
                password_hash = security.hash_password(password)
            except security.WeakPasswordError as exc:
                raise InvitationError("senha_fraca") from exc
            user = User(email=inv.email, name=(name or "").strip()[:120], password_hash=password_hash)
            s.add(user)
            s.flush()
        else:
            if not user.is_active:
                raise InvitationError("conta_desativada")
            if signed_in_user_id != user.id:
                if user.password_hash is None:
                    raise InvitationError("conta_google")
                if not password or not security.verify_password(user.password_hash, password):
                    raise InvitationError("senha_incorreta")
            if name and name.strip() and not user.name:
                user.name = name.strip()[:120]
                s.add(user)
        member = s.exec(
            select(Membership).where(Membership.workspace_id == workspace_id, Membership.user_id == user.id)
        ).first()
        if member is None:
            s.add(Membership(workspace_id=workspace_id, user_id=user.id, role=inv.role))
        elif not member.is_active:
            member.is_active, member.role = True, inv.role
            s.add(member)
        # An active member keeps the role they have: the invitation is simply used up.
        role = member.role if member is not None else inv.role
        inv.accepted_at = now
        inv.accepted_user_id = user.id
        s.add(inv)
        user.last_login_at = now
        try:
            s.commit()
        except IntegrityError as exc:  # the same e-mail signed up at this very moment
            raise InvitationError("convite_invalido") from exc
        return Accepted(user_id=user.id, workspace_id=workspace_id, role=role, created_user=created)
