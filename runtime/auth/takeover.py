"""A Google sign-in claiming an account whose address was never proven (account pre-hijacking).

Anyone can sign up with another person's e-mail and a password before that person uses the product.
When the real owner later signs in with Google (which vouches for the address), joining them into
that account would leave the squatter a way in. So the Google identity takes the account over, in
the sign-in's own transaction (all of it or none):

* every session of the account ends, its password goes, and its open password and confirmation
  links stop working: the Google identity becomes the account's login;
* in each of its workspaces, the API keys it created are revoked and its invitations not yet
  accepted are cancelled; the people who joined through its invitations (and through theirs, and
  so on) are deactivated there and signed out, and the keys they created revoked -- an owner
  reactivates on Equipe whoever they know;
* the workspaces' content (agents, channels, documents, leads) stays: it is what the panel shows
  and the notice after the sign-in asks the owner to review it.

A legitimate owner who never confirmed their address and later uses "Entrar com Google" goes through
the same (they lose nothing they can't restore: a password in Configurações, people on Equipe, new
API keys); confirming the address from the panel's notice avoids it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, select, update

from db.models import ApiKey, EmailVerification, Invitation, Membership, PasswordReset, Role, User, UserSession
from db.tenancy import switch_scope
from runtime import audit

from .email_verification import mark_verified


@dataclass(frozen=True)
class WorkspaceCleanup:
    workspace_id: uuid.UUID
    api_keys_revoked: int
    invitations_revoked: int
    members_deactivated: int


@dataclass(frozen=True)
class Takeover:
    user_id: uuid.UUID
    sessions_ended: int
    workspaces: tuple[WorkspaceCleanup, ...]


def take_over(s: Session, user: User, google_sub: str, now: datetime, name: str = "") -> Takeover:
    """In the caller's transaction, with `user` locked: make `google_sub` the account's login and
    end everything the unproven password set up. The caller commits."""
    user.google_sub = google_sub
    user.password_hash = None
    if name.strip():
        user.name = name.strip()[:120]  # the name Google knows, not the one the squatter typed
    mark_verified(user, now)
    s.add(user)
    for link in (PasswordReset, EmailVerification):
        s.exec(update(link).where(link.user_id == user.id, link.used_at.is_(None)).values(used_at=now))
    switch_scope(s, None, user.id)  # the user's own memberships are readable as that user
    workspace_ids = s.exec(select(Membership.workspace_id).where(Membership.user_id == user.id)).all()
    cleanups = tuple(_clean_workspace(s, ws, user.id, now) for ws in workspace_ids)
    switch_scope(s, None, None)
    ended = s.exec(delete(UserSession).where(UserSession.user_id == user.id)).rowcount or 0
    s.flush()
    return Takeover(user_id=user.id, sessions_ended=ended, workspaces=cleanups)


def _clean_workspace(s: Session, workspace_id: uuid.UUID, root: uuid.UUID, now: datetime) -> WorkspaceCleanup:
    switch_scope(s, workspace_id, root)
    # Everyone who got in through the account's invitations, and through theirs.
    tainted: set[uuid.UUID] = {root}
    frontier = {root}
    invitations_revoked = 0
    while frontier:
        found = s.exec(
            select(Invitation).where(
                Invitation.workspace_id == workspace_id, col(Invitation.invited_by_user_id).in_(frontier)
            )
        ).all()
        frontier = set()
        for inv in found:
            if inv.accepted_at is None and inv.revoked_at is None:
                inv.revoked_at = now
                s.add(inv)
                invitations_revoked += 1
            elif inv.accepted_user_id is not None and inv.accepted_user_id not in tainted:
                tainted.add(inv.accepted_user_id)
                frontier.add(inv.accepted_user_id)

    keys = s.exec(
        update(ApiKey)
        .where(
            ApiKey.workspace_id == workspace_id,
            col(ApiKey.created_by_user_id).in_(tainted),
            ApiKey.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    ).rowcount

    others = tainted - {root}
    # (the scope's user sees their own memberships everywhere: filter on the workspace too)
    here = Membership.workspace_id == workspace_id
    members = s.exec(select(Membership).where(here, col(Membership.user_id).in_(others), Membership.is_active)).all()
    root_is_owner = s.exec(
        select(Membership.id).where(
            here, Membership.user_id == root, Membership.role == Role.owner, Membership.is_active
        )
    ).first()
    deactivated: list[uuid.UUID] = []
    for m in members:
        if m.role == Role.owner and root_is_owner is None:
            continue  # never leave the workspace without an active owner
        m.is_active = False
        s.add(m)
        deactivated.append(m.user_id)
    if deactivated:
        s.flush()
        s.exec(
            delete(UserSession).where(
                col(UserSession.user_id).in_(deactivated), UserSession.workspace_id == workspace_id
            )
        )
    return WorkspaceCleanup(
        workspace_id=workspace_id,
        api_keys_revoked=keys or 0,
        invitations_revoked=invitations_revoked,
        members_deactivated=len(deactivated),
    )


def record(done: Takeover, ip: str | None = None) -> None:
    """The audit trail of each workspace (after the commit): what the takeover ended there."""
    for w in done.workspaces:
        audit.record(
            w.workspace_id,
            "auth.google_takeover",
            user_id=done.user_id,
            ip=ip,
            data={
                "sessions_ended": done.sessions_ended,
                "api_keys_revoked": w.api_keys_revoked,
                "invitations_revoked": w.invitations_revoked,
                "members_deactivated": w.members_deactivated,
            },
        )
