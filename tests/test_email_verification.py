"""E-mail confirmation: the link by e-mail (a real SMTP server on loopback, the real job worker and the
real /auth routes), what proves an address and what does not, and the takeover's reach."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from db.models import AuditLog, EmailVerification, Role, utcnow
from db.tenancy import global_session, tenant_session
from runtime.access import Principal, UserError
from runtime.api import create_app
from runtime.auth import accounts, api_keys, email_verification, invitations, sessions
from runtime.config import get_settings
from runtime.panel import settings, team
from tests.conftest import wait_until
from tests.fakes.oidc import FakeGoogle
from tests.fakes.servers import free_port, serve_in_thread
from tests.fakes.smtp import FakeSmtp, body_text

pytestmark = pytest.mark.usefixtures("worker", "fresh_settings")
PASSWORD = "senha-forte-123"


@pytest.fixture
def client(pg):
    with TestClient(create_app(), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def google(pg, monkeypatch, fresh_settings):
    port = free_port()
    fake = FakeGoogle(
        client_id="cid.apps.googleusercontent.com",
        client_secret="csecret",
        user={"sub": f"g-{uuid.uuid4().hex}", "email": _email(), "email_verified": True},
        base_url=f"http://127.0.0.1:{port}",
    )
    monkeypatch.setenv("GOOGLE_CLIENT_ID", fake.client_id)
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", fake.client_secret)
    monkeypatch.setenv("GOOGLE_DISCOVERY_URL", f"{fake.base_url}/.well-known/openid-configuration")
    get_settings.cache_clear()
    with serve_in_thread(fake.app(), port):
        yield fake


def _email() -> str:
    return f"pessoa-{uuid.uuid4().hex[:8]}@example.com"


def _sign_up(client: TestClient, email: str, company: str = "Doces da Ana") -> str:
    done = client.post(
        "/auth/signup",
        data={"company": company, "email": email, "password": PASSWORD, "name": "Ana Souza"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/painel"
    return done.cookies["pv_session"]


def _links(fake: FakeSmtp, to: str, n: int = 1) -> list[str]:
    def confirmations():
        found = [x for x in fake.messages if x["To"] == to and x["Subject"].startswith("Confirme")]
        return found if len(found) >= n else None

    mine = wait_until(confirmations, timeout=20)
    return [re.search(r"http://testserver/verificar-email\?token=\S+", body_text(m)).group() for m in mine]


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _principal(cookie: str) -> Principal:
    me = sessions.resolve_session(cookie)
    return Principal(me.user_id, me.workspace_id, me.role, me.email)


def _google(client: TestClient, start_path: str = "/auth/google/login", method: str = "get") -> httpx.Response:
    start = getattr(client, method)(start_path, follow_redirects=False)
    consent = httpx.get(start.headers["location"], follow_redirects=False)
    callback = urlsplit(consent.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_a_password_sign_up_gets_a_link_that_confirms_the_address(smtp, client):
    email = _email()
    cookie = _sign_up(client, email.upper())
    me = _principal(cookie)
    assert settings.email_confirmation(me)["needed"] is True
    assert "enviamos um link para" in settings.email_confirmation(me)["text"]

    [link] = _links(smtp, email)
    [msg] = [m for m in smtp.messages if m["To"] == email]
    assert msg["Subject"] == "Confirme o seu e-mail no PilotoDeVendas"
    assert "Olá, Ana!" in body_text(msg) and "empresa Doces da Ana" in body_text(msg)
    assert "não confirme" in body_text(msg) and f'href="{link}"' in body_text(msg, "html")
    token = _token(link)
    with global_session() as s:
        row = s.exec(select(EmailVerification).where(EmailVerification.user_id == me.user_id)).one()
    assert row.token_hash == email_verification.security.token_hash(token) and token not in row.token_hash

    info = email_verification.describe(token)
    assert (info.email, info.company) == (email, "Doces da Ana")
    assert not email_verification.is_verified(me.user_id)  # what the page shows confirms nothing

    done = client.post("/auth/email/verify", data={"token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/verificar-email?confirmado=1"
    assert email_verification.is_verified(me.user_id)
    assert settings.email_confirmation(me)["needed"] is False
    again = client.post("/auth/email/verify", data={"token": token}, follow_redirects=False)
    assert parse_qs(urlsplit(again.headers["location"]).query)["erro"] == ["link_usado"]
    with pytest.raises(UserError, match="já está confirmado"):
        settings.resend_email_confirmation(me)


def test_asking_again_is_limited_to_three_links_an_hour(smtp, client):
    email = _email()
    me = _principal(_sign_up(client, email))  # the sign-up's link is the first
    assert settings.resend_email_confirmation(me)["button"] == "Reenviar link"
    settings.resend_email_confirmation(me)
    with pytest.raises(UserError, match=r"3 links na última hora.*peça outro em (60|59) minutos"):
        settings.resend_email_confirmation(me)
    first, second, _ = _links(smtp, email, 3)
    email_verification.send_link(me.user_id, now=utcnow() + timedelta(hours=1, minutes=1))

    # any of them confirms, and then all are used up
    assert client.post("/auth/email/verify", data={"token": _token(second)}, follow_redirects=False).status_code == 303
    assert email_verification.is_verified(me.user_id)
    with pytest.raises(email_verification.VerificationError) as used:
        email_verification.describe(_token(first))
    assert used.value.code == "link_usado"


def test_expired_and_unknown_links_are_refused(smtp, client):
    email = _email()
    me = _principal(_sign_up(client, email))
    [link] = _links(smtp, email)
    with pytest.raises(email_verification.VerificationError) as expired:
        email_verification.confirm(_token(link), now=utcnow() + timedelta(hours=49))
    assert expired.value.code == "link_expirado" and "peça outro" in str(expired.value)
    with pytest.raises(email_verification.VerificationError) as unknown:
        email_verification.describe("x" * 43)
    assert unknown.value.code == "link_invalido"
    r = client.post("/auth/email/verify", data={"token": "x" * 43}, follow_redirects=False)
    assert parse_qs(urlsplit(r.headers["location"]).query)["erro"] == ["link_invalido"]
    assert not email_verification.is_verified(me.user_id)


def test_without_smtp_nothing_is_sent_and_the_notice_offers_google_if_there_is_one(pg, client, monkeypatch):
    monkeypatch.delenv("SMTP_URL", raising=False)
    monkeypatch.delenv("GOOGLE_CLIENT_ID", raising=False)
    get_settings.cache_clear()
    me = _principal(_sign_up(client, _email()))
    with global_session() as s:
        assert s.exec(select(EmailVerification).where(EmailVerification.user_id == me.user_id)).all() == []
    assert settings.email_confirmation(me)["needed"] is False  # nothing to ask, nothing it could do
    with pytest.raises(UserError, match="não está configurado"):
        settings.resend_email_confirmation(me)

    monkeypatch.setenv("GOOGLE_CLIENT_ID", "cid")
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "segredo")
    get_settings.cache_clear()
    view = settings.email_confirmation(me)
    assert view["needed"] is True and "vincule a conta Google" in view["text"] and view["href"] == "/configuracoes"
    assert view["button"] == ""


def test_an_invitation_does_not_prove_the_address_and_its_new_account_gets_a_link(workspace, smtp, client):
    """The invitation's link is shown to the manager too, who could accept it in the invitee's name:
    a manager choosing an address proves nothing about who reads it."""
    ws, _, _ = workspace
    owner = Principal(ws.user_id, ws.workspace_id, Role.owner)
    email = _email()
    link = team.invite(owner, email, "seller")["link"]
    done = client.post(
        "/auth/invite/accept",
        data={"token": parse_qs(urlsplit(link).query)["token"][0], "name": "Bia", "password": PASSWORD},
        follow_redirects=False,
    )
    assert done.status_code == 303
    seller = _principal(done.cookies["pv_session"])
    assert not email_verification.is_verified(seller.user_id)
    [confirm] = _links(smtp, email)  # the invitation e-mail, and then this one
    email_verification.confirm(_token(confirm))
    assert email_verification.is_verified(seller.user_id)


def test_linking_google_with_the_same_address_confirms_it_another_address_does_not(google, client, pg):
    email = google.user["email"]
    cookie = _sign_up(client, email)
    me = _principal(cookie)
    google.user["email"] = _email()  # first, a Google account with another address (the jar has the cookie)
    assert _google(client, "/auth/google/link", "post").headers["location"] == "/configuracoes?google=vinculado"
    assert not email_verification.is_verified(me.user_id)
    google.user["sub"] = f"g-{uuid.uuid4().hex}"
    again = _google(client, "/auth/google/link", "post")  # a second Google account is not swapped in
    assert again.headers["location"] == "/configuracoes?google=ja_vinculado"

    settings.unlink_google(me)
    google.user["email"], google.user["sub"] = email, f"g-{uuid.uuid4().hex}"
    assert _google(client, "/auth/google/link", "post").headers["location"] == "/configuracoes?google=vinculado"
    assert email_verification.is_verified(me.user_id)


def test_an_emailed_password_link_proves_the_address_and_drops_a_google_login_linked_before(google, smtp):
    """The squatter links their own Google account (another address) to the account made with the
    victim's address, so the victim's Google sign-in is refused; the victim resets the password by
    e-mail: that proves the address, and the squatter's Google login goes with the old password."""
    victim = google.user["email"]
    victim_google = dict(google.user)
    with TestClient(create_app(), base_url="http://testserver") as squatter:
        cookie = _sign_up(squatter, victim)
        google.user.update(sub=f"g-{uuid.uuid4().hex}", email=_email())
        assert _google(squatter, "/auth/google/link", "post").headers["location"].endswith("google=vinculado")
    squatter_google = dict(google.user)

    google.user.clear()
    google.user.update(victim_google)
    with TestClient(create_app(), base_url="http://testserver") as owner:
        refused = _google(owner)
        assert refused.headers["location"] == "/login?erro=google_outra_conta"
        owner.post("/auth/password/forgot", data={"email": victim})
        msg = wait_until(lambda: next((m for m in smtp.messages if "Redefinir" in m["Subject"]), None), timeout=20)
        token = re.search(r"/redefinir-senha\?token=(\S+)", body_text(msg)).group(1)
        new_password = "senha-da-dona-de-verdade-1"
        owner.post("/auth/password/reset", data={"token": token, "password": new_password, "confirm": new_password})
        assert sessions.resolve_session(cookie) is None
        user_id = accounts.find_user_id(victim)
        assert email_verification.is_verified(user_id)

        google.user.clear()
        google.user.update(squatter_google)
        with TestClient(create_app(), base_url="http://testserver") as squatter:
            gone = _google(squatter)  # the squatter's Google account now signs up on its own instead
        assert sessions.resolve_session(gone.cookies["pv_session"]).user_id != user_id

        google.user.clear()
        google.user.update(victim_google)
        linked = _google(owner)  # a proven address: linked, no takeover
        assert linked.headers["location"] == "/painel"
        assert sessions.resolve_session(linked.cookies["pv_session"]).user_id == user_id
        assert accounts.authenticate(victim, new_password) is not None


def test_the_takeover_follows_invitation_chains_and_stays_in_its_workspaces(pg, make_workspace):
    email = _email()
    squat = accounts.create_workspace("Loja do Golpe", email, PASSWORD)
    boss = Principal(squat.user_id, squat.workspace_id, Role.owner)

    def join(by: Principal, ws_id, role: str = "admin") -> Principal:
        inv = invitations.create_invitation(ws_id, _email(), role, by.user_id)
        done = invitations.accept(inv.token, "", PASSWORD)
        return Principal(done.user_id, ws_id, done.role)

    accomplice = join(boss, squat.workspace_id)
    second = join(accomplice, squat.workspace_id)  # invited by the accomplice
    second_key = api_keys.create_api_key(squat.workspace_id, "k", created_by=second.user_id).key
    bystander_key = api_keys.create_api_key(squat.workspace_id, "sem autor").key  # e.g. the CLI's

    # The squatter also joined a real company (its owner invited the address); there, only what the
    # squatter did is undone, and the company's own people stay.
    company = make_workspace("Empresa de Verdade")
    real_owner = Principal(company.user_id, company.workspace_id, Role.owner)
    inv = invitations.create_invitation(company.workspace_id, email, "admin", real_owner.user_id)
    invitations.accept(inv.token, "", PASSWORD)
    colleague = join(real_owner, company.workspace_id, "seller")
    invited_there = join(Principal(squat.user_id, company.workspace_id, Role.admin), company.workspace_id, "seller")
    colleague_session = sessions.create_session(colleague.user_id, company.workspace_id)

    result = accounts.google_sign_in(f"g-{uuid.uuid4().hex}", email, "Dona", email_verified=True)
    assert result.took_over and result.user_id == squat.user_id
    assert settings.my_account(Principal(squat.user_id, squat.workspace_id, Role.owner))["name"] == "Dona"
    for p in (accomplice, second):
        assert accounts.primary_membership(p.user_id) is None
    assert api_keys.authenticate_api_key(second_key) is None
    assert api_keys.authenticate_api_key(bystander_key) is not None
    assert accounts.primary_membership(invited_there.user_id) is None
    assert sessions.resolve_session(colleague_session) is not None
    assert accounts.primary_membership(real_owner.user_id).workspace_id == company.workspace_id
    for ws_id, expected in (
        (squat.workspace_id, {"api_keys_revoked": 1, "invitations_revoked": 0, "members_deactivated": 2}),
        (company.workspace_id, {"api_keys_revoked": 0, "invitations_revoked": 0, "members_deactivated": 1}),
    ):
        with tenant_session(ws_id) as s:
            [row] = s.exec(select(AuditLog).where(AuditLog.action == "auth.google_takeover")).all()
        assert {k: row.data[k] for k in expected} == expected
