"""The FastAPI service: health, API-key auth, v1 endpoints, cookie login/logout routes."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from db.models import AuditLog
from db.tenancy import tenant_session
from runtime.api import create_app
from runtime.auth import sessions
from runtime.auth.api_keys import create_api_key, revoke_api_key


@pytest.fixture
def client(pg):
    with TestClient(create_app(), base_url="http://testserver") as c:
        yield c


def test_healthz_checks_database_as_app_role(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "rls_enforced": True}


def test_openapi_docs_served(client):
    assert client.get("/api/docs").status_code == 200
    assert "/api/v1/contacts" in client.get("/api/openapi.json").json()["paths"]


def test_api_key_missing_invalid_revoked_are_401(client, workspace):
    ws, _, _ = workspace
    assert client.get("/api/v1/workspace").status_code == 401
    assert client.get("/api/v1/workspace", headers={"Authorization": "Bearer pv_nao-existe"}).status_code == 401
    assert client.get("/api/v1/workspace", headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
    key = create_api_key(ws.workspace_id, "teste")
    h = {"Authorization": f"Bearer {key.key}"}
    r = client.get("/api/v1/workspace", headers=h)
    assert r.status_code == 200 and r.json()["id"] == str(ws.workspace_id)
    assert revoke_api_key(ws.workspace_id, key.id)
    r = client.get("/api/v1/workspace", headers=h)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_api_key_only_sees_its_own_workspace(client, make_workspace):
    a, b = make_workspace("A"), make_workspace("B")
    ka, kb = create_api_key(a.workspace_id, "a").key, create_api_key(b.workspace_id, "b").key
    r = client.post(
        "/api/v1/contacts",
        json={"phone": "+55 (11) 98888-7777", "name": "Ana"},
        headers={"Authorization": f"Bearer {ka}"},
    )
    assert r.status_code == 201 and r.json()["phone"] == "+5511988887777"
    assert client.get("/api/v1/contacts", headers={"Authorization": f"Bearer {kb}"}).json() == []
    listed = client.get("/api/v1/contacts", headers={"Authorization": f"Bearer {ka}"}).json()
    assert [c["name"] for c in listed] == ["Ana"]
    with tenant_session(a.workspace_id) as s:
        assert s.exec(select(AuditLog.action).where(AuditLog.action == "contact.create")).all() == ["contact.create"]


def test_bad_contact_input_is_a_clear_4xx(client, workspace):
    ws, _, _ = workspace
    h = {"Authorization": f"Bearer {create_api_key(ws.workspace_id, 'x').key}"}
    assert client.post("/api/v1/contacts", json={"phone": "abc-def-ghij"}, headers=h).status_code == 422
    assert client.post("/api/v1/contacts", content=b"{not json", headers=h).status_code == 422
    client.post("/api/v1/contacts", json={"phone": "+5511977776666"}, headers=h)
    dup = client.post("/api/v1/contacts", json={"phone": "5511977776666"}, headers=h)
    assert dup.status_code == 422 and "Já existe" in dup.json()["detail"]


def test_login_sets_httponly_lax_cookie_and_logout_clears_it(client, workspace):
    ws, email, password = workspace
    r = client.post("/auth/login", data={"email": email, "password": password}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/painel"
    cookie = r.headers["set-cookie"]
    assert "pv_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # PUBLIC_URL is http in tests
    token = r.cookies["pv_session"]
    assert sessions.resolve_session(token).workspace_id == ws.workspace_id

    r = client.post("/auth/logout", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert 'pv_session=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert sessions.resolve_session(token) is None


def test_login_failure_and_open_redirect_refused(client, workspace):
    _, email, password = workspace
    r = client.post("/auth/login", data={"email": email, "password": "errada!!"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?erro=credenciais")
    assert "set-cookie" not in r.headers
    r = client.post(
        "/auth/login", data={"email": email, "password": password, "next": "//evil.example"}, follow_redirects=False
    )
    assert r.headers["location"] == "/painel"
    r = client.post(
        "/auth/login", data={"email": email, "password": password, "next": "/agentes"}, follow_redirects=False
    )
    assert r.headers["location"] == "/agentes"


def test_login_is_rate_limited_per_email(client, workspace):
    _, email, password = workspace
    for _ in range(5):
        client.post("/auth/login", data={"email": email, "password": "errada!!"}, follow_redirects=False)
    r = client.post("/auth/login", data={"email": email, "password": password}, follow_redirects=False)
    assert r.headers["location"].startswith("/login?erro=bloqueado")
    assert "set-cookie" not in r.headers


def test_cross_site_login_post_is_refused(client, workspace):
    _, email, password = workspace
    r = client.post(
        "/auth/login",
        data={"email": email, "password": password},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403


def test_signup_route(client):
    email = f"nova-{uuid.uuid4().hex[:6]}@example.com"
    r = client.post(
        "/auth/signup",
        data={"company": "Clínica Sorriso", "name": "Ana", "email": email, "password": "senha-forte-123"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/painel"
    assert sessions.resolve_session(r.cookies["pv_session"]).workspace_name == "Clínica Sorriso"
    again = client.post(
        "/auth/signup",
        data={"company": "X", "email": email, "password": "senha-forte-123"},
        follow_redirects=False,
    )
    assert again.headers["location"] == "/cadastro?erro=email_existente" and "set-cookie" not in again.headers
    weak = client.post(
        "/auth/signup", data={"company": "X", "email": "w@example.com", "password": "123"}, follow_redirects=False
    )
    assert weak.headers["location"] == "/cadastro?erro=senha_fraca"


def test_malformed_form_is_422_not_500(client):
    assert client.post("/auth/login", data={"email": "x@example.com"}).status_code == 422
    assert (
        client.post(
            "/auth/signup", content=b"\xff\xfe", headers={"content-type": "application/x-www-form-urlencoded"}
        ).status_code
        == 422
    )


def test_google_login_disabled_without_credentials(client):
    r = client.get("/auth/google/login", follow_redirects=False)
    assert r.status_code == 303 and "erro=google" in r.headers["location"]


def test_serve_runs_the_job_worker_in_its_lifespan(workspace):
    """`python -m runtime serve` builds create_app(with_worker=True): jobs run inside the service."""
    import time
    from datetime import timedelta

    from db.models import UserSession, utcnow
    from db.tenancy import global_session
    from runtime.jobs import get_queue

    ws, _, _ = workspace
    token = sessions.create_session(ws.user_id, ws.workspace_id)
    with global_session() as s:
        row = s.exec(select(UserSession).where(UserSession.user_id == ws.user_id)).one()
        row.expires_at = utcnow() - timedelta(minutes=1)
        s.add(row)
        s.commit()
    with TestClient(create_app(with_worker=True)):
        get_queue().enqueue("auth.purge_expired", {})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with global_session() as s:
                if not s.exec(select(UserSession).where(UserSession.user_id == ws.user_id)).all():
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the worker inside the service did not run the job")
    assert sessions.resolve_session(token) is None


def test_client_ip_behind_trusted_proxies(monkeypatch):
    from starlette.requests import Request

    from runtime.api.deps import client_ip
    from runtime.config import get_settings

    def req(xff: str | None) -> Request:
        headers = [(b"x-forwarded-for", xff.encode())] if xff else []
        return Request({"type": "http", "headers": headers, "client": ("10.9.8.7", 1234)})

    get_settings.cache_clear()
    try:
        assert client_ip(req("1.1.1.1")) == "10.9.8.7"  # no trusted proxy: the header is ignored
        monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
        get_settings.cache_clear()
        # The client forged "6.6.6.6"; the proxy appended the real address.
        assert client_ip(req("6.6.6.6, 203.0.113.5")) == "203.0.113.5"
        assert client_ip(req(None)) == "10.9.8.7"
    finally:
        get_settings.cache_clear()


def test_a_seller_signing_in_goes_straight_to_the_inbox(client, workspace):
    from db.models import Membership, Role, User
    from db.tenancy import global_session
    from runtime import security

    ws, _, password = workspace
    email = f"vendedor-{ws.workspace_id.hex[:8]}@example.com"
    with global_session() as s:
        user = User(email=email, password_hash=security.hash_password(password))
        s.add(user)
        s.commit()
        user_id = user.id
    with tenant_session(ws.workspace_id) as s:
        s.add(Membership(workspace_id=ws.workspace_id, user_id=user_id, role=Role.seller))
        s.commit()
    r = client.post("/auth/login", data={"email": email, "password": password}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/inbox"
    r = client.post(
        "/auth/login", data={"email": email, "password": password, "next": "/configuracoes"}, follow_redirects=False
    )
    assert r.headers["location"] == "/configuracoes"  # an explicit page is kept


def test_lead_stages_in_portuguese_or_english_map_to_the_panel_keys():
    from runtime.contacts import STAGES, normalize_stage

    assert [
        normalize_stage(w) for w in ("Novo", " qualificado ", "Proposta", "ganho", "PERDIDO", "em qualificação")
    ] == [
        "new",
        "qualified",
        "proposal",
        "won",
        "lost",
        "qualifying",
    ]
    assert all(normalize_stage(k) == k for k in STAGES)
    assert normalize_stage("inventado") is None and normalize_stage(None) is None
