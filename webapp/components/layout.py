"""The signed-in panel's frame: sidebar, mobile header, page header, the loading screen."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from ..state import AuthState
from .brand import brand, brand_mark
from .forms import native_form
from .notices import account_notices


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


def responsive_row(
    *children: rx.Component, narrow: str | None = "start", wide: str | None = "center", **props
) -> rx.Component:
    """A row from small screens up, a column on phones; `narrow`/`wide` align the items in each."""
    align = rx.breakpoints(initial=narrow, sm=wide) if narrow else None
    return rx.flex(*children, direction=rx.breakpoints(initial="column", sm="row"), align=align, **props)


def list_row(*children: rx.Component, **props) -> rx.Component:
    """A row of a list inside a card: what it is on the left, its actions on the right."""
    return responsive_row(
        *children,
        justify="between",
        spacing="3",
        padding_y="12px",
        border_bottom="1px solid var(--gray-a4)",
        width="100%",
        **props,
    )


def item_row(*main: rx.Component, actions: list[rx.Component], **props) -> rx.Component:
    """A list item: its lines (the first ones take the free width) and icon actions on the right."""
    return rx.box(
        rx.hstack(
            *main,
            rx.hstack(*actions, spacing="1", align="center", flex_shrink="0"),
            align="start",
            spacing="3",
            width="100%",
        ),
        padding="12px 4px",
        border_top="1px solid var(--gray-a4)",
        width="100%",
        **props,
    )


def lines(*children: rx.Component, **props) -> rx.Component:
    """The text lines of an item, taking the width its row leaves."""
    return rx.vstack(*children, spacing="1", flex="1", min_width="0", **props)
