"""Google sign-in end to end: our authlib client against a local OIDC provider (PKCE, state, nonce)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from runtime.api import create_app
from runtime.auth import accounts, sessions
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


def test_google_login_links_existing_account_by_verified_email(google, workspace):
    ws, email, _ = workspace
    google.user["email"] = email
    with TestClient(create_app(), base_url="http://testserver") as client:
        done = _sign_in(client)
    assert sessions.resolve_session(done.cookies["pv_session"]).workspace_id == ws.workspace_id
    assert accounts.google_sign_in(google.user["sub"], "outro@example.com").user_id == ws.user_id


def test_unverified_email_is_refused(google):
    google.user["email_verified"] = False
    with TestClient(create_app(), base_url="http://testserver") as client:
        done = _sign_in(client)
    assert done.headers["location"].startswith("/login?erro=google")
    assert "pv_session" not in done.cookies


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
