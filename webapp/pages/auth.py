"""Sign-in (/login) and sign-up (/cadastro): plain HTML forms posting to the /auth/* routes.

The forms are real browser submissions (never websocket events): the response is a 303 that
sets or clears the HttpOnly session cookie, and the next page's websocket carries it.
"""

from __future__ import annotations

import reflex as rx

from ..components import (
    BRAND,
    brand,
    brand_mark,
    error_callout,
    field,
    muted,
    native_form,
    new_password_field,
    notice_callout,
)
from ..route import Route
from ..state import AuthState

HIGHLIGHTS = (
    (
        "message_circle",
        "Atende no WhatsApp a qualquer hora",
        "Responde os clientes na hora, inclusive à noite e no fim de semana.",
    ),
    (
        "book_open",
        "Responde com o que a sua empresa sabe",
        "Usa seus catálogos, tabelas de preço e perguntas frequentes.",
    ),
    (
        "users",
        "Passa para a sua equipe quando precisa",
        "Quando não tem certeza, chama um vendedor e aprende com a resposta.",
    ),
)


def _highlight(icon: str, title: str, text: str) -> rx.Component:
    return rx.hstack(
        rx.center(
            rx.icon(icon, size=18, color="white"),
            width="36px",
            height="36px",
            border_radius="10px",
            background="rgba(255,255,255,0.14)",
            flex_shrink="0",
        ),
        rx.box(
            rx.text(title, weight="medium", size="3", color="white"),
            rx.text(text, size="2", color="rgba(255,255,255,0.78)"),
        ),
        spacing="3",
        align="start",
    )


def _showcase() -> rx.Component:
    """The left half on large screens: what the product does, in three lines (no made-up numbers)."""
    return rx.flex(
        rx.hstack(
            rx.center(
                rx.icon("send", size=16, color="var(--teal-11)"),
                width="32px",
                height="32px",
                border_radius="10px",
                background="white",
            ),
            rx.text(BRAND, weight="bold", size="4", color="white"),
            align="center",
            spacing="2",
        ),
        rx.vstack(
            rx.heading(
                "Seu vendedor de IA no WhatsApp",
                size="8",
                color="white",
                weight="bold",
                letter_spacing="-0.02em",
                line_height="1.15",
            ),
            rx.text(
                "Qualifica os leads, tira dúvidas e faz o follow-up por você, do jeito que a sua empresa atende.",
                size="4",
                color="rgba(255,255,255,0.85)",
                max_width="44ch",
            ),
            rx.vstack(*[_highlight(*h) for h in HIGHLIGHTS], spacing="5", padding_top="24px"),
            spacing="4",
        ),
        rx.text("Feito para pequenas e médias empresas do Brasil.", size="2", color="rgba(255,255,255,0.7)"),
        direction="column",
        justify="between",
        padding="48px",
        width="46%",
        max_width="640px",
        min_height="100vh",
        background=(
            "radial-gradient(circle at 15% 10%, rgba(255,255,255,0.16), transparent 45%),"
            " linear-gradient(150deg, var(--teal-10) 0%, var(--teal-11) 55%, #0b3f3c 100%)"
        ),
        display=["none", "none", "flex"],
    )


def auth_page(*form_children: rx.Component) -> rx.Component:
    """The signed-out pages' layout: what the product does on the left (large screens), the form."""
    return rx.flex(
        _showcase(),
        rx.center(
            rx.vstack(
                rx.box(brand(), display=["block", "block", "none"], padding_bottom="8px"),
                *form_children,
                spacing="5",
                width="100%",
                max_width="400px",
            ),
            flex="1",
            padding=["32px 20px", "48px 32px"],
            min_height="100vh",
        ),
        width="100%",
        min_height="100vh",
        background="var(--color-background)",
    )


def auth_form(
    *fields: rx.Component, submit: str, submit_id: str, action: str, form_id: str, after: rx.Component | None = None
) -> rx.Component:
    """A signed-out page's form: a real browser POST to `action` (the answer sets the cookie)."""
    button = rx.button(submit, type="submit", size="3", width="100%", id=submit_id)
    return native_form(
        rx.vstack(*fields, button, *([after] if after is not None else []), spacing="4", width="100%"),
        action=action,
        width="100%",
        id=form_id,
    )


def hidden(name: str, value: rx.Var[str]) -> rx.Component:
    """What the form sends along that the person doesn't type (the link's token, where to go next)."""
    return rx.el.input(type="hidden", name=name, value=value, read_only=True)


def auth_heading(title: str, text: rx.Var | str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="7", weight="bold", letter_spacing="-0.02em", as_="h1"),
        muted(text, size="3"),
        spacing="1",
    )


def checking() -> rx.Component:
    """While the page's link (a token) is being checked."""
    return rx.center(rx.spinner(size="3"), width="100%", padding_y="48px")


def unavailable(title: str, error: rx.Var[str], link_text: str, href: str) -> rx.Component:
    """A link that can't be used any more: why, and where to go instead."""
    return rx.vstack(
        rx.heading(title, size="7", weight="bold", as_="h1"),
        error_callout(error),
        rx.link(link_text, href=href, weight="medium", color_scheme="teal"),
        spacing="4",
        width="100%",
    )


def _other_page(question: str, link_text: str, href: str, id_: str) -> rx.Component:
    return muted(question, rx.link(link_text, href=href, weight="medium", color_scheme="teal", id=id_), size="2")


def _google_button(label: str) -> rx.Component:
    return rx.cond(
        AuthState.google_enabled,
        rx.vstack(
            rx.hstack(
                rx.separator(size="4"),
                muted("ou"),
                rx.separator(size="4"),
                align="center",
                width="100%",
            ),
            rx.button(
                rx.el.a(
                    rx.image(src="/google.svg", width="18px", height="18px", alt=""),
                    label,
                    href="/auth/google/login",
                    id="google-login",
                ),
                as_child=True,
                variant="outline",
                color_scheme="gray",
                size="3",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
    )


def login_page() -> rx.Component:
    return auth_page(
        auth_heading("Entrar", "Acesse o painel da sua empresa."),
        error_callout(AuthState.login_error),
        notice_callout(AuthState.login_notice),
        auth_form(
            field("E-mail", "email", "email", placeholder="voce@empresa.com.br", auto_complete="email", required=True),
            rx.box(
                field("Senha", "password", "password", auto_complete="current-password", required=True),
                rx.link(
                    "Esqueci minha senha",
                    href="/esqueci-senha",
                    size="2",
                    color_scheme="teal",
                    id="forgot-link",
                    margin_top="6px",
                    display="inline-block",
                ),
                width="100%",
            ),
            hidden("next", AuthState.login_next),
            submit="Entrar",
            submit_id="login-submit",
            action="/auth/login",
            form_id="login-form",
        ),
        _google_button("Entrar com Google"),
        _other_page("Ainda não tem conta? ", "Criar conta", "/cadastro", "signup-link"),
    )


def signup_page() -> rx.Component:
    return auth_page(
        auth_heading("Criar conta", f"Comece a usar o {BRAND} na sua empresa."),
        error_callout(AuthState.signup_error),
        auth_form(
            field(
                "Nome da empresa",
                "company",
                placeholder="Ex.: Loja Bela Vista",
                auto_complete="organization",
                required=True,
                max_length=120,
            ),
            field("Seu nome", "name", placeholder="Como a equipe vai te ver", auto_complete="name", max_length=200),
            field("E-mail", "email", "email", placeholder="voce@empresa.com.br", auto_complete="email", required=True),
            new_password_field("Senha"),
            submit="Criar conta",
            submit_id="signup-submit",
            action="/auth/signup",
            form_id="signup-form",
        ),
        _google_button("Continuar com Google"),
        _other_page("Já tem conta? ", "Entrar", "/login", "login-link"),
    )


def home_page() -> rx.Component:
    """/ only redirects (on_load); this shows for the blink before it does."""
    return rx.center(brand_mark("40px"), height="100vh")


HOME = Route("/", "", home_page, on_load=(AuthState.route_home,))
LOGIN = Route("/login", "Entrar", login_page, on_load=(AuthState.load_login,))
SIGNUP = Route("/cadastro", "Criar conta", signup_page, on_load=(AuthState.load_signup,))
