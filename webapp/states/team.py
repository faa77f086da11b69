"""Equipe: thin state over runtime.panel.team."""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime.panel import team

from ..state import PanelState


class TeamState(PanelState):
    members: list[dict[str, Any]] = rx.field(default_factory=list)
    invitations: list[dict[str, Any]] = rx.field(default_factory=list)
    can_manage_owners: bool = False
    loaded: bool = False
    inviting: bool = False
    invite_link: str = ""
    invite_email: str = ""
    invite_role: str = ""
    invite_expires: str = ""
    busy_id: str = ""  # the row an action is running on

    def _apply(self, data: dict[str, Any]) -> None:
        self.members = data["members"]
        self.invitations = data["invitations"]
        self.can_manage_owners = data["can_manage_owners"]
        self.loaded = True

    @rx.event
    async def load(self):
        self.invite_link = ""
        try:
            self._apply(await self._run(team.overview))
        except Exception as exc:
            return self._fail(exc)
        return None

    @rx.event
    async def invite(self, form: dict[str, Any]):
        self.inviting = True
        yield
        try:
            out = await self._run(team.invite, form.get("email", ""), form.get("role") or "seller")
            self.invite_link, self.invite_email = out["link"], out["email"]
            self.invite_role, self.invite_expires = out["role_label"], out["expires"]
            self._apply(await self._run(team.overview))
            yield rx.toast.success("Convite criado. Envie o link para a pessoa.")
        except Exception as exc:
            yield self._fail(exc)
        finally:
            self.inviting = False

    @rx.event
    def copy_link(self):
        return [rx.set_clipboard(self.invite_link), rx.toast.success("Link copiado.")]

    @rx.event
    def close_link(self):
        self.invite_link = ""

    async def _act(self, row_id: str, fn, *args, done: str):
        self.busy_id = row_id
        yield
        try:
            await self._run(fn, *args)
            self._apply(await self._run(team.overview))
            yield rx.toast.success(done)
        except Exception as exc:
            yield self._fail(exc)
        finally:
            self.busy_id = ""

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
