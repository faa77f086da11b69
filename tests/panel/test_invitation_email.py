"""Invitations by e-mail: a real SMTP server (aiosmtpd) on loopback, the real job worker.

The invitation's e-mail is queued with it, sent by the worker over SMTP (login included), and its
outcome -- sent, or failed with a reason an owner can act on -- shows on Equipe. Temporary SMTP
failures are retried; permanent ones are not; the SMTP password never shows.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text
from sqlmodel import select

from db.engine import app_engine
from db.models import Invitation, Role, utcnow
from db.tenancy import tenant_session
from runtime import crypto, mail
from runtime.access import Principal, UserError
from runtime.auth import accounts, invitation_email, invitations
from runtime.config import get_settings
from runtime.panel import team
from tests.conftest import wait_until
from tests.fakes.servers import free_port
from tests.fakes.smtp import body_text

pytestmark = pytest.mark.usefixtures("worker", "fresh_settings")


def _owner(ws) -> Principal:
    return Principal(ws.user_id, ws.workspace_id, Role.owner)


def _email() -> str:
    return f"pessoa-{uuid.uuid4().hex[:8]}@example.com"


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _settled(owner: Principal, email: str) -> dict:
    """The invitation's row on Equipe once the worker is done with its e-mail."""

    def row():
        found = [i for i in team.overview(owner)["invitations"] if i["email"] == email]
        return found[0] if found and found[0]["email_status"] != "queued" else None

    return wait_until(row, timeout=20)


def test_the_invitation_arrives_by_email_with_a_link_that_works(workspace, smtp):
    ws, _, _ = workspace
    owner = _owner(ws)
    email = _email()
    out = team.invite(owner, email, "seller")
    assert out["emailed"] is True
    assert team.overview(owner)["email_enabled"] is True

    row = _settled(owner, email)
    assert row["email_status"] == "sent" and row["email_label"] == "E-mail enviado" and row["email_error"] == ""
    [msg] = smtp.messages
    assert smtp.logins == [(smtp.username, smtp.password)]
    assert smtp.envelopes == [("convites@piloto.example", [email])]
    assert msg["To"] == email and msg["From"] == "Piloto <convites@piloto.example>"
    assert msg["Subject"] == "Convite para a equipe Loja Teste no PilotoDeVendas"
    text, html = body_text(msg), body_text(msg, "html")
    assert "Dona Maria convidou você" in text and "como vendedor(a)" in text
    [link] = re.findall(r"http://testserver/convite\?token=\S+", text)
    assert link == out["link"]  # the same link the panel showed once
    assert f'href="{link}"' in html

    # the job delivered again: the link went out already, nothing more is sent
    again = {"workspace_id": str(ws.workspace_id), "invitation_id": out["id"], "token": crypto.encrypt(_token(link))}
    invitation_email.send_invitation_email(again)
    assert len(smtp.messages) == 1

    done = invitations.accept(_token(link), "Carla Vendedora", "senha-da-carla-1")
    assert done.workspace_id == ws.workspace_id and done.role == Role.seller
    assert accounts.authenticate(email, "senha-da-carla-1").role == Role.seller
    # the token was in the job only encrypted
    with tenant_session(ws.workspace_id) as s:
        inv = s.exec(select(Invitation).where(Invitation.email == email)).one()
    assert inv.email_sent_at is not None and inv.accepted_at is not None


def test_a_temporary_refusal_is_retried_until_it_goes(workspace, smtp):
    ws, _, _ = workspace
    owner = _owner(ws)
    email = _email()
    smtp.refuse_next(2, 451, "4.7.1 Greylisted, try again")
    team.invite(owner, email, "admin")
    row = _settled(owner, email)
    assert row["email_status"] == "sent"
    assert smtp.rcpt_attempts == [email] * 3
    assert [m["To"] for m in smtp.messages] == [email]
    assert "como administrador(a)" in body_text(smtp.messages[0])


def test_a_refused_address_fails_at_once_with_the_reason_on_equipe(workspace, smtp, caplog):
    ws, _, _ = workspace
    owner = _owner(ws)
    email = _email()
    smtp.refuse_next(1, 550, "5.1.1 User unknown")
    caplog.set_level(logging.INFO)
    team.invite(owner, email, "seller")
    row = _settled(owner, email)
    assert row["email_status"] == "failed" and row["email_label"] == "E-mail não enviado"
    assert row["email_error"] == "o servidor recusou o destinatário (SMTP 550 5.1.1 User unknown)"
    assert smtp.rcpt_attempts == [email] and smtp.messages == []  # a permanent answer: no retry
    assert smtp.password not in caplog.text


def test_a_wrong_smtp_password_is_named_and_never_shown(workspace, smtp, monkeypatch, caplog):
    ws, _, _ = workspace
    owner = _owner(ws)
    wrong = "senha-errada-" + uuid.uuid4().hex[:6]
    url = get_settings().smtp_url.get_secret_value().replace(smtp.password, wrong)
    monkeypatch.setenv("SMTP_URL", url)
    get_settings.cache_clear()
    caplog.set_level(logging.INFO)
    email = _email()
    team.invite(owner, email, "seller")
    row = _settled(owner, email)
    assert row["email_status"] == "failed"
    assert "recusou o usuário ou a senha (SMTP 535)" in row["email_error"]
    assert len(smtp.logins) == 2  # smtplib tries LOGIN then PLAIN once; a retry would make it 4
    assert wrong not in row["email_error"] and wrong not in caplog.text


def test_an_unreachable_server_is_retried_then_shown_as_failed(workspace, monkeypatch, caplog):
    ws, _, _ = workspace
    owner = _owner(ws)
    port = free_port()
    monkeypatch.setenv("SMTP_URL", f"smtp+starttls://user:segredo-xyz@127.0.0.1:{port}")
    monkeypatch.setenv("MAIL_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("MAIL_RETRY_BASE_SECONDS", "0.05")
    get_settings.cache_clear()
    caplog.set_level(logging.WARNING)
    email = _email()
    out = team.invite(owner, email, "seller")
    row = _settled(owner, email)
    assert out["emailed"] is True
    assert row["email_status"] == "failed"
    assert row["email_error"].startswith(f"não foi possível conectar a smtp+starttls://127.0.0.1:{port}")
    assert row["email_error"].endswith("(tentamos 3 vezes)")
    assert len([r for r in caplog.records if "attempt" in r.getMessage()]) == 2
    assert "segredo-xyz" not in caplog.text and "segredo-xyz" not in row["email_error"]
    # the link still works: the owner can send it another way
    assert invitations.describe(_token(out["link"])).email == email


def test_a_new_link_is_emailed_and_the_old_one_stops_working(workspace, smtp):
    ws, _, _ = workspace
    owner = _owner(ws)
    email = _email()
    first = team.invite(owner, email, "seller")
    assert _settled(owner, email)["email_status"] == "sent"
    second = team.renew_invitation(owner, first["id"])
    assert second["emailed"] is True and second["link"] != first["link"] and second["id"] == first["id"]
    assert _settled(owner, email)["email_status"] == "sent"
    assert [_token(re.search(r"\S+token=\S+", body_text(m)).group()) for m in smtp.messages] == [
        _token(first["link"]),
        _token(second["link"]),
    ]
    with pytest.raises(invitations.InvitationError, match="não existe"):
        invitations.describe(_token(first["link"]))
    assert invitations.describe(_token(second["link"])).email == email

    # A job still holding the old link (queued before the renewal) sends nothing.
    stale = {
        "workspace_id": str(ws.workspace_id),
        "invitation_id": first["id"],
        "token": crypto.encrypt(_token(first["link"])),
    }
    invitation_email.send_invitation_email(stale)
    assert len(smtp.messages) == 2
    assert _settled(owner, email)["email_status"] == "sent"


def test_cancelled_invitations_are_not_emailed_or_renewed(workspace, smtp):
    ws, _, _ = workspace
    owner = _owner(ws)
    email = _email()
    out = team.invite(owner, email, "seller")
    _settled(owner, email)
    team.revoke_invitation(owner, out["id"])
    with pytest.raises(team.UserError, match="já foi usado ou cancelado"):
        team.renew_invitation(owner, out["id"])
    job = {
        "workspace_id": str(ws.workspace_id),
        "invitation_id": out["id"],
        "token": crypto.encrypt(_token(out["link"])),
    }
    invitation_email.send_invitation_email(job)  # e.g. delivered again after the cancellation
    assert len(smtp.messages) == 1


def test_without_smtp_the_panel_gives_the_link_and_queues_nothing(workspace, monkeypatch):
    monkeypatch.delenv("SMTP_URL", raising=False)
    get_settings.cache_clear()
    ws, _, _ = workspace
    owner = _owner(ws)
    email = _email()
    out = team.invite(owner, email, "seller")
    assert out["emailed"] is False and "/convite?token=" in out["link"]
    overview = team.overview(owner)
    assert overview["email_enabled"] is False
    [row] = [i for i in overview["invitations"] if i["email"] == email]
    assert row["email_status"] == "" and row["email_label"] == ""
    with app_engine().begin() as c:
        queued = c.execute(
            text("SELECT count(*) FROM pgqueuer WHERE convert_from(payload, 'UTF8') LIKE :inv"),
            {"inv": f"%{out['id']}%"},
        ).scalar()
    assert queued == 0


def test_a_malformed_smtp_url_fails_each_email_visibly(workspace, monkeypatch):
    monkeypatch.setenv("SMTP_URL", "smtp.gmail.com:587")  # the scheme forgotten
    get_settings.cache_clear()
    ws, _, _ = workspace
    owner = _owner(ws)
    email = _email()
    out = team.invite(owner, email, "seller")
    assert out["emailed"] is True and "/convite?token=" in out["link"]
    row = _settled(owner, email)
    assert row["email_status"] == "failed"
    assert row["email_error"].startswith("SMTP_URL: esquema 'smtp.gmail.com' desconhecido")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp+starttls://ana%40loja.com:p%40ss%3Aw@smtp.loja.com", ("smtp+starttls", "smtp.loja.com", 587)),
        ("smtps://u:p@mail.example.com", ("smtps", "mail.example.com", 465)),
        ("smtp://relay.internal", ("smtp", "relay.internal", 25)),
        ("SMTP://relay.internal:2525", ("smtp", "relay.internal", 2525)),
    ],
)
def test_smtp_url_forms(url, expected):
    server = mail.parse_smtp_url(url)
    assert (server.scheme, server.host, server.port) == expected
    if "ana%40" in url:
        assert (server.username, server.password) == ("ana@loja.com", "p@ss:w")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://smtp.loja.com", "esquema 'http' desconhecido"),
        ("smtp+starttls://", "sem servidor"),
        ("smtp://host:porta", "SMTP_URL inválida"),
    ],
)
def test_bad_smtp_urls_are_clear_errors(url, message):
    with pytest.raises(mail.MailError, match=message):
        mail.parse_smtp_url(url)


def test_invitation_emails_are_throttled_per_workspace(workspace, make_workspace, smtp, monkeypatch):
    """At most INVITATION_EMAILS_PER_HOUR e-mails an hour per company (new invitations and new links
    alike), so the panel can't be used to flood inboxes from our SMTP server; the manager is told when
    they can send again."""
    monkeypatch.setenv("INVITATION_EMAILS_PER_HOUR", "2")
    get_settings.cache_clear()
    ws, _, _ = workspace
    owner = _owner(ws)
    first = team.invite(owner, _email(), "seller")
    team.invite(owner, _email(), "seller")
    refused = _email()
    with pytest.raises(UserError, match=r"2 convites por e-mail por hora.*em \d+ minutos?") as caught:
        team.invite(owner, refused, "seller")
    assert "Tente de novo" in str(caught.value)
    with pytest.raises(UserError, match="por hora"):
        team.renew_invitation(owner, first["id"])  # a new link e-mailed counts too
    assert refused not in [i["email"] for i in team.overview(owner)["invitations"]]

    other = make_workspace("Outra Loja")  # another company has its own allowance
    assert team.invite(_owner(other), _email(), "seller")["emailed"] is True
    later = invitations.create_invitation(
        ws.workspace_id, refused, "seller", owner.user_id, now=utcnow() + timedelta(hours=1, minutes=1), email_it=True
    )
    assert later.email == refused
