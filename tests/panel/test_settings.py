"""Configurações: workspace profile, API keys (shown once, work, revoked stop), integrations, and
the user's own account (name, password change signing out other sessions, Google link/unlink)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from db.models import Role
from runtime.access import Forbidden, Principal, UserError
from runtime.api import create_app
from runtime.auth import accounts, invitations, sessions
from runtime.config import get_settings
from runtime.panel import settings, team
from tests.fakes.oidc import FakeGoogle
from tests.fakes.servers import free_port, serve_in_thread


def _owner(ws) -> Principal:
    return Principal(ws.user_id, ws.workspace_id, Role.owner)


def _seller(owner: Principal) -> Principal:
    link = team.invite(owner, f"v-{uuid.uuid4().hex[:8]}@example.com", "seller")["link"]
    done = invitations.accept(link.split("token=", 1)[1], "Vendedor", "senha-vendedor-1")
    return Principal(done.user_id, done.workspace_id, Role.seller)


def test_workspace_profile_is_read_and_updated_by_managers(workspace):
    ws, _, _ = workspace
    owner = _owner(ws)
    assert settings.workspace_profile(owner)["name"] == "Loja Teste"
    out = settings.update_workspace_profile(owner, {"name": "  Loja Nova ", "timezone": "America/Manaus"})
    assert out["name"] == "Loja Nova" and out["timezone"] == "America/Manaus"
    assert sessions.resolve_session(sessions.create_session(ws.user_id, ws.workspace_id)).workspace_name == "Loja Nova"
    with pytest.raises(UserError, match="Fuso horário"):
        settings.update_workspace_profile(owner, {"name": "X", "timezone": "Marte/Base"})
    with pytest.raises(UserError, match="nome da empresa"):
        settings.update_workspace_profile(owner, {"name": " ", "timezone": "America/Manaus"})


def test_api_key_is_shown_once_works_against_the_api_and_stops_when_revoked(workspace):
    ws, _, _ = workspace
    owner = _owner(ws)
    created = settings.create_api_key(owner, "Integração CRM")
    key = created["key"]
    assert key.startswith("pv_")
    listed = settings.list_api_keys(owner)
    assert [k["name"] for k in listed] == ["Integração CRM"]
    assert key not in str(listed)  # only the prefix is ever shown again
    assert key.startswith(listed[0]["prefix"]) and listed[0]["last_used"] == "Nunca usada"

    with TestClient(create_app(), base_url="http://testserver") as client:
        ok = client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200 and ok.json()["name"] == "Loja Teste"
        assert settings.list_api_keys(owner)[0]["last_used"] != "Nunca usada"
        settings.revoke_api_key(owner, created["id"])
        assert settings.list_api_keys(owner)[0]["revoked"] is True
        refused = client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {key}"})
        assert refused.status_code == 401
    with pytest.raises(UserError, match="já foi revogada"):
        settings.revoke_api_key(owner, created["id"])
    with pytest.raises(UserError, match="nome"):
        settings.create_api_key(owner, "  ")


def test_integrations_report_what_is_configured_without_secrets(workspace, monkeypatch):
    from db.tenancy import tenant_session
    from runtime.agent.service import create_agent

    ws, _, _ = workspace
    owner = _owner(ws)
    items = {i["id"]: i for i in settings.integrations(owner)}
    assert items["google"]["ok"] is False and items["stripe"]["ok"] is False
    assert items["email"]["ok"] is False and "SMTP_URL" in items["email"]["detail"]
    assert "Nenhum agente" in items["llm"]["detail"]

    with tenant_session(ws.workspace_id) as s:
        create_agent(s, ws.workspace_id, name="Bia", llm_api_key="sk-segredo-123")
        create_agent(s, ws.workspace_id, name="Leo")
        s.commit()
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "cid")
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "secret")
    monkeypatch.setenv("SMTP_URL", "smtp+starttls://loja%40gmail.com:senha-smtp-9@smtp.gmail.com")
    get_settings.cache_clear()
    try:
        items = settings.integrations(owner)
    finally:
        get_settings.cache_clear()
    by_name = {i["name"]: i for i in items}
    assert by_name["Login com Google"]["ok"] is True
    assert by_name["IA do agente Bia"]["ok"] is True and "chave configurada" in by_name["IA do agente Bia"]["detail"]
    assert by_name["IA do agente Leo"]["ok"] is False and "falta a chave" in by_name["IA do agente Leo"]["detail"]
    assert by_name["E-mail (convites)"]["ok"] is True
    assert by_name["E-mail (convites)"]["detail"].startswith("Convites enviados por smtp+starttls://smtp.gmail.com:587")
    assert "sk-segredo" not in str(items) and "senha-smtp-9" not in str(items) and "loja%40" not in str(items)


def test_sellers_reach_only_their_own_account(workspace):
    ws, _, _ = workspace
    seller = _seller(_owner(ws))
    for fn, args in [
        (settings.workspace_profile, ()),
        (settings.update_workspace_profile, ({"name": "X", "timezone": "America/Manaus"},)),
        (settings.list_api_keys, ()),
        (settings.create_api_key, ("x",)),
        (settings.revoke_api_key, (str(uuid.uuid4()),)),
        (settings.integrations, ()),
    ]:
        with pytest.raises(Forbidden):
            fn(seller, *args)
    mine = settings.my_account(seller)
    assert mine["role"] == "seller" and mine["has_password"] and not mine["google_linked"]
    assert settings.update_my_account(seller, {"name": "Vera Lúcia"})["name"] == "Vera Lúcia"
    with pytest.raises(UserError, match="120"):
        settings.update_my_account(seller, {"name": "x" * 121})


def test_password_change_checks_the_current_one_and_signs_out_other_sessions(workspace):
    ws, email, password = workspace
    owner = _owner(ws)
    mine = sessions.create_session(ws.user_id, ws.workspace_id)
    other = sessions.create_session(ws.user_id, ws.workspace_id)

    with pytest.raises(UserError, match="senha atual"):
        settings.change_password(owner, "errada-123456", "nova-senha-456")
    with pytest.raises(UserError, match="8 caracteres"):
        settings.change_password(owner, password, "curta")
    assert sessions.resolve_session(other) is not None

    out = settings.change_password(owner, password, "nova-senha-456", keep_session=mine)
    assert out["sessions_revoked"] == 1
    assert sessions.resolve_session(mine) is not None
    assert sessions.resolve_session(other) is None
    assert accounts.authenticate(email, password) is None
    assert accounts.authenticate(email, "nova-senha-456") is not None


@pytest.fixture
def google(pg, monkeypatch):
    port = free_port()
    fake = FakeGoogle(
        client_id="cid.apps.googleusercontent.com",
        client_secret="csecret",
        user={"sub": f"g-{uuid.uuid4().hex}", "email": f"g-{uuid.uuid4().hex[:6]}@gmail.com", "email_verified": True},
        base_url=f"http://127.0.0.1:{port}",
    )
    monkeypatch.setenv("GOOGLE_CLIENT_ID", fake.client_id)
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", fake.client_secret)
    monkeypatch.setenv("GOOGLE_DISCOVERY_URL", f"{fake.base_url}/.well-known/openid-configuration")
    get_settings.cache_clear()
    with serve_in_thread(fake.app(), port):
        yield fake
    get_settings.cache_clear()


def _google_round_trip(client: TestClient, start: httpx.Response) -> httpx.Response:
    assert start.status_code == 302, start.text
    consent = httpx.get(start.headers["location"], follow_redirects=False)
    callback = urlsplit(consent.headers["location"])
    assert callback.path == "/auth/google/callback"
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_google_link_from_settings_then_sign_in_with_google_then_unlink(google, workspace):
    ws, email, _ = workspace
    owner = _owner(ws)
    with TestClient(create_app(), base_url="http://testserver") as client:
        # Signed out: the link needs a session.
        refused = client.post("/auth/google/link", follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"].startswith("/login?erro=sessao")

        client.cookies.set("pv_session", sessions.create_session(ws.user_id, ws.workspace_id))
        done = _google_round_trip(client, client.post("/auth/google/link", follow_redirects=False))
        assert done.status_code == 303 and done.headers["location"] == "/configuracoes?google=vinculado"
        assert settings.my_account(owner)["google_linked"] is True

        # The Google account (another e-mail) now signs in to this user.
        client.cookies.clear()
        signed = _google_round_trip(client, client.get("/auth/google/login", follow_redirects=False))
        assert signed.headers["location"] == "/painel"
        assert sessions.resolve_session(signed.cookies["pv_session"]).email == email

    assert settings.unlink_google(owner)["google_linked"] is False
    assert accounts.primary_membership(ws.user_id).workspace_id == ws.workspace_id


def test_a_google_account_of_someone_else_is_not_linked(google, workspace, make_workspace):
    ws, _, _ = workspace
    other = make_workspace("Outra")
    accounts.link_google(other.user_id, google.user["sub"])
    with TestClient(create_app(), base_url="http://testserver") as client:
        client.cookies.set("pv_session", sessions.create_session(ws.user_id, ws.workspace_id))
        done = _google_round_trip(client, client.post("/auth/google/link", follow_redirects=False))
    assert done.headers["location"] == "/configuracoes?google=em_uso"
    assert settings.my_account(_owner(ws))["google_linked"] is False


def test_google_only_account_must_set_a_password_before_unlinking(google, pg):
    google.user["name"] = "Rita"
    with TestClient(create_app(), base_url="http://testserver") as client:
        done = _google_round_trip(client, client.get("/auth/google/login", follow_redirects=False))
    current = sessions.resolve_session(done.cookies["pv_session"])
    me = Principal(current.user_id, current.workspace_id, current.role)
    assert settings.my_account(me)["has_password"] is False
    with pytest.raises(UserError, match="Defina uma senha"):
        settings.unlink_google(me)
    settings.change_password(me, None, "primeira-senha-1")  # no current password to check
    assert settings.unlink_google(me)["google_linked"] is False
    assert accounts.authenticate(current.email, "primeira-senha-1") is not None
