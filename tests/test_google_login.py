"""Google sign-in end to end: our authlib client against a local OIDC provider (PKCE, state, nonce)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from runtime.api import create_app
from runtime.auth import accounts, api_keys, email_verification, invitations, sessions
from runtime.config import get_settings
from tests.fakes.oidc import FakeGoogle
from tests.fakes.servers import free_port, serve_in_thread


@pytest.fixture
def google(pg, monkeypatch):
    port = free_port()
    fake = FakeGoogle(
        client_id="cid.apps.googleusercontent.com",
        client_secret="csecret",
        user={"sub": f"g-{uuid.uuid4().hex}", "email": f"g-{uuid.uuid4().hex[:6]}@example.com", "email_verified": True},
        base_url=f"http://127.0.0.1:{port}",
    )
    monkeypatch.setenv("GOOGLE_CLIENT_ID", fake.client_id)
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", fake.client_secret)
    monkeypatch.setenv("GOOGLE_DISCOVERY_URL", f"{fake.base_url}/.well-known/openid-configuration")
    get_settings.cache_clear()
    with serve_in_thread(fake.app(), port):
        yield fake
    get_settings.cache_clear()


def _sign_in(client: TestClient) -> httpx.Response:
    start = client.get("/auth/google/login", follow_redirects=False)
    assert start.status_code == 302
    consent = httpx.get(start.headers["location"], follow_redirects=False)
    assert consent.status_code == 302
    callback = urlsplit(consent.headers["location"])
    assert callback.path == "/auth/google/callback"
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_first_google_login_creates_workspace_and_session(google):
    google.user["name"] = "Beatriz Lima"
    with TestClient(create_app(), base_url="http://testserver") as client:
        done = _sign_in(client)
    assert done.status_code == 303 and done.headers["location"] == "/painel"
    current = sessions.resolve_session(done.cookies["pv_session"])
    assert current.email == google.user["email"] and current.workspace_name == "Empresa de Beatriz Lima"
    assert google.token_requests[0]["code_verifier"]  # PKCE was used
    assert email_verification.is_verified(current.user_id)  # Google vouched for the address


def test_google_login_links_an_account_that_confirmed_its_email(google, pg):
    """A password account whose address was proven is joined, as before: its password and sessions stay."""
    email, password = f"dona-{uuid.uuid4().hex[:6]}@example.com", "senha-forte-123"
    ws = accounts.create_workspace("Loja Teste", email, password, email_verified=True)
    earlier = sessions.create_session(ws.user_id, ws.workspace_id)
    google.user["email"] = email
    with TestClient(create_app(), base_url="http://testserver") as client:
        done = _sign_in(client)
    assert done.headers["location"] == "/painel"  # no takeover notice
    assert sessions.resolve_session(done.cookies["pv_session"]).workspace_id == ws.workspace_id
    assert sessions.resolve_session(earlier) is not None
    assert accounts.authenticate(email, password) is not None
    found = accounts.google_sign_in(google.user["sub"], "outro@example.com", email_verified=True)
    assert found.user_id == ws.user_id and not found.took_over


def test_unverified_google_email_is_refused(google):
    google.user["email_verified"] = False
    with TestClient(create_app(), base_url="http://testserver") as client:
        done = _sign_in(client)
    assert done.headers["location"] == "/login?erro=google_email_nao_verificado"
    assert "pv_session" not in done.cookies
    assert accounts.find_user_id(google.user["email"]) is None


def test_forged_state_is_refused(google):
    with TestClient(create_app(), base_url="http://testserver") as client:
        client.get("/auth/google/login", follow_redirects=False)
        done = client.get("/auth/google/callback?code=abc&state=forjado", follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/login?erro=google")


def test_google_unreachable_is_a_clear_error_not_500(pg, monkeypatch):
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "cid")
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "secret")
    monkeypatch.setenv("GOOGLE_DISCOVERY_URL", f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration")
    get_settings.cache_clear()
    try:
        with TestClient(create_app(), base_url="http://testserver") as client:
            r = client.get("/auth/google/login", follow_redirects=False)
    finally:
        get_settings.cache_clear()
    assert r.status_code == 303 and r.headers["location"].startswith("/login?erro=google")


# --- account pre-hijacking (issue 14, item 7) -----------------------------------------------


def _password_sign_up(client: TestClient, email: str, password: str) -> str:
    """The attacker's side: /cadastro with someone else's address; returns the session cookie."""
    done = client.post(
        "/auth/signup",
        data={"company": "Loja do Golpe", "email": email, "password": password, "name": "Falso Dono"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/painel"
    return done.cookies["pv_session"]


def test_google_sign_in_takes_over_an_unverified_password_account(google):
    """Pre-hijacking: someone signs up with the owner's address and a password, plants a way back in
    and keeps a session; when the real owner signs in with Google, all of it stops working."""
    victim = google.user["email"]
    attacker_password = "senha-do-golpista-1"
    with TestClient(create_app(), base_url="http://testserver") as attacker:
        cookie = _password_sign_up(attacker, victim, attacker_password)
        planted = sessions.resolve_session(cookie)
        key = api_keys.create_api_key(planted.workspace_id, "integração", created_by=planted.user_id).key
        ws_id, attacker_id = planted.workspace_id, planted.user_id
        pending = invitations.create_invitation(ws_id, f"c2-{uuid.uuid4().hex[:6]}@example.com", "admin", attacker_id)
        accomplice_inv = invitations.create_invitation(
            ws_id, f"c-{uuid.uuid4().hex[:6]}@example.com", "admin", attacker_id
        )
        accomplice = invitations.accept(accomplice_inv.token, "Comparsa", "senha-do-comparsa-1")
        accomplice_cookie = sessions.create_session(accomplice.user_id, ws_id)

    with TestClient(create_app(), base_url="http://testserver") as owner:
        done = _sign_in(owner)
    me = sessions.resolve_session(done.cookies["pv_session"])
    assert me.email == victim and me.user_id == attacker_id  # the owner is in (the account is theirs now)

    assert sessions.resolve_session(cookie) is None  # the attacker's session no longer works
    with TestClient(create_app(), base_url="http://testserver") as attacker:
        again = attacker.post(
            "/auth/login", data={"email": victim, "password": attacker_password}, follow_redirects=False
        )
    assert again.headers["location"] == "/login?erro=credenciais"  # nor the attacker's password
    assert api_keys.authenticate_api_key(key) is None
    with pytest.raises(invitations.InvitationError) as revoked:
        invitations.describe(pending.token)
    assert revoked.value.code == "convite_revogado"
    assert sessions.resolve_session(accomplice_cookie) is None
    assert accounts.primary_membership(accomplice.user_id) is None  # deactivated, an owner may reactivate
    assert email_verification.is_verified(attacker_id) is True
    assert done.headers["location"] == "/painel?aviso=conta_protegida"  # the panel says what happened


def test_a_second_google_identity_with_the_same_email_is_refused_not_relinked(google):
    with TestClient(create_app(), base_url="http://testserver") as client:
        first = _sign_in(client)
    owner = sessions.resolve_session(first.cookies["pv_session"])
    first_sub = google.user["sub"]
    google.user["sub"] = f"g-{uuid.uuid4().hex}"  # another Google account claiming the same address
    with TestClient(create_app(), base_url="http://testserver") as client:
        second = _sign_in(client)
    assert second.status_code == 303 and second.headers["location"] == "/login?erro=google_outra_conta"
    assert "pv_session" not in second.cookies
    assert sessions.resolve_session(first.cookies["pv_session"]) is not None
    google.user["sub"] = first_sub
    with TestClient(create_app(), base_url="http://testserver") as client:
        assert sessions.resolve_session(_sign_in(client).cookies["pv_session"]).user_id == owner.user_id
