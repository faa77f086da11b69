"""Sign-up and login: workspaces, their owners, password checks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from db.models import Membership, Role, User, Workspace, utcnow
from db.tenancy import global_session, tenant_session
from runtime import security

from . import email_verification, takeover

ACCOUNT_ERRORS = {
    "email_invalido": "E-mail inválido.",
    "email_existente": "Já existe uma conta com este e-mail.",
    "empresa_vazia": "Informe o nome da empresa.",
    "empresa_longa": "O nome da empresa pode ter no máximo 120 caracteres.",
    "senha_ausente": "Informe uma senha.",
    "senha_fraca": f"A senha precisa ter pelo menos {security.MIN_PASSWORD_LENGTH} caracteres.",
    "conta_desativada": "Conta desativada.",
    "sem_empresa": "Esta conta não pertence a nenhuma empresa ativa.",
    "senha_incorreta": "A senha atual está incorreta.",
    "nome_longo": "O nome pode ter no máximo 120 caracteres.",
    "google_em_uso": "Esta conta Google já está vinculada a outro usuário.",
    "google_outra_conta": (
        "Já existe uma conta com este e-mail, vinculada a outra conta Google. Entre com aquela conta Google "
        "ou com e-mail e senha (em “Esqueci minha senha” você cria uma nova)."
    ),
    "google_email_nao_verificado": (
        "O Google ainda não confirmou o e-mail desta conta Google. Confirme-o no Google e tente de novo, "
        "ou entre com e-mail e senha."
    ),
    "google_ja_vinculado": "Você já tem uma conta Google vinculada. Desvincule-a antes de vincular outra.",
    "google_sem_senha": "Defina uma senha antes de desvincular o Google, senão você não conseguirá entrar.",
}


class AccountError(ValueError):
    """A user-facing problem with the input: a stable code (for URLs) and a pt-BR message."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(ACCOUNT_ERRORS[code])


@dataclass(frozen=True)
class NewWorkspace:
    workspace_id: uuid.UUID
    user_id: uuid.UUID


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError("email_invalido") from exc


def create_workspace(
    name: str,
    owner_email: str,
    password: str | None,
    owner_name: str = "",
    google_sub: str | None = None,
    *,
    email_verified: bool = False,
) -> NewWorkspace:
    """Create a workspace and its owner in one transaction (sign-up, CLI, Google first login).
    `email_verified` only when the address is known to be the owner's (Google said so; the demo)."""
    name = name.strip()
    if not name:
        raise AccountError("empresa_vazia")
    if len(name) > 120:
        raise AccountError("empresa_longa")
    email = normalize_email(owner_email)
    if password is None and google_sub is None:
        raise AccountError("senha_ausente")
    try:
        password_hash = security.hash_password(password) if password is not None else None
    except security.WeakPasswordError as exc:
        raise AccountError("senha_fraca") from exc

    workspace_id = uuid.uuid4()
    with tenant_session(workspace_id) as s:
        if s.exec(select(User.id).where(User.email == email)).first():
            raise AccountError("email_existente")
        user = User(
            email=email,
            name=owner_name.strip(),
            password_hash=password_hash,
            google_sub=google_sub,
            email_verified_at=utcnow() if email_verified else None,
        )
        s.add(Workspace(id=workspace_id, name=name))
        s.add(user)
        s.flush()
        s.add(Membership(workspace_id=workspace_id, user_id=user.id, role=Role.owner))
        try:
            s.commit()
        except IntegrityError as exc:  # a concurrent sign-up with the same e-mail
            raise AccountError("email_existente") from exc
        return NewWorkspace(workspace_id=workspace_id, user_id=user.id)


@dataclass(frozen=True)
class Authenticated:
    user_id: uuid.UUID
    workspace_id: uuid.UUID
    role: Role


def authenticate(email: str, password: str) -> Authenticated | None:
    """Check email + password; returns the user's first active workspace or None."""
    try:
        email = normalize_email(email)
    except AccountError:
        security.verify_password(None, password)
        return None
    with global_session() as s:
        user = s.exec(select(User).where(User.email == email)).first()
        if user is None or not user.is_active:
            security.verify_password(None, password)
            return None
        if not security.verify_password(user.password_hash, password):
            return None
        if security.needs_rehash(user.password_hash or ""):
            user.password_hash = security.hash_password(password)
        user.last_login_at = utcnow()
        s.add(user)
        s.commit()
        user_id = user.id
    return primary_membership(user_id)


def primary_membership(user_id: uuid.UUID) -> Authenticated | None:
    """The user's oldest active membership (membership rows are readable by their own user)."""
    with tenant_session(None, user_id=user_id) as s:
        m = s.exec(
            select(Membership)
            .where(Membership.user_id == user_id, Membership.is_active)
            .order_by(Membership.created_at)
        ).first()
        if m is None:
            return None
        return Authenticated(user_id=user_id, workspace_id=m.workspace_id, role=m.role)


def count_users() -> int:
    with global_session() as s:
        return s.exec(select(func.count()).select_from(User)).one()


def find_user_id(email: str) -> uuid.UUID | None:
    with global_session() as s:
        return s.exec(select(User.id).where(User.email == normalize_email(email))).first()


@dataclass(frozen=True)
class GoogleSignIn(Authenticated):
    took_over: bool = False  # an account with this unproven address was taken over (runtime.auth.takeover)


def google_sign_in(
    google_sub: str, email: str, name: str = "", *, email_verified: bool, ip: str | None = None
) -> GoogleSignIn:
    """Find the user by Google subject; else by e-mail: an account that proved the address is linked,
    one that never did is taken over, one linked to another Google account is refused; else sign up
    a new workspace. Google must have verified the address."""
    if not email_verified:
        raise AccountError("google_email_nao_verificado")
    email = normalize_email(email)
    now = utcnow()
    claimed: takeover.Takeover | None = None
    with global_session() as s:
        user = s.exec(select(User).where(User.google_sub == google_sub).with_for_update()).first()
        if user is None:
            user = s.exec(select(User).where(User.email == email).with_for_update()).first()
            if user is not None and user.is_active:
                if user.google_sub is not None:
                    raise AccountError("google_outra_conta")  # never relinked to a second Google account
                if user.email_verified_at is None:
                    claimed = takeover.take_over(s, user, google_sub, now, name)
                else:
                    user.google_sub = google_sub
        if user is not None:
            if not user.is_active:
                raise AccountError("conta_desativada")
            user.last_login_at = now
            s.add(user)
            try:
                s.commit()
            except IntegrityError as exc:  # the same Google account signing in twice at this moment
                raise AccountError("google_em_uso") from exc
            user_id = user.id
        else:
            user_id = None
    if claimed is not None:
        takeover.record(claimed, ip)
    if user_id is None:
        company = f"Empresa de {name}".strip() if name else email.split("@", 1)[1]
        new = create_workspace(company, email, None, owner_name=name, google_sub=google_sub, email_verified=True)
        user_id = new.user_id
    found = primary_membership(user_id)
    if found is None:
        raise AccountError("sem_empresa")
    return GoogleSignIn(
        user_id=found.user_id, workspace_id=found.workspace_id, role=found.role, took_over=claimed is not None
    )


# --- the signed-in user's own account (Configurações) ---------------------------------------


def set_user_name(user_id: uuid.UUID, name: str) -> None:
    name = (name or "").strip()
    if len(name) > 120:
        raise AccountError("nome_longo")
    with global_session() as s:
        user = s.get(User, user_id)
        if user is not None:
            user.name = name
            s.add(user)
            s.commit()


def change_password(user_id: uuid.UUID, current: str | None, new: str | None) -> None:
    """Check the current password (a Google-only account sets its first one without it) and store the
    new one. Signing out the other sessions is the caller's job (runtime.auth.sessions)."""
    if not new:
        raise AccountError("senha_ausente")
    try:
        new_hash = security.hash_password(new)
    except security.WeakPasswordError as exc:
        raise AccountError("senha_fraca") from exc
    with global_session() as s:
        user = s.get(User, user_id)
        if user is None or not user.is_active:
            raise AccountError("conta_desativada")
        if user.password_hash is not None and not security.verify_password(user.password_hash, current or ""):
            raise AccountError("senha_incorreta")
        user.password_hash = new_hash
        s.add(user)
        s.commit()


def link_google(user_id: uuid.UUID, google_sub: str, google_email: str | None = None) -> None:
    """Link a Google account (verified by the OIDC callback) to a signed-in user. When Google's
    verified address is the account's own, that proves the account's address too."""
    with global_session() as s:
        other = s.exec(select(User.id).where(User.google_sub == google_sub)).first()
        if other is not None and other != user_id:
            raise AccountError("google_em_uso")
        user = s.exec(select(User).where(User.id == user_id).with_for_update()).first()
        if user is None or not user.is_active:
            raise AccountError("conta_desativada")
        if user.google_sub is not None and user.google_sub != google_sub:
            raise AccountError("google_ja_vinculado")
        user.google_sub = google_sub
        if google_email and _same_address(google_email, user.email):
            email_verification.mark_verified(user)
        s.add(user)
        try:
            s.commit()
        except IntegrityError as exc:
            raise AccountError("google_em_uso") from exc


def _same_address(a: str, b: str) -> bool:
    try:
        return normalize_email(a) == b
    except AccountError:
        return False


def unlink_google(user_id: uuid.UUID) -> None:
    with global_session() as s:
        user = s.get(User, user_id)
        if user is None:
            return
        if user.password_hash is None:
            raise AccountError("google_sem_senha")
        user.google_sub = None
        s.add(user)
        s.commit()
