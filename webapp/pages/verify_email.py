"""/verificar-email?token=...: the page the confirmation e-mail opens. It names the address and the
company, and confirms only on the button (a form posting to /auth/email/verify), so a mail scanner
that fetches the link confirms nothing and someone who did not create the account can leave."""

from __future__ import annotations

import asyncio

import reflex as rx

from runtime.auth import email_verification

from ..components import (
    error_callout,
    muted,
    readonly_field,
)
from ..route import Route
from ..state import AuthState
from .auth import auth_form, auth_heading, auth_page, checking, hidden, unavailable


class VerifyEmailState(AuthState):
    verify_checked: bool = False
    verify_ok: bool = False
    verify_done: bool = False
    verify_token: str = ""
    verify_email: str = ""
    verify_company: str = ""
    verify_error: str = ""

    @rx.event
    async def load_verify(self):
        params = self.router.url.query_parameters
        self.verify_done = params.get("confirmado") == "1"
        self.verify_token = params.get("token", "")
        self.verify_ok, self.verify_error = False, ""
        if not self.verify_done:
            try:
                info = await asyncio.to_thread(email_verification.describe, self.verify_token)
            except email_verification.VerificationError as exc:
                self.verify_error = str(exc)
            else:
                self.verify_ok = True
                self.verify_email, self.verify_company = info.email, info.company
                code = params.get("erro", "")
                self.verify_error = email_verification.VERIFY_ERRORS.get(code, "") if code else ""
        self.verify_checked = True


def _form() -> rx.Component:
    return rx.vstack(
        auth_heading("Confirmar e-mail", "Confirme que este e-mail é seu para proteger a sua conta."),
        error_callout(VerifyEmailState.verify_error),
        auth_form(
            readonly_field("E-mail", VerifyEmailState.verify_email),
            rx.cond(
                VerifyEmailState.verify_company != "",
                readonly_field("Empresa", VerifyEmailState.verify_company),
            ),
            hidden("token", VerifyEmailState.verify_token),
            submit="Confirmar meu e-mail",
            submit_id="verify-submit",
            action="/auth/email/verify",
            form_id="verify-form",
            after=muted("Não foi você que criou esta conta? Não confirme: feche esta página.", size="2"),
        ),
        spacing="5",
        width="100%",
    )


def _done() -> rx.Component:
    return rx.vstack(
        rx.center(
            rx.icon("circle_check", size=28, color="var(--teal-11)"),
            width="56px",
            height="56px",
            border_radius="16px",
            background="var(--teal-a3)",
        ),
        auth_heading("E-mail confirmado", "Pronto: a sua conta está protegida."),
        rx.link(
            rx.button("Ir para o painel", size="3", width="100%"), href="/painel", width="100%", id="verify-continue"
        ),
        spacing="5",
        width="100%",
        id="verify-done",
    )


def verify_page() -> rx.Component:
    return auth_page(
        rx.cond(
            VerifyEmailState.verify_checked,
            rx.cond(
                VerifyEmailState.verify_done,
                _done(),
                rx.cond(
                    VerifyEmailState.verify_ok,
                    _form(),
                    unavailable("Link indisponível", VerifyEmailState.verify_error, "Entrar na minha conta", "/login"),
                ),
            ),
            checking(),
        ),
    )


PAGE = Route("/verificar-email", "Confirmar e-mail", verify_page, on_load=(VerifyEmailState.load_verify,))
