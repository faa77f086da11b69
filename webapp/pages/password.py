"""/esqueci-senha (ask for a link by e-mail) and /redefinir-senha?token=... (set a new password):
plain forms posting to /auth/password/*, like the login page."""

from __future__ import annotations

import asyncio

import reflex as rx

from runtime import mail
from runtime.auth import password_reset

from ..components import callout, error_callout, field, new_password_field, notice_callout, readonly_field
from ..route import Route
from ..state import LOGIN_ERRORS, AuthState
from .auth import auth_form, auth_heading, auth_page, checking, hidden, unavailable

SENT = (
    "Se existir uma conta com este e-mail, enviamos um link para criar uma nova senha. "
    "Confira a caixa de entrada (e o spam); o link vale por 1 hora."
)


class PasswordState(AuthState):
    email_enabled: bool = False
    forgot_notice: str = ""
    forgot_error: str = ""
    reset_checked: bool = False
    reset_ok: bool = False
    reset_token: str = ""
    reset_email: str = ""
    reset_error: str = ""

    @rx.event
    def load_forgot(self):
        params = self.router.url.query_parameters
        self.email_enabled = mail.mail_enabled()
        self.forgot_notice = SENT if params.get("enviado") else ""
        self.forgot_error = LOGIN_ERRORS["bloqueado"] if params.get("erro") == "bloqueado" else ""

    @rx.event
    async def load_reset(self):
        params = self.router.url.query_parameters
        self.reset_token = params.get("token", "")
        code = params.get("erro", "")
        try:
            self.reset_email = await asyncio.to_thread(password_reset.describe, self.reset_token)
        except password_reset.ResetError as exc:
            self.reset_ok, self.reset_error = False, str(exc)
        else:
            self.reset_ok = True
            self.reset_error = password_reset.RESET_ERRORS.get(code, "") if code else ""
        self.reset_checked = True


def _back_to_login() -> rx.Component:
    return rx.link("Voltar para o login", href="/login", weight="medium", color_scheme="teal", size="2")


def forgot_page() -> rx.Component:
    return auth_page(
        auth_heading("Esqueci minha senha", "Enviamos um link para você criar uma nova senha."),
        error_callout(PasswordState.forgot_error),
        notice_callout(PasswordState.forgot_notice),
        rx.cond(
            PasswordState.email_enabled,
            auth_form(
                field(
                    "E-mail da sua conta",
                    "email",
                    "email",
                    placeholder="voce@empresa.com.br",
                    auto_complete="email",
                    required=True,
                ),
                submit="Enviar link",
                submit_id="forgot-submit",
                action="/auth/password/forgot",
                form_id="forgot-form",
            ),
            callout(
                "info",
                "O envio de e-mails não está configurado neste servidor. Peça ao proprietário ou a um "
                "administrador da sua empresa um link de nova senha: em Equipe, “Link de nova senha”.",
                color="gray",
                id="forgot-no-email",
            ),
        ),
        _back_to_login(),
    )


def reset_page() -> rx.Component:
    return auth_page(
        rx.cond(
            PasswordState.reset_checked,
            rx.cond(
                PasswordState.reset_ok,
                rx.vstack(
                    auth_heading("Nova senha", "Crie a nova senha da sua conta."),
                    error_callout(PasswordState.reset_error),
                    auth_form(
                        readonly_field("E-mail", PasswordState.reset_email),
                        hidden("token", PasswordState.reset_token),
                        new_password_field("Nova senha"),
                        field(
                            "Repita a nova senha",
                            "confirm",
                            "password",
                            auto_complete="new-password",
                            required=True,
                            min_length=8,
                        ),
                        submit="Salvar nova senha",
                        submit_id="reset-submit",
                        action="/auth/password/reset",
                        form_id="reset-form",
                    ),
                    spacing="5",
                    width="100%",
                ),
                unavailable("Link indisponível", PasswordState.reset_error, "Pedir um novo link", "/esqueci-senha"),
            ),
            checking(),
        ),
    )


PAGES = (
    Route("/esqueci-senha", "Esqueci minha senha", forgot_page, on_load=(PasswordState.load_forgot,)),
    Route("/redefinir-senha", "Nova senha", reset_page, on_load=(PasswordState.load_reset,)),
)
