"""E-mail confirmation: a one-use link that proves the account's owner reads its mailbox.

Why it matters: anyone can sign up with another person's address and a password. A Google sign-in
with that address joins the account only once the account proved the address; until then it takes
the account over (runtime.auth.takeover). What proves it: this link, e-mailed by the job worker when
SMTP_URL is set (password sign-ups get one at once, and may ask again from the panel's notice, at most
three an hour); an e-mailed password link used (runtime.auth.password_reset); Google saying so
(Google sign-ups, or linking a Google account with the same address in Configurações). An
invitation does not: its link is also shown to the manager who made it.

The database keeps only the token's hash; the queued job carries it encrypted. Confirming is a POST
from the page the link opens (a mail scanner that fetches links confirms nothing), and the page
names the company, so someone who did not create the account can tell and leave it.
"""

from __future__ import annotations

import html
import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from db.models import EmailVerification, Membership, User, Workspace, utcnow
from db.tenancy import global_session, tenant_session
from runtime import crypto, mail, security
from runtime.config import get_settings
from runtime.jobs import get_queue, job
from runtime.jobs.names import EMAIL_VERIFICATION_EMAIL as JOB

log = logging.getLogger(__name__)

LINK_TTL = timedelta(hours=48)
MAX_LINKS_PER_HOUR = 3  # per account, the sign-up's own included

VERIFY_ERRORS = {
    "link_invalido": "Este link de confirmação não existe. Entre na sua conta e peça outro no aviso do topo da página.",
    "link_expirado": "Este link de confirmação expirou. Entre na sua conta e peça outro no aviso do topo da página.",
    "link_usado": "Este link já foi usado. Entre na sua conta para continuar.",
    "conta_desativada": "Esta conta está desativada. Fale com o administrador da sua empresa.",
    "ja_confirmado": "O seu e-mail já está confirmado.",
    "sem_email": "O envio de e-mails não está configurado neste servidor, então não há como enviar o link.",
}


class VerificationError(ValueError):
    """A stable code (for URLs) and a pt-BR message."""

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        super().__init__(message or VERIFY_ERRORS[code])


@dataclass(frozen=True)
class LinkInfo:
    """What the confirmation page shows before the person confirms."""

    email: str
    company: str


@dataclass(frozen=True)
class Status:
    verified: bool
    email: str
    last_sent_at: datetime | None  # the newest link e-mailed, if any
    can_email: bool  # SMTP is configured


def verification_link(token: str) -> str:
    return get_settings().absolute_url("/verificar-email?token=" + token)


def mark_verified(user: User, now: datetime | None = None) -> None:
    """Record that the address was proven (by the caller's evidence), in the caller's transaction."""
    if user.email_verified_at is None:
        user.email_verified_at = now or utcnow()


def is_verified(user_id: uuid.UUID) -> bool:
    with global_session() as s:
        user = s.get(User, user_id)
        return user is not None and user.email_verified_at is not None


def status(user_id: uuid.UUID) -> Status:
    with global_session() as s:
        user = s.get(User, user_id)
        if user is None:
            raise VerificationError("conta_desativada")
        last = s.exec(
            select(EmailVerification.created_at)
            .where(EmailVerification.user_id == user_id)
            .order_by(EmailVerification.created_at.desc())
        ).first()
        return Status(
            verified=user.email_verified_at is not None,
            email=user.email,
            last_sent_at=last,
            can_email=mail.mail_enabled(),
        )


def after_sign_up(user_id: uuid.UUID) -> bool:
    """The first link for a new password account (sign-up, or an invitation that created it), when
    e-mail is configured. True when it was queued."""
    if not mail.mail_enabled():
        return False
    try:
        send_link(user_id)
    except VerificationError as exc:
        log.warning("e-mail confirmation for new user %s not queued: %s", user_id, exc.code)
        return False
    return True


def send_link(user_id: uuid.UUID, now: datetime | None = None) -> datetime:
    """Queue an e-mail with a new link ("reenviar" too); returns when it was made. Raises
    VerificationError: no SMTP, already confirmed, deactivated, or asked too often ("aguarde", with
    when the next one may be asked for)."""
    if not mail.mail_enabled():
        raise VerificationError("sem_email")
    now = now or utcnow()
    with global_session() as s:
        user = s.exec(select(User).where(User.id == user_id).with_for_update()).first()
        if user is None or not user.is_active:
            raise VerificationError("conta_desativada")
        if user.email_verified_at is not None:
            raise VerificationError("ja_confirmado")
        recent = s.exec(
            select(EmailVerification.created_at)
            .where(EmailVerification.user_id == user_id, EmailVerification.created_at > now - timedelta(hours=1))
            .order_by(EmailVerification.created_at)
        ).all()
        if len(recent) >= MAX_LINKS_PER_HOUR:
            minutes = max(1, math.ceil((recent[0] + timedelta(hours=1) - now).total_seconds() / 60))
            raise VerificationError(
                "aguarde",
                f"Você já pediu {MAX_LINKS_PER_HOUR} links na última hora. Confira a caixa de entrada e o spam, "
                f"ou peça outro em {minutes} minuto{'s' if minutes > 1 else ''}.",
            )
        token = security.new_token(32)
        row = EmailVerification(
            user_id=user_id,
            email=user.email,
            token_hash=security.token_hash(token),
            created_at=now,
            expires_at=now + LINK_TTL,
        )
        s.add(row)
        s.flush()
        get_queue().enqueue_in(s, JOB, {"verification_id": str(row.id), "token": crypto.encrypt(token)})
        s.commit()
    return now


def _open(s: Session, token: str | None, now: datetime) -> tuple[EmailVerification, User]:
    if not token or len(token) > 200:
        raise VerificationError("link_invalido")
    row = s.exec(
        select(EmailVerification).where(EmailVerification.token_hash == security.token_hash(token)).with_for_update()
    ).first()
    if row is None:
        raise VerificationError("link_invalido")
    user = s.get(User, row.user_id)
    if user is None or user.email != row.email:
        raise VerificationError("link_invalido")  # the account's address is no longer the one it proves
    if not user.is_active:
        raise VerificationError("conta_desativada")
    if row.used_at is not None:
        raise VerificationError("link_usado")
    if row.expires_at <= now:
        raise VerificationError("link_expirado")
    return row, user


def _company(user_id: uuid.UUID) -> str:
    """The name of the user's oldest workspace (the one a sign-up created)."""
    with tenant_session(None, user_id=user_id) as s:
        name = s.exec(
            select(Workspace.name)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.created_at)
        ).first()
    return name or ""


def describe(token: str | None, now: datetime | None = None) -> LinkInfo:
    """The address and company a link confirms (shown on the page); raises VerificationError."""
    with global_session() as s:
        _, user = _open(s, token, now or utcnow())
        user_id, email = user.id, user.email
    return LinkInfo(email=email, company=_company(user_id))


def confirm(token: str | None, now: datetime | None = None) -> uuid.UUID:
    """Mark the address proven and use up every open link of the account; returns the user's id."""
    now = now or utcnow()
    with global_session() as s:
        row, user = _open(s, token, now)
        mark_verified(user, now)
        s.add(user)
        for other in s.exec(
            select(EmailVerification).where(EmailVerification.user_id == user.id, EmailVerification.used_at.is_(None))
        ).all():
            other.used_at = now
            s.add(other)
        s.commit()
        return row.user_id


def compose(*, name: str, company: str, link: str) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the e-mail (pt-BR)."""
    hello = f"Olá, {name}!" if name else "Olá!"
    what = f"a conta da empresa {company}" if company else "uma conta"
    subject = "Confirme o seu e-mail no PilotoDeVendas"
    hours = int(LINK_TTL.total_seconds() // 3600)
    warning = "Se não foi você que criou esta conta, não confirme: ignore este e-mail."
    text = (
        f"{hello}\n\nEste endereço foi usado para criar {what} no PilotoDeVendas.\n\n"
        f"Confirme que o e-mail é seu por este link (vale por {hours} horas e uma vez só):\n{link}\n\n"
        f"{warning}\n"
    )
    e = html.escape
    body = mail.link_email_html(
        f"<p>{e(hello)}</p><p>Este endereço foi usado para criar {e(what)} no PilotoDeVendas. "
        "Confirme que o e-mail é seu.</p>",
        "Confirmar meu e-mail",
        link,
        f"O link vale por {hours} horas e uma vez só. {warning}",
    )
    return subject, text, body


@job(JOB)
def send_verification_email(payload: dict) -> None:
    try:
        token = crypto.decrypt(payload["token"])
    except ValueError:
        log.error(
            "e-mail confirmation %s: the link could not be decrypted (SECRET_KEY changed?)",
            payload.get("verification_id"),
        )
        return
    with global_session() as s:
        row = s.get(EmailVerification, uuid.UUID(payload["verification_id"]))
        if row is None or row.token_hash != security.token_hash(token) or row.used_at is not None:
            return
        if row.expires_at <= utcnow():
            return
        user = s.get(User, row.user_id)
        if user is None or not user.is_active or user.email != row.email or user.email_verified_at is not None:
            return
        to, name, user_id = user.email, (user.name or "").split(" ")[0], user.id
    subject, text, body = compose(name=name, company=_company(user_id), link=verification_link(token))
    try:
        mail.send(to, subject, text, body)
    except mail.MailError as exc:
        # The person asks again from the panel's notice; the log is where an operator sees it.
        log.error("e-mail confirmation %s: not sent: %s", payload["verification_id"], exc)
        raise
