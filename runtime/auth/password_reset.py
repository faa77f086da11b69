"""Forgotten passwords: a one-use link to set a new one.

Two ways to get one: the person asks on /esqueci-senha and it is e-mailed (SMTP_URL; the answer is
the same whether or not the address has an account, so the page tells nobody who is a customer),
or an owner/admin makes one for a member on Equipe and sends it (e.g. on WhatsApp) -- the way
when no e-mail is configured. The database keeps only the token's hash. Setting the new password
uses the link up, cancels the person's other links and signs them out everywhere.

A manager's link is bound to the workspace it was made in and works only while the person belongs
to no other workspace -- checked when it is made and again when it is opened and used, since the
person may join another company in between (an admin here must not be able to take over the
account there). An e-mailed link proves the address (runtime.auth.email_verification); a Google
login linked to the account before the address was proven is removed then, since whoever held the
password may have linked their own.
"""

from __future__ import annotations

import html
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from db.models import Membership, PasswordReset, User, utcnow
from db.tenancy import global_session, tenant_session
from runtime import crypto, mail, security
from runtime.config import get_settings
from runtime.jobs import get_queue, job
from runtime.jobs.names import PASSWORD_RESET_EMAIL as JOB

from . import email_verification, sessions
from .accounts import AccountError, normalize_email

log = logging.getLogger(__name__)

EMAIL_TTL = timedelta(hours=1)  # asked for by the person: short
MEMBER_TTL = timedelta(hours=24)  # made by a manager and sent by hand: a day to open it
MAX_REQUESTS_PER_HOUR = 3  # per account: more asks are answered the same but send nothing

RESET_ERRORS = {
    "link_invalido": "Este link não existe. Peça um novo em “Esqueci minha senha”.",
    "link_expirado": "Este link expirou. Peça um novo em “Esqueci minha senha”.",
    "link_usado": "Este link já foi usado. Entre com a sua nova senha ou peça outro link.",
    "senha_ausente": "Informe a nova senha.",
    "senha_fraca": f"A senha precisa ter pelo menos {security.MIN_PASSWORD_LENGTH} caracteres.",
    "senhas_diferentes": "As duas senhas não são iguais.",
    "conta_desativada": "Esta conta está desativada. Fale com o administrador da sua empresa.",
    "outra_empresa": (
        "Este link não vale mais: a conta agora participa de outra empresa. Peça um novo link em "
        "“Esqueci minha senha”, na tela de login."
    ),
    "membro_de_outra_empresa": (
        "Esta pessoa também participa de outra empresa: ela mesma precisa pedir o link em "
        "“Esqueci minha senha”, na tela de login."
    ),
}


class ResetError(ValueError):
    """A stable code (for URLs) and a pt-BR message."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(RESET_ERRORS[code])


@dataclass(frozen=True)
class NewLink:
    token: str  # the only time the plaintext exists
    expires_at: datetime

    @property
    def url(self) -> str:
        return reset_link(self.token)


def reset_link(token: str) -> str:
    return get_settings().absolute_url("/redefinir-senha?token=" + token)


def _create(
    s,
    user_id: uuid.UUID,
    ttl: timedelta,
    created_by: uuid.UUID | None,
    now: datetime,
    workspace_id: uuid.UUID | None = None,
) -> tuple[str, PasswordReset]:
    token = security.new_token(32)
    row = PasswordReset(
        user_id=user_id,
        token_hash=security.token_hash(token),
        created_at=now,
        expires_at=now + ttl,
        created_by_user_id=created_by,
        workspace_id=workspace_id,
    )
    s.add(row)
    s.flush()
    return token, row


def request_reset(email: str, now: datetime | None = None) -> bool:
    """Queue the e-mail with a new link if `email` has an active account and e-mail is configured.
    The caller answers the same either way; True only says a message was queued (tests, logs)."""
    if not mail.mail_enabled():
        return False
    try:
        email = normalize_email(email or "")
    except AccountError:
        return False
    now = now or utcnow()
    with global_session() as s:
        user = s.exec(select(User).where(User.email == email).with_for_update()).first()
        if user is None or not user.is_active:
            return False
        recent = s.exec(
            select(PasswordReset).where(
                PasswordReset.user_id == user.id,
                PasswordReset.created_at > now - timedelta(hours=1),
                PasswordReset.created_by_user_id.is_(None),
            )
        ).all()
        if len(recent) >= MAX_REQUESTS_PER_HOUR:
            log.warning("password reset: too many requests for user %s in the last hour", user.id)
            return False
        token, row = _create(s, user.id, EMAIL_TTL, None, now)
        get_queue().enqueue_in(s, JOB, {"reset_id": str(row.id), "token": crypto.encrypt(token)})
        s.commit()
    return True


def link_for_member(
    user_id: uuid.UUID, created_by: uuid.UUID, workspace_id: uuid.UUID, now: datetime | None = None
) -> NewLink:
    """A link a manager of `workspace_id` sends to a member by hand (that the manager may act on the
    member is the caller's check: runtime.panel.team)."""
    now = now or utcnow()
    if _belongs_elsewhere(user_id, workspace_id):
        raise ResetError("membro_de_outra_empresa")
    with global_session() as s:
        user = s.get(User, user_id)
        if user is None or not user.is_active:
            raise ResetError("conta_desativada")
        token, row = _create(s, user_id, MEMBER_TTL, created_by, now, workspace_id)
        s.commit()
        return NewLink(token=token, expires_at=row.expires_at)


def _belongs_elsewhere(user_id: uuid.UUID, workspace_id: uuid.UUID | None) -> bool:
    """Whether the person has a membership (active or not) in any workspace but `workspace_id`."""
    with tenant_session(None, user_id=user_id) as s:  # a user's own memberships are readable as them
        joined = s.exec(select(Membership.workspace_id).where(Membership.user_id == user_id)).all()
    return any(w != workspace_id for w in joined)


def _is_managers(row: PasswordReset) -> bool:
    # created_by is SET NULL when the manager's account goes; the workspace says it all the same
    return row.workspace_id is not None or row.created_by_user_id is not None


def _open(s, token: str | None, now: datetime) -> PasswordReset:
    if not token:
        raise ResetError("link_invalido")
    row = s.exec(
        select(PasswordReset).where(PasswordReset.token_hash == security.token_hash(token)).with_for_update()
    ).first()
    if row is None:
        raise ResetError("link_invalido")
    if row.used_at is not None:
        raise ResetError("link_usado")
    if row.expires_at <= now:
        raise ResetError("link_expirado")
    if _is_managers(row) and _belongs_elsewhere(row.user_id, row.workspace_id):
        raise ResetError("outra_empresa")
    return row


def describe(token: str | None, now: datetime | None = None) -> str:
    """The e-mail of the account the link is for (shown on the page); raises ResetError."""
    with global_session() as s:
        row = _open(s, token, now or utcnow())
        user = s.get(User, row.user_id)
        if user is None or not user.is_active:
            raise ResetError("conta_desativada")
        return user.email


def complete(token: str | None, password: str | None, confirm: str | None, now: datetime | None = None) -> uuid.UUID:
    """Set the new password; returns the user's id. Raises ResetError."""
    now = now or utcnow()
    if not password:
        raise ResetError("senha_ausente")
    if confirm is not None and confirm != password:
        raise ResetError("senhas_diferentes")
    try:
        new_hash = security.hash_password(password)
    except security.WeakPasswordError as exc:
        raise ResetError("senha_fraca") from exc
    with global_session() as s:
        row = _open(s, token, now)
        user = s.get(User, row.user_id)
        if user is None or not user.is_active:
            raise ResetError("conta_desativada")
        user.password_hash = new_hash
        if not _is_managers(row):  # it came by e-mail: the person reads that mailbox
            if user.email_verified_at is None:
                user.google_sub = None  # linked by whoever held the password before the address was proven
            email_verification.mark_verified(user, now)
        s.add(user)
        for other in s.exec(
            select(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        ).all():
            other.used_at = now
            s.add(other)
        s.commit()
        user_id = user.id
    sessions.revoke_user_sessions(user_id)
    return user_id


def compose(*, name: str, link: str) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the e-mail (pt-BR)."""
    hello = f"Olá, {name}!" if name else "Olá!"
    subject = "Redefinir a sua senha do PilotoDeVendas"
    text = (
        f"{hello}\n\nRecebemos um pedido para redefinir a senha da sua conta no PilotoDeVendas.\n\n"
        f"Crie uma nova senha por este link (vale por 1 hora e uma vez só):\n{link}\n\n"
        "Se não foi você, ignore este e-mail: a sua senha continua a mesma.\n"
    )
    e = html.escape
    body = mail.link_email_html(
        f"<p>{e(hello)}</p><p>Recebemos um pedido para redefinir a senha da sua conta no PilotoDeVendas.</p>",
        "Criar nova senha",
        link,
        "Ele vale por 1 hora e uma vez só. Se não foi você, ignore este e-mail: a sua senha continua a mesma.",
    )
    return subject, text, body


@job(JOB)
def send_reset_email(payload: dict) -> None:
    try:
        token = crypto.decrypt(payload["token"])
    except ValueError:
        log.error("password reset %s: the link could not be decrypted (SECRET_KEY changed?)", payload.get("reset_id"))
        return
    with global_session() as s:
        row = s.get(PasswordReset, uuid.UUID(payload["reset_id"]))
        if row is None or row.token_hash != security.token_hash(token) or row.used_at is not None:
            return
        if row.expires_at <= utcnow():
            return
        user = s.get(User, row.user_id)
        if user is None or not user.is_active:
            return
        to, name = user.email, (user.name or "").split(" ")[0]
    subject, text, body = compose(name=name, link=reset_link(token))
    try:
        mail.send(to, subject, text, body)
    except mail.MailError as exc:
        # Nobody waits on a page for this one: the log is where an operator sees it.
        log.error("password reset %s: e-mail not sent: %s", payload["reset_id"], exc)
        raise
