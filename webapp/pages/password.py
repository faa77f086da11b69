"""/esqueci-senha (ask for a link by e-mail) and /redefinir-senha?token=... (set a new password):
plain forms posting to /auth/password/*, like the login page."""

from __future__ import annotations

import asyncio

import reflex as rx

from runtime import mail
from runtime.auth import password_reset

from ..components import error_callout, field, native_form, new_password_field, notice_callout, readonly_field
from ..state import LOGIN_ERRORS, AuthState

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


def _heading(title: str, text: rx.Var | str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="7", weight="bold", letter_spacing="-0.02em", as_="h1"),
        rx.text(text, size="3", color_scheme="gray"),
        spacing="1",
    )


def _back_to_login() -> rx.Component:
    return rx.link("Voltar para o login", href="/login", weight="medium", color_scheme="teal", size="2")


def forgot_page() -> rx.Component:
    from .auth import _auth_page

    return _auth_page(
        _heading("Esqueci minha senha", "Enviamos um link para você criar uma nova senha."),
        error_callout(PasswordState.forgot_error),
        notice_callout(PasswordState.forgot_notice),
        rx.cond(
            PasswordState.email_enabled,
            native_form(
                rx.vstack(
                    field(
                        "E-mail da sua conta",
                        "email",
                        "email",
                        placeholder="voce@empresa.com.br",
                        auto_complete="email",
                        required=True,
                    ),
                    rx.button("Enviar link", type="submit", size="3", width="100%", id="forgot-submit"),
                    spacing="4",
                    width="100%",
                ),
                action="/auth/password/forgot",
                width="100%",
                id="forgot-form",
            ),
            rx.callout.root(
                rx.callout.icon(rx.icon("info", size=16)),
                rx.callout.text(
                    "O envio de e-mails não está configurado neste servidor. Peça ao proprietário ou a um "
                    "administrador da sua empresa um link de nova senha: em Equipe, “Link de nova senha”."
                ),
                color_scheme="gray",
                size="1",
                width="100%",
                id="forgot-no-email",
            ),
        ),
        _back_to_login(),
    )


def reset_page() -> rx.Component:
    from .auth import _auth_page

    return _auth_page(
        rx.cond(
            PasswordState.reset_checked,
            rx.cond(
                PasswordState.reset_ok,
                rx.vstack(
                    _heading("Nova senha", "Crie a nova senha da sua conta."),
                    error_callout(PasswordState.reset_error),
                    native_form(
                        rx.vstack(
                            readonly_field("E-mail", PasswordState.reset_email),
                            rx.el.input(type="hidden", name="token", value=PasswordState.reset_token, read_only=True),
                            new_password_field("Nova senha"),
                            field(
                                "Repita a nova senha",
                                "confirm",
                                "password",
                                auto_complete="new-password",
                                required=True,
                                min_length=8,
                            ),
                            rx.button("Salvar nova senha", type="submit", size="3", width="100%", id="reset-submit"),
                            spacing="4",
                            width="100%",
                        ),
                        action="/auth/password/reset",
                        width="100%",
                        id="reset-form",
                    ),
                    spacing="5",
                    width="100%",
                ),
                rx.vstack(
                    rx.heading("Link indisponível", size="7", weight="bold", as_="h1"),
                    error_callout(PasswordState.reset_error),
                    rx.link("Pedir um novo link", href="/esqueci-senha", weight="medium", color_scheme="teal"),
                    spacing="4",
                    width="100%",
                ),
            ),
            rx.center(rx.spinner(size="3"), width="100%", padding_y="48px"),
        ),
    )


PAGES = [
    ("/esqueci-senha", forgot_page, "Esqueci minha senha", PasswordState.load_forgot),
    ("/redefinir-senha", reset_page, "Nova senha", PasswordState.load_reset),
]
