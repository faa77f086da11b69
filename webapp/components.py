"""Building blocks shared by the pages: the native form, the brand, the panel shell, empty states."""

from __future__ import annotations

import json
from dataclasses import dataclass

import reflex as rx
from reflex_components_core.el.elements.forms import Form

from runtime.security import MIN_PASSWORD_LENGTH

from .state import AuthState

BRAND = "PilotoDeVendas"


class NativeForm(Form):
    """A plain <form> the browser submits itself (a full-page POST), with no Reflex event.

    rx.el.form always installs an onSubmit handler that calls preventDefault() and sends the
    fields over the websocket. Sign-in, sign-up and sign-out must be real navigations: the
    response sets or clears the HttpOnly cookie, and the websocket only sees cookies when it
    (re)connects.
    """

    @classmethod
    def create(cls, *children, **props) -> Form:
        props.pop("on_submit", None)
        return super(Form, cls).create(*children, **props)


def native_form(*children, action: str, **props) -> Form:
    return NativeForm.create(*children, action=action, method="post", **props)


def brand_mark(size: str = "32px") -> rx.Component:
    return rx.center(
        rx.icon("send", size=16, color="white"),
        width=size,
        height=size,
        border_radius="10px",
        background="linear-gradient(135deg, var(--teal-9), var(--cyan-10))",
        box_shadow="0 4px 12px -4px var(--teal-a8)",
        flex_shrink="0",
    )


def brand(size: str = "4") -> rx.Component:
    return rx.hstack(
        brand_mark(),
        rx.text(BRAND, weight="bold", size=size, letter_spacing="-0.01em"),
        align="center",
        spacing="2",
    )


def _message_callout(message: rx.Var[str], color: str, icon: str, role: str, id_: str) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout.root(
            rx.callout.icon(rx.icon(icon, size=16)),
            rx.callout.text(message),
            color_scheme=color,
            role=role,
            size="1",
            width="100%",
            id=id_,
        ),
    )


def error_callout(message: rx.Var[str]) -> rx.Component:
    return _message_callout(message, "red", "circle_alert", "alert", "form-error")


def notice_callout(message: rx.Var[str]) -> rx.Component:
    return _message_callout(message, "green", "circle_check", "status", "form-notice")


def field(label: str, name: str, type_: str = "text", **props) -> rx.Component:
    return rx.el.label(
        rx.text(label, size="2", weight="medium", as_="div", margin_bottom="6px"),
        rx.input(name=name, type=type_, size="3", width="100%", **props),
        width="100%",
        display="block",
    )


def readonly_field(label: str, value: rx.Var[str]) -> rx.Component:
    """A value shown in a form's style but not sent (e.g. the e-mail a link is for)."""
    return rx.el.label(
        rx.text(label, size="2", weight="medium", as_="div", margin_bottom="6px"),
        rx.input(value=value, read_only=True, disabled=True, size="3"),
        display="block",
        width="100%",
    )


def new_password_field(label: str) -> rx.Component:
    """The `password` field of a form that sets a password, with the length rule under it."""
    return rx.box(
        field(
            label,
            "password",
            "password",
            auto_complete="new-password",
            required=True,
            min_length=MIN_PASSWORD_LENGTH,
        ),
        rx.text(f"Pelo menos {MIN_PASSWORD_LENGTH} caracteres.", size="1", color_scheme="gray", margin_top="6px"),
        width="100%",
    )


# --- secrets shown once ------------------------------------------------------------------


def one_time_secret(id_: str, **props) -> rx.Component:
    """The read-only input a secret is shown once in. No state var holds the secret: state.reveal
    writes it straight into this element. Keep it mounted while its callout is hidden (hide the
    callout with `display`, not rx.cond), or the write finds no element."""
    return rx.input(read_only=True, id=id_, size="3", width="100%", auto_complete="off", **props)


def copy_secret(id_: str, done: str) -> list[rx.event.EventSpec]:
    """Copy a one_time_secret from the page itself: no round trip, nothing asked of the server."""
    script = f"navigator.clipboard.writeText(document.getElementById({json.dumps(id_)}).value)"
    return [rx.call_script(script), rx.toast.success(done)]


def forget_secret(id_: str) -> rx.event.EventSpec:
    """Empty a one_time_secret (its callout was dismissed)."""
    return rx.set_value(id_, "")


# --- the signed-in panel -----------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    route: str
    label: str
    icon: str
    managers_only: bool = True  # sellers see only the inbox and their own account


SECTIONS = (
    Section("/painel", "Painel", "layout_dashboard"),
    Section("/agentes", "Agentes", "bot"),
    Section("/conhecimento", "Conhecimento", "book_open"),
    Section("/playground", "Playground", "messages_square"),
    Section("/inbox", "Inbox", "inbox", managers_only=False),
    Section("/leads", "Leads", "contact"),
    Section("/canais", "Canais", "radio_tower"),
    Section("/equipe", "Equipe", "users"),
    Section("/configuracoes", "Configurações", "settings", managers_only=False),
    Section("/status", "Status", "activity"),
)


def for_role(section: Section, component: rx.Component) -> rx.Component:
    """Hide a managers-only entry from sellers (the runtime refuses them anyway)."""
    if not section.managers_only:
        return component
    return rx.cond(AuthState.role == "seller", rx.fragment(), component)


def nav_item(section: Section, active: bool) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon(section.icon, size=18),
            rx.text(section.label, size="2", weight="medium"),
            align="center",
            spacing="3",
            padding_x="12px",
            padding_y="9px",
            border_radius="8px",
            color="var(--teal-11)" if active else "var(--gray-11)",
            background="var(--teal-a3)" if active else "transparent",
            _hover={} if active else {"background": "var(--gray-a3)", "color": "var(--gray-12)"},
            width="100%",
        ),
        href=section.route,
        underline="none",
        width="100%",
        aria_current="page" if active else None,
        data_nav=section.route.strip("/"),
    )


def logout_button(form_id: str = "logout-form", width: str = "100%", **props) -> rx.Component:
    return native_form(
        rx.button(
            rx.icon("log_out", size=16),
            "Sair",
            type="submit",
            variant="soft",
            color_scheme="gray",
            width=width,
            **props,
        ),
        action="/auth/logout",
        width=width,
        id=form_id,
    )


def user_card() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.avatar(fallback=AuthState.initials, size="2", radius="full", color_scheme="teal", variant="soft"),
            rx.box(
                rx.text(AuthState.display_name, size="2", weight="medium", trim="both", id="user-name"),
                rx.text(
                    AuthState.user_email,
                    size="1",
                    color_scheme="gray",
                    id="user-email",
                    white_space="nowrap",
                    overflow="hidden",
                    text_overflow="ellipsis",
                ),
                min_width="0",
                flex="1",
            ),
            align="center",
            spacing="3",
            width="100%",
        ),
        logout_button(),
        spacing="3",
        width="100%",
    )


def workspace_badge() -> rx.Component:
    return rx.hstack(
        rx.icon("building_2", size=16, color="var(--gray-10)"),
        rx.box(
            rx.text(
                AuthState.workspace_name,
                size="2",
                weight="medium",
                id="workspace-name",
                white_space="nowrap",
                overflow="hidden",
                text_overflow="ellipsis",
            ),
            rx.text(AuthState.role_label, size="1", color_scheme="gray"),
            min_width="0",
        ),
        align="center",
        spacing="2",
        padding="10px 12px",
        border="1px solid var(--gray-a5)",
        border_radius="10px",
        background="var(--color-panel-solid)",
        width="100%",
    )


def sidebar(active_route: str) -> rx.Component:
    return rx.flex(
        rx.box(brand(), padding_x="4px"),
        workspace_badge(),
        rx.vstack(
            *[for_role(s, nav_item(s, s.route == active_route)) for s in SECTIONS],
            spacing="1",
            width="100%",
            as_="nav",
            aria_label="Menu principal",
        ),
        rx.spacer(),
        rx.separator(size="4"),
        user_card(),
        direction="column",
        gap="20px",
        height="100vh",
        position="sticky",
        top="0",
        padding="20px 16px",
    )


def sidebar_column(active_route: str) -> rx.Component:
    """The sidebar's background runs the page's full height; its content sticks to the viewport."""
    return rx.box(
        sidebar(active_route),
        width="260px",
        min_width="260px",
        border_right="1px solid var(--gray-a4)",
        background="var(--gray-2)",
        display=["none", "none", "block"],
    )


def mobile_header(active_route: str) -> rx.Component:
    return rx.box(
        rx.hstack(
            brand("3"),
            rx.spacer(),
            rx.text(
                AuthState.workspace_name,
                size="2",
                color_scheme="gray",
                white_space="nowrap",
                overflow="hidden",
                text_overflow="ellipsis",
                min_width="0",
            ),
            rx.box(logout_button("logout-form-mobile", "auto", size="1"), flex_shrink="0"),
            align="center",
            spacing="3",
        ),
        rx.hstack(
            *[
                for_role(
                    s,
                    rx.link(
                        rx.badge(
                            s.label,
                            size="2",
                            variant="solid" if s.route == active_route else "soft",
                            color_scheme="teal" if s.route == active_route else "gray",
                        ),
                        href=s.route,
                        underline="none",
                    ),
                )
                for s in SECTIONS
            ],
            spacing="2",
            overflow_x="auto",
            padding_top="12px",
        ),
        padding="12px 16px",
        border_bottom="1px solid var(--gray-a4)",
        display=["block", "block", "none"],
    )


def page_header(title: str, description: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="7", weight="bold", letter_spacing="-0.02em", as_="h1"),
        rx.text(description, size="3", color_scheme="gray", max_width="68ch"),
        spacing="2",
        width="100%",
    )


def empty_state(icon: str, title: str, text: str, *actions: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.center(
                rx.icon(icon, size=26, color="var(--teal-11)"),
                width="56px",
                height="56px",
                border_radius="16px",
                background="var(--teal-a3)",
            ),
            rx.heading(title, size="4", weight="medium", as_="h2", text_align="center"),
            rx.text(text, size="2", color_scheme="gray", text_align="center", max_width="46ch"),
            *actions,
            align="center",
            spacing="3",
            padding_y="48px",
            padding_x="24px",
        ),
        size="3",
        width="100%",
        variant="surface",
        class_name="empty-state",
    )


def icon_tile(icon: str, large: bool = False) -> rx.Component:
    """The teal square holding a card's icon (large: list cards such as an agent or a channel)."""
    return rx.center(
        rx.icon(icon, size=20 if large else 18, color="var(--teal-11)"),
        width="40px" if large else "36px",
        height="40px" if large else "36px",
        border_radius="12px" if large else "10px",
        background="var(--teal-a3)",
        flex_shrink="0",
    )


def card_heading(icon: str, title: str, text: str = "", right: rx.Component | None = None) -> rx.Component:
    """A card's title row: icon tile, title and its one-line explanation, something on the right."""
    return rx.hstack(
        icon_tile(icon),
        rx.vstack(
            rx.heading(title, size="4", weight="medium", as_="h2"),
            *([rx.text(text, size="2", color_scheme="gray")] if text else []),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        right if right is not None else rx.fragment(),
        align="center",
        spacing="3",
        width="100%",
    )


def section_card(
    icon: str, title: str, text: str, *children: rx.Component, right: rx.Component | None = None, **props
) -> rx.Component:
    """The panel pages' section: a card with a titled header and its content below."""
    return rx.card(
        rx.vstack(card_heading(icon, title, text, right), *children, spacing="4", width="100%"),
        size="3",
        width="100%",
        **props,
    )


def loading_screen() -> rx.Component:
    return rx.center(
        rx.vstack(
            brand_mark("40px"),
            rx.spinner(size="2"),
            align="center",
            spacing="4",
        ),
        height="100vh",
        width="100%",
    )


def account_notices() -> rx.Component:
    """Above every panel page: confirm your e-mail (small, with "reenviar"), and what a Google
    takeover ended (once, after that sign-in)."""
    from .states.email_confirmation import EmailConfirmationState as S

    confirm = rx.cond(
        S.confirm_needed,
        rx.callout.root(
            rx.flex(
                rx.hstack(
                    rx.icon("mail", size=16, flex_shrink="0"),
                    rx.text(S.confirm_text, size="2"),
                    spacing="2",
                    align="center",
                ),
                rx.cond(
                    S.confirm_button != "",
                    rx.button(
                        S.confirm_button,
                        size="1",
                        variant="soft",
                        color_scheme="amber",
                        loading=S.confirm_sending,
                        on_click=S.resend,
                        flex_shrink="0",
                        id="email-confirm-resend",
                    ),
                ),
                rx.cond(
                    S.confirm_href != "",
                    rx.link("Abrir Configurações", href=S.confirm_href, size="2", weight="medium", flex_shrink="0"),
                ),
                flex_direction=["column", "row"],
                align_items=["flex-start", "center"],
                justify="between",
                gap="2",
                width="100%",
            ),
            color_scheme="amber",
            variant="surface",
            size="1",
            width="100%",
            role="status",
            id="email-confirm-banner",
        ),
    )
    takeover = rx.cond(
        S.takeover_notice != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("shield_check", size=16)),
            rx.callout.text(S.takeover_notice),
            color_scheme="blue",
            size="1",
            width="100%",
            role="status",
            id="takeover-notice",
        ),
    )
    return rx.fragment(takeover, confirm)


def shell(active_route: str, title: str, description: str, *content: rx.Component, wide: bool = False) -> rx.Component:
    """The signed-in layout. Nothing of it renders until the server has checked the cookie."""
    return rx.cond(
        AuthState.signed_in,
        rx.flex(
            sidebar_column(active_route),
            rx.box(
                mobile_header(active_route),
                rx.box(
                    rx.vstack(
                        account_notices(),
                        page_header(title, description),
                        *content,
                        spacing="6",
                        width="100%",
                        max_width="1320px" if wide else "1040px",
                    ),
                    padding=["20px 16px", "28px 24px", "40px 48px"],
                    as_="main",
                ),
                flex="1",
                min_width="0",
            ),
            min_height="100vh",
            width="100%",
        ),
        loading_screen(),
    )
