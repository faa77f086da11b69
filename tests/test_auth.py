"""Accounts, sessions (expiry, revocation), login rate limits — on real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from db.models import Membership, Role, User, UserSession, utcnow
from db.tenancy import global_session, tenant_session
from runtime.auth import accounts, ratelimit, sessions
from runtime.config import get_settings


def test_signup_creates_workspace_owner_and_membership(workspace):
    ws, email, _ = workspace
    with global_session() as s:
        user = s.exec(select(User).where(User.email == email)).one()
        assert user.password_hash.startswith("$argon2id$")
    with tenant_session(ws.workspace_id) as s:
        m = s.exec(select(Membership)).one()
        assert (m.user_id, m.role) == (user.id, Role.owner)


def test_duplicate_email_and_bad_input_are_clear_errors(workspace):
    _, email, _ = workspace
    with pytest.raises(accounts.AccountError, match="Já existe"):
        accounts.create_workspace("Outra", email.upper(), "senha-forte-123")
    with pytest.raises(accounts.AccountError, match="E-mail inválido"):
        accounts.create_workspace("Outra", "sem-arroba", "senha-forte-123")
    with pytest.raises(accounts.AccountError, match="8 caracteres"):
        accounts.create_workspace("Outra", "novo@example.com", "123")
    with pytest.raises(accounts.AccountError, match="nome da empresa"):
        accounts.create_workspace("  ", "novo@example.com", "senha-forte-123")


def test_authenticate(workspace):
    ws, email, password = workspace
    ok = accounts.authenticate(f"  {email.upper()} ", password)
    assert ok is not None and ok.workspace_id == ws.workspace_id and ok.role == Role.owner
    assert accounts.authenticate(email, "senha-errada") is None
    assert accounts.authenticate("ninguem@example.com", password) is None


def test_deactivated_user_cannot_log_in_and_loses_sessions(workspace):
    ws, email, password = workspace
    token = sessions.create_session(ws.user_id, ws.workspace_id)
    with global_session() as s:
        user = s.get(User, ws.user_id)
        user.is_active = False
        s.add(user)
        s.commit()
    assert accounts.authenticate(email, password) is None
    assert sessions.resolve_session(token) is None


def test_session_roundtrip_expiry_and_revocation(workspace):
    ws, email, _ = workspace
    token = sessions.create_session(ws.user_id, ws.workspace_id, ip="127.0.0.1")
    current = sessions.resolve_session(token)
    assert current is not None
    assert (current.email, current.workspace_name, current.role) == (email, "Loja Teste", Role.owner)
    # Only the hash is stored.
    with global_session() as s:
        stored = s.exec(select(UserSession.token_hash).where(UserSession.user_id == ws.user_id)).all()
        assert token not in stored

    later = current.expires_at + timedelta(seconds=1)
    assert sessions.resolve_session(token, now=later) is None
    assert sessions.resolve_session(token) is None  # the expired row was deleted

    token2 = sessions.create_session(ws.user_id, ws.workspace_id)
    sessions.revoke_session(token2)
    assert sessions.resolve_session(token2) is None
    assert sessions.resolve_session("forjado") is None
    assert sessions.resolve_session(None) is None


def test_purge_expired_sessions(workspace):
    ws, _, _ = workspace
    sessions.create_session(ws.user_id, ws.workspace_id)
    assert sessions.purge_expired(now=utcnow() + timedelta(days=365)) >= 1
    with global_session() as s:
        assert s.exec(select(UserSession).where(UserSession.user_id == ws.user_id)).all() == []


def test_rate_limit_per_email_and_per_ip(pg):
    email = f"alvo-{uuid.uuid4().hex[:6]}@example.com"
    ip = f"10.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    for _ in range(5):
        assert ratelimit.login_allowed(ip, email)
        ratelimit.record_attempt(ip, email, success=False)
    assert not ratelimit.login_allowed(ip, email)
    assert not ratelimit.login_allowed("192.0.2.1", email)  # same email from elsewhere: still blocked
    assert ratelimit.login_allowed(ip, "outro@example.com")  # other email, same IP: below IP limit
    # The window passes.
    assert ratelimit.login_allowed(ip, email, now=utcnow() + timedelta(minutes=16))

    ip2 = "198.51.100.7"
    for i in range(get_settings().login_max_attempts_per_ip):
        ratelimit.record_attempt(ip2, f"x{i}-{uuid.uuid4().hex[:4]}@example.com", success=True)
    assert not ratelimit.login_allowed(ip2, "novo@example.com")
