"""Equipe: invitations (link, accept, expiry, revocation, single use), roles and deactivation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from db.models import Invitation, Membership, Role, utcnow
from db.tenancy import global_session, tenant_session
from runtime.access import Forbidden, Principal, UserError
from runtime.api import create_app
from runtime.auth import accounts, invitations, sessions
from runtime.auth.invitations import InvitationError
from runtime.panel import team

PASSWORD = "senha-do-vendedor-1"


def _owner(ws) -> Principal:
    return Principal(ws.user_id, ws.workspace_id, Role.owner)


def _token(link: str) -> str:
    parts = urlsplit(link)
    assert parts.path == "/convite"
    return parse_qs(parts.query)["token"][0]


def _email() -> str:
    return f"pessoa-{uuid.uuid4().hex[:8]}@example.com"


def _join(owner: Principal, role: str = "seller", email: str | None = None) -> Principal:
    """Invite someone and accept as them; their Principal in the owner's workspace."""
    email = email or _email()
    link = team.invite(owner, email, role)["link"]
    done = invitations.accept(_token(link), "Carlos Vendedor", PASSWORD)
    return Principal(done.user_id, done.workspace_id, done.role, email)


def test_invite_then_accept_makes_a_member_with_the_role(workspace):
    ws, _, _ = workspace
    owner = _owner(ws)
    email = _email()
    out = team.invite(owner, email.upper(), "seller")
    assert out["email"] == email and out["role"] == "seller"
    token = _token(out["link"])

    listed = team.overview(owner)
    assert [i["email"] for i in listed["invitations"]] == [email]
    assert listed["invitations"][0]["status"] == "pending"
    # Only the token's hash is stored.
    with tenant_session(ws.workspace_id) as s:
        row = s.exec(select(Invitation).where(Invitation.email == email)).one()
    assert token not in row.token_hash and row.token_hash == invitations.security.token_hash(token)
    assert row.expires_at - row.created_at == timedelta(days=7)

    info = invitations.describe(token)
    assert info.workspace_name == "Loja Teste" and info.email == email and info.role == Role.seller
    assert info.account_exists is False

    done = invitations.accept(token, "Carlos Vendedor", PASSWORD)
    assert done.workspace_id == ws.workspace_id and done.role == Role.seller and done.created_user
    auth = accounts.authenticate(email, PASSWORD)
    assert auth.workspace_id == ws.workspace_id and auth.role == Role.seller

    after = team.overview(owner)
    assert after["invitations"] == []
    seller = next(m for m in after["members"] if m["email"] == email)
    assert seller["role"] == "seller" and seller["is_active"] and seller["name"] == "Carlos Vendedor"


def test_used_expired_revoked_and_unknown_tokens_are_refused(workspace):
    ws, _, _ = workspace
    owner = _owner(ws)
    used = _token(team.invite(owner, _email(), "admin")["link"])
    invitations.accept(used, "Primeira", PASSWORD)
    with pytest.raises(InvitationError) as exc:
        invitations.accept(used, "Segunda", PASSWORD)
    assert exc.value.code == "convite_usado"

    expiring = _token(team.invite(owner, _email(), "seller")["link"])
    with pytest.raises(InvitationError) as exc:
        invitations.accept(expiring, "Tarde", PASSWORD, now=utcnow() + timedelta(days=7, seconds=1))
    assert exc.value.code == "convite_expirado"
    assert invitations.describe(expiring).role == Role.seller  # still good today

    revoked = team.invite(owner, _email(), "seller")
    team.revoke_invitation(owner, revoked["id"])
    with pytest.raises(InvitationError) as exc:
        invitations.describe(_token(revoked["link"]))
    assert exc.value.code == "convite_revogado"
    with pytest.raises(UserError):
        team.revoke_invitation(owner, revoked["id"])

    for bad in ("", None, "nao-existe", "x" * 500):
        with pytest.raises(InvitationError) as exc:
            invitations.accept(bad, "X", PASSWORD)
        assert exc.value.code == "convite_invalido"


def test_inviting_again_replaces_the_old_link_and_members_cannot_be_invited(workspace):
    ws, owner_email, _ = workspace
    owner = _owner(ws)
    email = _email()
    first = _token(team.invite(owner, email, "seller")["link"])
    second = _token(team.invite(owner, email, "admin")["link"])
    with pytest.raises(InvitationError) as exc:
        invitations.accept(first, "X", PASSWORD)
    assert exc.value.code == "convite_revogado"
    assert invitations.accept(second, "X", PASSWORD).role == Role.admin
    with pytest.raises(UserError, match="já faz parte"):
        team.invite(owner, email, "seller")
    with pytest.raises(UserError, match="já faz parte"):
        team.invite(owner, owner_email, "seller")
    with pytest.raises(UserError, match="vendedor ou administrador"):
        team.invite(owner, _email(), "owner")
    with pytest.raises(UserError, match="E-mail inválido"):
        team.invite(owner, "sem-arroba", "seller")


def test_an_existing_account_joins_with_its_own_password(workspace, make_workspace):
    ws, _, _ = workspace
    other = make_workspace("Outra Empresa")
    with global_session() as s:
        from db.models import User

        other_email = s.get(User, other.user_id).email
    token = _token(team.invite(_owner(ws), other_email, "seller")["link"])
    assert invitations.describe(token).account_exists is True
    with pytest.raises(InvitationError) as exc:
        invitations.accept(token, "", "senha-errada-000")
    assert exc.value.code == "senha_incorreta"
    done = invitations.accept(token, "", "senha-forte-123")
    assert done.user_id == other.user_id and not done.created_user
    # The password was not changed, and the other workspace is untouched.
    assert accounts.authenticate(other_email, "senha-forte-123") is not None
    assert accounts.primary_membership(other.user_id).workspace_id == other.workspace_id


def test_weak_password_is_refused_and_the_invitation_stays_usable(workspace):
    ws, _, _ = workspace
    token = _token(team.invite(_owner(ws), _email(), "seller")["link"])
    with pytest.raises(InvitationError) as exc:
        invitations.accept(token, "X", "curta")
    assert exc.value.code == "senha_fraca"
    assert invitations.accept(token, "X", PASSWORD).role == Role.seller


def test_invitations_are_isolated_by_workspace(workspace, make_workspace):
    ws, _, _ = workspace
    other = make_workspace("Outra")
    out = team.invite(_owner(ws), _email(), "seller")
    stranger = Principal(other.user_id, other.workspace_id, Role.owner)
    assert team.overview(stranger)["invitations"] == []
    with pytest.raises(UserError):
        team.revoke_invitation(stranger, out["id"])
    with tenant_session(other.workspace_id) as s:
        assert s.exec(select(Invitation)).all() == []


def test_accept_route_sets_the_session_cookie_and_lands_sellers_on_the_inbox(workspace):
    ws, _, _ = workspace
    token = _token(team.invite(_owner(ws), _email(), "seller")["link"])
    with TestClient(create_app(), base_url="http://testserver") as client:
        bad = client.post(
            "/auth/invite/accept", data={"token": token, "name": "X", "password": "curta"}, follow_redirects=False
        )
        assert bad.status_code == 303 and bad.headers["location"] == f"/convite?token={token}&erro=senha_fraca"
        assert "pv_session" not in bad.cookies
        done = client.post(
            "/auth/invite/accept", data={"token": token, "name": "Vera", "password": PASSWORD}, follow_redirects=False
        )
    assert done.status_code == 303 and done.headers["location"] == "/inbox"
    current = sessions.resolve_session(done.cookies["pv_session"])
    assert current.workspace_id == ws.workspace_id and current.role == Role.seller and current.name == "Vera"


def test_role_change_and_the_owner_rules(workspace):
    ws, _, _ = workspace
    owner = _owner(ws)
    seller = _join(owner, "seller")
    admin = _join(owner, "admin")

    team.change_role(owner, str(seller.user_id), "admin")
    team.change_role(admin, str(seller.user_id), "seller")
    roles = {m["user_id"]: m["role"] for m in team.overview(owner)["members"]}
    assert roles[str(seller.user_id)] == "seller"

    # An admin can't touch an owner nor make anyone an owner.
    with pytest.raises(Forbidden):
        team.change_role(admin, str(owner.user_id), "seller")
    with pytest.raises(Forbidden):
        team.deactivate(admin, str(owner.user_id))
    with pytest.raises(Forbidden):
        team.change_role(admin, str(seller.user_id), "owner")
    # The last owner can't demote themselves; with a second owner they can.
    with pytest.raises(UserError, match="pelo menos um proprietário"):
        team.change_role(owner, str(owner.user_id), "admin")
    team.change_role(owner, str(admin.user_id), "owner")
    team.change_role(owner, str(owner.user_id), "admin")
    roles = {m["user_id"]: m["role"] for m in team.overview(owner)["members"]}
    assert roles[str(owner.user_id)] == "admin" and roles[str(admin.user_id)] == "owner"

    with pytest.raises(UserError, match="Papel inválido"):
        team.change_role(admin, str(seller.user_id), "chefe")
    with pytest.raises(UserError, match="não encontrada"):
        team.change_role(admin, str(uuid.uuid4()), "seller")


def test_deactivate_signs_the_member_out_at_once_and_reactivate_restores(workspace):
    ws, _, _ = workspace
    owner = _owner(ws)
    seller = _join(owner, "seller")
    token = sessions.create_session(seller.user_id, ws.workspace_id)
    assert sessions.resolve_session(token) is not None

    out = team.deactivate(owner, str(seller.user_id))
    assert out["sessions_revoked"] == 1
    assert sessions.resolve_session(token) is None
    assert accounts.authenticate(seller.email, PASSWORD) is None  # no other active workspace
    member = next(m for m in team.overview(owner)["members"] if m["user_id"] == str(seller.user_id))
    assert member["is_active"] is False
    with pytest.raises(UserError, match="própria conta"):
        team.deactivate(owner, str(owner.user_id))

    team.reactivate(owner, str(seller.user_id))
    assert accounts.authenticate(seller.email, PASSWORD).workspace_id == ws.workspace_id


def test_the_last_owner_cannot_be_deactivated(workspace):
    ws, _, _ = workspace
    owner = _owner(ws)
    second = _join(owner, "admin")
    team.change_role(owner, str(second.user_id), "owner")
    second_owner = Principal(second.user_id, ws.workspace_id, Role.owner)
    team.deactivate(second_owner, str(owner.user_id))  # another owner remains
    with tenant_session(ws.workspace_id) as s:
        m = s.exec(select(Membership).where(Membership.user_id == owner.user_id)).one()
    assert m.is_active is False
    team.reactivate(second_owner, str(owner.user_id))
    team.change_role(second_owner, str(second_owner.user_id), "admin")
    with pytest.raises(UserError, match="pelo menos um proprietário"):
        team.change_role(owner, str(owner.user_id), "seller")


def test_sellers_are_refused_every_team_action(workspace):
    ws, _, _ = workspace
    owner = _owner(ws)
    seller = _join(owner, "seller")
    calls = [
        (team.overview, ()),
        (team.invite, (_email(), "seller")),
        (team.revoke_invitation, (str(uuid.uuid4()),)),
        (team.change_role, (str(seller.user_id), "admin")),
        (team.deactivate, (str(owner.user_id),)),
        (team.reactivate, (str(owner.user_id),)),
    ]
    for fn, args in calls:
        with pytest.raises(Forbidden):
            fn(seller, *args)
