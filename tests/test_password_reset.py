"""Forgotten passwords: the link by e-mail (a real SMTP server on loopback, the real job worker and
the real /auth routes) and the link a manager makes on Equipe."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from db.engine import app_engine
from db.models import PasswordReset, Role, utcnow
from db.tenancy import global_session
from runtime.access import Forbidden, Principal, UserError
from runtime.api import create_app
from runtime.auth import accounts, invitations, password_reset, sessions
from runtime.config import get_settings
from runtime.panel import team
from tests.conftest import wait_until
from tests.fakes.smtp import FakeSmtp, body_text

pytestmark = pytest.mark.usefixtures("worker", "fresh_settings")
NEW_PASSWORD = "senha-nova-da-dona-1"


@pytest.fixture
def client(pg):
    with TestClient(create_app(), base_url="http://testserver") as c:
        yield c


def _token(link: str) -> str:
    parts = urlsplit(link)
    assert parts.path == "/redefinir-senha"
    return parse_qs(parts.query)["token"][0]


def _emailed_link(fake: FakeSmtp, to: str) -> str:
    msg = wait_until(lambda: next((m for m in fake.messages if m["To"] == to), None), timeout=20)
    return re.search(r"http://testserver/redefinir-senha\?token=\S+", body_text(msg)).group()


def _forgot(client: TestClient, email: str):
    return client.post("/auth/password/forgot", data={"email": email}, follow_redirects=False)


def _reset(client: TestClient, token: str, password: str, confirm: str | None = None):
    data = {"token": token, "password": password, "confirm": password if confirm is None else confirm}
    return client.post("/auth/password/reset", data=data, follow_redirects=False)


def test_the_emailed_link_sets_a_new_password_and_signs_out_everywhere(workspace, smtp, client):
    ws, email, old_password = workspace
    other_device = sessions.create_session(ws.user_id, ws.workspace_id)
    r = _forgot(client, email.upper())
    assert r.status_code == 303 and r.headers["location"] == "/esqueci-senha?enviado=1"

    link = _emailed_link(smtp, email)
    [msg] = smtp.messages
    assert msg["Subject"] == "Redefinir a sua senha do PilotoDeVendas"
    assert "Olá, Dona!" in body_text(msg) and "vale por 1 hora" in body_text(msg)
    assert f'href="{link}"' in body_text(msg, "html")
    token = _token(link)
    with global_session() as s:
        row = s.exec(select(PasswordReset).where(PasswordReset.user_id == ws.user_id)).one()
    assert row.token_hash == password_reset.security.token_hash(token) and token not in row.token_hash
    assert row.expires_at - row.created_at == timedelta(hours=1)
    assert password_reset.describe(token) == email

    r = _reset(client, token, NEW_PASSWORD, "outra-senha-qualquer")
    assert parse_qs(urlsplit(r.headers["location"]).query)["erro"] == ["senhas_diferentes"]
    r = _reset(client, token, "curta")
    assert parse_qs(urlsplit(r.headers["location"]).query)["erro"] == ["senha_fraca"]
    r = _reset(client, token, NEW_PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/login?aviso=senha_redefinida"

    assert accounts.authenticate(email, NEW_PASSWORD) is not None
    assert accounts.authenticate(email, old_password) is None
    assert sessions.resolve_session(other_device) is None  # signed out everywhere
    with pytest.raises(password_reset.ResetError) as used:
        password_reset.describe(token)
    assert used.value.code == "link_usado"
    r = _reset(client, token, "mais-uma-senha-9")
    assert parse_qs(urlsplit(r.headers["location"]).query)["erro"] == ["link_usado"]


def test_unknown_addresses_get_the_same_answer_and_no_email(pg, smtp, client):
    r = _forgot(client, f"ninguem-{uuid.uuid4().hex[:6]}@example.com")
    assert r.headers["location"] == "/esqueci-senha?enviado=1"
    assert _forgot(client, "nem-e-mail").headers["location"] == "/esqueci-senha?enviado=1"
    assert password_reset.request_reset(f"outro-{uuid.uuid4().hex[:6]}@example.com") is False
    with app_engine().begin() as c:
        queued = c.execute(
            text("SELECT count(*) FROM pgqueuer WHERE entrypoint = :job"), {"job": password_reset.JOB}
        ).scalar()
    assert queued == 0 and smtp.messages == []


def test_asking_again_and_again_sends_three_an_hour(workspace, smtp):
    _, email, _ = workspace
    assert [password_reset.request_reset(email) for _ in range(5)] == [True, True, True, False, False]
    wait_until(lambda: len(smtp.messages) >= 3, timeout=20)
    later = utcnow() + timedelta(hours=1, minutes=1)
    assert password_reset.request_reset(email, now=later) is True


def test_an_expired_link_is_refused(workspace):
    ws, _, _ = workspace
    link = password_reset.link_for_member(ws.user_id, ws.user_id, ws.workspace_id, now=utcnow() - timedelta(hours=25))
    with pytest.raises(password_reset.ResetError) as caught:
        password_reset.complete(link.token, NEW_PASSWORD, NEW_PASSWORD)
    assert caught.value.code == "link_expirado"
    with pytest.raises(password_reset.ResetError) as unknown:
        password_reset.describe("x" * 43)
    assert unknown.value.code == "link_invalido"


def test_without_smtp_nothing_is_sent_and_the_page_says_ask_a_manager(workspace, monkeypatch, client):
    monkeypatch.delenv("SMTP_URL", raising=False)
    get_settings.cache_clear()
    ws, email, _ = workspace
    assert password_reset.request_reset(email) is False
    assert _forgot(client, email).headers["location"] == "/esqueci-senha?enviado=1"
    with global_session() as s:
        assert s.exec(select(PasswordReset).where(PasswordReset.user_id == ws.user_id)).all() == []


def _member(owner: Principal, role: str = "seller") -> tuple[Principal, str]:
    email = f"membro-{uuid.uuid4().hex[:8]}@example.com"
    link = team.invite(owner, email, role)["link"]
    done = invitations.accept(parse_qs(urlsplit(link).query)["token"][0], "Carla Lima", "senha-da-carla-1")
    return Principal(done.user_id, done.workspace_id, done.role, email), email


def test_a_manager_makes_a_link_for_a_member_who_forgot(workspace, client):
    ws, _, _ = workspace
    owner = Principal(ws.user_id, ws.workspace_id, Role.owner)
    seller, seller_email = _member(owner)
    seller_session = sessions.create_session(seller.user_id, ws.workspace_id)
    out = team.password_link(owner, str(seller.user_id))
    assert out["hours"] == 24
    token = _token(out["link"].replace(get_settings().public_url.rstrip("/"), ""))
    assert password_reset.describe(token) == seller_email
    assert _reset(client, token, "senha-nova-carla-2").headers["location"] == "/login?aviso=senha_redefinida"
    assert accounts.authenticate(seller_email, "senha-nova-carla-2") is not None
    assert sessions.resolve_session(seller_session) is None

    # Who may make one for whom
    admin, _ = _member(owner, "admin")
    with pytest.raises(Forbidden):
        team.password_link(seller, str(admin.user_id))  # sellers: never
    with pytest.raises(Forbidden):
        team.password_link(admin, str(owner.user_id))  # an admin: not for an owner
    assert team.password_link(admin, str(seller.user_id))["link"]
    with pytest.raises(UserError, match="Configurações"):
        team.password_link(owner, str(owner.user_id))


def test_no_manager_link_for_someone_who_is_also_in_another_company(workspace, make_workspace):
    ws, _, _ = workspace
    owner = Principal(ws.user_id, ws.workspace_id, Role.owner)
    seller, seller_email = _member(owner)
    other = make_workspace("Outra Loja")
    other_owner = Principal(other.user_id, other.workspace_id, Role.owner)
    link = team.invite(other_owner, seller_email, "seller")["link"]
    invitations.accept(parse_qs(urlsplit(link).query)["token"][0], "", "senha-da-carla-1")
    with pytest.raises(UserError, match="outra empresa"):
        team.password_link(owner, str(seller.user_id))
    with global_session() as s:
        assert s.exec(select(PasswordReset).where(PasswordReset.user_id == seller.user_id)).all() == []


def test_a_manager_link_stops_working_once_the_member_joins_another_company(workspace, make_workspace, client):
    """Checked when the link is made AND when it is used: joining another company in between (where this
    manager has no say) makes the link useless, or an admin here could take over the account there."""
    ws, _, _ = workspace
    owner = Principal(ws.user_id, ws.workspace_id, Role.owner)
    seller, seller_email = _member(owner)
    token = _token(team.password_link(owner, str(seller.user_id))["link"].replace(get_settings().public_url, ""))
    other = make_workspace("Outra Loja")
    link = team.invite(Principal(other.user_id, other.workspace_id, Role.owner), seller_email, "seller")["link"]
    invitations.accept(parse_qs(urlsplit(link).query)["token"][0], "", "senha-da-carla-1")

    with pytest.raises(password_reset.ResetError) as shown:
        password_reset.describe(token)
    assert shown.value.code == "outra_empresa" and "Esqueci minha senha" in str(shown.value)
    r = _reset(client, token, "senha-do-admin-9")
    assert parse_qs(urlsplit(r.headers["location"]).query)["erro"] == ["outra_empresa"]
    assert accounts.authenticate(seller_email, "senha-do-admin-9") is None
    assert accounts.authenticate(seller_email, "senha-da-carla-1") is not None
