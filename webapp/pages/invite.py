"""/convite?token=...: accept a team invitation. A plain form posting to /auth/invite/accept, which
creates the account (or checks the existing one's password), joins the team and sets the cookie."""

from __future__ import annotations

import asyncio

import reflex as rx

from runtime.auth import invitations

from ..components import (
    error_callout,
    field,
    hint,
    muted,
    new_password_field,
    readonly_field,
)
from ..route import Route
from ..state import LOGIN_ERRORS, ROLE_LABELS, AuthState
from .auth import auth_form, auth_page, checking, hidden, unavailable

INVITE_ERRORS = {**invitations.INVITATION_ERRORS, "bloqueado": LOGIN_ERRORS["bloqueado"]}


class InviteState(AuthState):
    invite_ok: bool = False
    invite_token: str = ""
    invite_email: str = ""
    invite_workspace: str = ""
    invite_role: str = ""
    invite_existing: bool = False
    invite_error: str = ""
    invite_checked: bool = False

    @rx.event
    async def load_invite(self):
        params = self.router.url.query_parameters
        token = params.get("token", "")
        self.invite_token = token
        code = params.get("erro", "")
        try:
            info = await asyncio.to_thread(invitations.describe, token)
        except invitations.InvitationError as exc:
            self.invite_ok = False
            self.invite_error = str(exc)
        else:
            self.invite_ok = True
            self.invite_email, self.invite_workspace = info.email, info.workspace_name
            self.invite_role = ROLE_LABELS[info.role.value]
            self.invite_existing = info.account_exists
            self.invite_error = INVITE_ERRORS.get(code, "Não foi possível aceitar o convite.") if code else ""
        self.invite_checked = True


def invite_page() -> rx.Component:
    return auth_page(
        rx.cond(
            InviteState.invite_checked,
            rx.cond(
                InviteState.invite_ok,
                rx.vstack(
                    rx.vstack(
                        rx.heading("Entrar na equipe", size="7", weight="bold", letter_spacing="-0.02em", as_="h1"),
                        muted(
                            "Você foi convidado para a equipe da ",
                            rx.text.strong(InviteState.invite_workspace, id="invite-workspace"),
                            " como ",
                            rx.text.strong(InviteState.invite_role),
                            ".",
                            size="3",
                        ),
                        spacing="1",
                    ),
                    error_callout(InviteState.invite_error),
                    auth_form(
                        readonly_field("E-mail", InviteState.invite_email),
                        hidden("token", InviteState.invite_token),
                        rx.cond(
                            InviteState.invite_existing,
                            rx.box(
                                field(
                                    "Senha da sua conta",
                                    "password",
                                    "password",
                                    auto_complete="current-password",
                                    required=True,
                                ),
                                *hint("Você já tem uma conta com este e-mail: use a senha dela."),
                                width="100%",
                            ),
                            rx.vstack(
                                field(
                                    "Seu nome",
                                    "name",
                                    placeholder="Como a equipe vai te ver",
                                    auto_complete="name",
                                    max_length=120,
                                ),
                                new_password_field("Crie uma senha"),
                                spacing="4",
                                width="100%",
                            ),
                        ),
                        submit="Entrar na equipe",
                        submit_id="invite-accept",
                        action="/auth/invite/accept",
                        form_id="invite-accept-form",
                    ),
                    spacing="5",
                    width="100%",
                ),
                unavailable("Convite indisponível", InviteState.invite_error, "Ir para o login", "/login"),
            ),
            checking(),
        ),
    )


PAGE = Route("/convite", "Convite", invite_page, on_load=(InviteState.load_invite,))
