"""Equipe: thin state over runtime.panel.team."""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime.panel import team

from ..state import PanelState, reveal
from .service_call import service_call

LINK_ID = "invite-link"  # the input an invitation or new-password link is revealed in (pages.team)

POLL_SECONDS = 1.0
POLL_MAX = 120  # the mail job retries for up to about a minute and a half


class TeamState(PanelState):
    members: list[dict[str, Any]] = rx.field(default_factory=list)
    invitations: list[dict[str, Any]] = rx.field(default_factory=list)
    can_manage_owners: bool = False
    email_enabled: bool = False
    loaded: bool = False
    polling: bool = False
    inviting: bool = False
    link_shown: bool = False  # the link's callout; the link itself is never a state var (reveal)
    invite_email: str = ""
    invite_role: str = ""
    invite_expires: str = ""
    invite_emailed: bool = False
    link_kind: str = "invite"  # what the link callout shows: "invite" or "password"
    busy_id: str = ""  # the row an action is running on

    def _apply(self, data: dict[str, Any]) -> None:
        self.members = data["members"]
        self.invitations = data["invitations"]
        self.can_manage_owners = data["can_manage_owners"]
        self.email_enabled = data["email_enabled"]
        self.loaded = True

    def _sending(self) -> bool:
        return any(inv["email_status"] == "queued" for inv in self.invitations)

    @rx.event
    @service_call
    async def load(self):
        self.link_shown = False
        self._apply(await self._run(team.overview))
        return TeamState.poll_email if self._sending() else None

    @rx.event(background=True)
    async def poll_email(self):
        """Refresh while invitation e-mails are queued (the worker sends them and keeps the outcome)."""

        def apply(data) -> bool:
            self._apply(data)
            return self._sending()

        await self._poll("polling", lambda: self._run(team.overview), apply, seconds=POLL_SECONDS, times=POLL_MAX)

    def _show_link(self, out: dict[str, Any]):
        """The invitation's callout; returns the event that reveals its link."""
        self.link_kind, self.link_shown = "invite", True
        self.invite_email = out["email"]
        self.invite_role, self.invite_expires = out["role_label"], out["expires"]
        self.invite_emailed = out["emailed"]
        return reveal(LINK_ID, out["link"])

    @rx.event
    @service_call(busy="inviting")
    async def invite(self, form: dict[str, Any]):
        yield
        out = await self._run(team.invite, form.get("email", ""), form.get("role") or "seller")
        shown = self._show_link(out)
        self._apply(await self._run(team.overview))
        if out["emailed"]:
            yield [shown, rx.toast.success(f"Convite a caminho de {out['email']}.")]
            yield TeamState.poll_email
        else:
            yield [shown, rx.toast.success("Convite criado. Envie o link para a pessoa.")]

    @rx.event
    @service_call(busy="busy_id", busy_with="invitation_id")
    async def renew(self, invitation_id: str):
        """A new link for the invitation (the old one stops working), e-mailed again when possible."""
        yield
        out = await self._run(team.renew_invitation, invitation_id)
        shown = self._show_link(out)
        self._apply(await self._run(team.overview))
        yield [shown, rx.toast.success("Novo link gerado; o anterior não vale mais.")]
        if out["emailed"]:
            yield TeamState.poll_email

    @rx.event
    @service_call(busy="busy_id", busy_with="user_id")
    async def password_link(self, user_id: str, email: str):
        """A one-use link for a member who forgot their password, shown once to send them."""
        yield
        out = await self._run(team.password_link, user_id)
        self.link_kind, self.link_shown, self.invite_email = "password", True, email
        self.invite_expires, self.invite_emailed, self.invite_role = f"{out['hours']} horas", False, ""
        yield [reveal(LINK_ID, out["link"]), rx.toast.success("Link de nova senha gerado. Envie para a pessoa.")]

    @rx.event
    def close_link(self):
        self.link_shown = False

    @service_call(busy="busy_id", busy_with="row_id")
    async def _act(self, row_id: str, fn, *args, done: str):
        yield
        await self._run(fn, *args)
        self._apply(await self._run(team.overview))
        yield rx.toast.success(done)

    @rx.event
    async def revoke(self, invitation_id: str):
        async for ev in self._act(invitation_id, team.revoke_invitation, invitation_id, done="Convite cancelado."):
            yield ev

    @rx.event
    async def set_role(self, user_id: str, role: str):
        async for ev in self._act(user_id, team.change_role, user_id, role, done="Papel alterado."):
            yield ev

    @rx.event
    async def deactivate(self, user_id: str):
        async for ev in self._act(user_id, team.deactivate, user_id, done="Acesso desativado."):
            yield ev

    @rx.event
    async def reactivate(self, user_id: str):
        async for ev in self._act(user_id, team.reactivate, user_id, done="Acesso reativado."):
            yield ev
