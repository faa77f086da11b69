"""The invitation e-mail: queued with the invitation, sent by the worker, its outcome kept on it.

The link's token exists in plaintext only while the job waits: the payload carries it encrypted
(runtime.crypto). A job whose invitation was since renewed (new token), accepted or cancelled
sends nothing. The outcome (sent / failed with the reason) is what Equipe shows beside the
invitation, so a mistyped address or an SMTP outage is visible rather than silent.

A workspace may queue at most INVITATION_EMAILS_PER_HOUR of them (new invitations and new links
alike), so Equipe can't be used to flood strangers' inboxes from our server; the count is taken
under a per-workspace lock, so concurrent invitations can't both slip past it.
"""

from __future__ import annotations

import html
import logging
import math
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, text
from sqlmodel import Session, delete, select

from db.models import Invitation, InvitationEmailSend, Role, User, Workspace, utcnow
from db.tenancy import tenant_session
from runtime import crypto, mail, security
from runtime.config import get_settings
from runtime.jobs import get_queue, job
from runtime.jobs.names import INVITATION_EMAIL as JOB

log = logging.getLogger(__name__)


def invitation_link(token: str) -> str:
    """The one-use sign-up link an invitation carries (e-mailed from here, shown on Equipe)."""
    return get_settings().absolute_url("/convite?token=" + token)


ROLE_NAMES = {Role.seller: "vendedor(a)", Role.admin: "administrador(a)"}


class TooManyEmails(Exception):
    """The workspace used its hourly allowance; `minutes` until the next e-mail may go."""

    def __init__(self, per_hour: int, minutes: int) -> None:
        self.per_hour, self.minutes = per_hour, minutes
        super().__init__(f"{per_hour} invitation e-mails an hour; next in {minutes} min")


def queue_in(session: Session, inv: Invitation, token: str, now: datetime | None = None) -> None:
    """Queue the e-mail in the caller's transaction (it exists exactly when the invitation does).
    Raises TooManyEmails when the workspace has used its hourly allowance (the caller rolls back)."""
    now = now or utcnow()
    _use_allowance(session, inv, now)
    inv.email_status, inv.email_error, inv.email_sent_at = "queued", None, None
    session.add(inv)
    get_queue().enqueue_in(
        session,
        JOB,
        {"workspace_id": str(inv.workspace_id), "invitation_id": str(inv.id), "token": crypto.encrypt(token)},
    )


def _use_allowance(session: Session, inv: Invitation, now: datetime) -> None:
    per_hour = get_settings().invitation_emails_per_hour
    # One invitation e-mail decision at a time per workspace, until the transaction ends.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('invitation_email:' || :ws, 0))"),
        {"ws": str(inv.workspace_id)},
    )
    session.exec(
        delete(InvitationEmailSend).where(
            InvitationEmailSend.workspace_id == inv.workspace_id,
            InvitationEmailSend.created_at < now - timedelta(days=1),
        )
    )
    window = now - timedelta(hours=1)
    sent, oldest = session.exec(
        select(func.count(), func.min(InvitationEmailSend.created_at)).where(
            InvitationEmailSend.workspace_id == inv.workspace_id, InvitationEmailSend.created_at > window
        )
    ).one()
    if sent >= per_hour:
        raise TooManyEmails(per_hour, max(1, math.ceil((oldest + timedelta(hours=1) - now).total_seconds() / 60)))
    session.add(InvitationEmailSend(workspace_id=inv.workspace_id, invitation_id=inv.id, created_at=now))


def compose(
    *, workspace: str, inviter: str | None, role: Role, link: str, expires_at: datetime
) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the invitation (pt-BR)."""
    who = f"{inviter} convidou você" if inviter else "Você foi convidado(a)"
    role_name = ROLE_NAMES.get(role, role.value)
    until = expires_at.strftime("%d/%m/%Y")
    subject = f"Convite para a equipe {workspace} no PilotoDeVendas"
    text = (
        f"Olá!\n\n{who} para entrar na equipe {workspace} no PilotoDeVendas como {role_name}.\n\n"
        f"Aceite o convite por este link:\n{link}\n\n"
        f"O link vale até {until} e só pode ser usado uma vez. Se você não esperava este convite, "
        "ignore este e-mail.\n"
    )
    e = html.escape
    body = mail.link_email_html(
        f"<p>Olá!</p><p>{e(who)} para entrar na equipe <strong>{e(workspace)}</strong> no "
        f"PilotoDeVendas como {e(role_name)}.</p>",
        "Aceitar o convite",
        link,
        f"O link vale até {until} e só pode ser usado uma vez. Se você não esperava este convite, ignore este e-mail.",
    )
    return subject, text, body


@job(JOB)
def send_invitation_email(payload: dict) -> None:
    workspace_id = uuid.UUID(payload["workspace_id"])
    invitation_id = uuid.UUID(payload["invitation_id"])
    try:
        token = crypto.decrypt(payload["token"])
    except ValueError:
        _record(workspace_id, invitation_id, None, ("failed", "não foi possível ler o convite (SECRET_KEY mudou?)"))
        return
    with tenant_session(workspace_id) as s:
        inv = s.exec(select(Invitation).where(Invitation.id == invitation_id)).first()
        if inv is None or inv.token_hash != security.token_hash(token):
            return  # cancelled and deleted, or renewed: the newer job sends the newer link
        if inv.email_status == "sent":
            return  # this link went out already (a job delivered again)
        if inv.accepted_at is not None or inv.revoked_at is not None or inv.expires_at <= utcnow():
            inv.email_status = None if inv.email_status == "queued" else inv.email_status
            s.add(inv)
            s.commit()
            return
        workspace = s.get(Workspace, workspace_id)
        inviter = s.get(User, inv.invited_by_user_id) if inv.invited_by_user_id else None
        subject, text, body = compose(
            workspace=workspace.name if workspace else "",
            inviter=(inviter.name or inviter.email) if inviter else None,
            role=inv.role,
            link=invitation_link(token),
            expires_at=inv.expires_at,
        )
        to, expected_hash = inv.email, inv.token_hash
    # sent outside the transaction: retries may take a while and must not hold the row
    try:
        mail.send(to, subject, text, body)
        outcome: tuple[str, str | None] = ("sent", None)
    except mail.MailError as exc:
        log.warning("invitation %s: e-mail not sent: %s", invitation_id, exc)
        outcome = ("failed", str(exc))
    _record(workspace_id, invitation_id, expected_hash, outcome)


def _record(
    workspace_id: uuid.UUID, invitation_id: uuid.UUID, expected_hash: str | None, outcome: tuple[str, str | None]
) -> None:
    """Keep the outcome on the invitation, unless it was renewed meanwhile (then it is the new job's)."""
    with tenant_session(workspace_id) as s:
        inv = s.exec(select(Invitation).where(Invitation.id == invitation_id).with_for_update()).first()
        if inv is None or (expected_hash is not None and inv.token_hash != expected_hash):
            return
        inv.email_status, inv.email_error = outcome
        inv.email_sent_at = utcnow() if outcome[0] == "sent" else None
        s.add(inv)
        s.commit()
