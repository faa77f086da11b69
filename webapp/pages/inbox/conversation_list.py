"""The conversation list: search, filters with counts, one row per conversation."""

from __future__ import annotations

import reflex as rx

from ...components import (
    filter_chip,
    icon_input,
    muted,
    skeleton_rows,
)
from ...states.inbox import InboxState, Row
from .frame import MOBILE, PANEL, avatar, placeholder, provider_badge
from .labels import FILTERS


def filter_button(key: str, label: str) -> rx.Component:
    count = InboxState.counts.get(key, 0)
    return filter_chip(
        label,
        rx.cond(count > 0, rx.badge(count, size="1", variant="solid", radius="full")),
        InboxState.view == key,
        InboxState.set_view(key),
        data_filter=key,
    )


def conversation_row(row: Row) -> rx.Component:
    return rx.hstack(
        avatar(row.name),
        rx.vstack(
            rx.hstack(
                rx.text(row.name, weight="medium", size="2", trim="both", class_name="truncate", flex="1"),
                rx.text(row.time, size="1", color_scheme=rx.cond(row.unread > 0, "teal", "gray")),
                width="100%",
                align="center",
            ),
            rx.hstack(
                muted(row.preview, class_name="truncate", flex="1"),
                rx.cond(
                    row.unread > 0,
                    rx.badge(row.unread, variant="solid", color_scheme="teal", radius="full", class_name="unread"),
                ),
                width="100%",
                align="center",
            ),
            rx.hstack(
                provider_badge(row.provider),
                rx.cond(
                    row.waiting_human,
                    rx.badge(rx.icon("hand", size=12), "Aguardando humano", color_scheme="orange", size="1"),
                ),
                rx.cond(row.mode == "off", rx.badge("Humano", color_scheme="blue", size="1")),
                rx.cond(row.mode == "copilot", rx.badge("Copiloto", color_scheme="violet", size="1")),
                rx.cond(row.assigned_name != "", muted(row.assigned_name)),
                spacing="1",
                wrap="wrap",
            ),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        padding="10px 12px",
        spacing="3",
        width="100%",
        cursor="pointer",
        border_left=rx.cond(row.waiting_human, "3px solid var(--orange-9)", "3px solid transparent"),
        background=rx.cond(InboxState.current_id == row.id, "var(--teal-a3)", "transparent"),
        _hover={"background": "var(--gray-a3)"},
        on_click=InboxState.open(row.id),
        class_name="conversation-row",
        data_id=row.id,
    )


def list_panel() -> rx.Component:
    return rx.vstack(
        rx.el.form(
            rx.hstack(
                icon_input(
                    "search",
                    name="q",
                    placeholder="Buscar por nome ou telefone",
                    default_value=InboxState.search,
                    width="100%",
                    id="inbox-search",
                    icon_size=14,
                    size="2",
                ),
                rx.cond(
                    InboxState.live,
                    rx.tooltip(
                        rx.badge("● ao vivo", color_scheme="green", size="1", id="live-badge"),
                        content="Atualiza sozinho",
                    ),
                ),
                width="100%",
                align="center",
            ),
            on_submit=InboxState.run_search,
            width="100%",
        ),
        rx.flex(*[filter_button(k, v) for k, v in FILTERS], wrap="wrap", spacing="1", width="100%"),
        rx.separator(size="4"),
        rx.cond(
            InboxState.list_loading,
            skeleton_rows(5, "56px", spacing="3"),
            rx.cond(
                InboxState.rows.length() > 0,
                rx.scroll_area(
                    rx.vstack(rx.foreach(InboxState.rows, conversation_row), spacing="0", width="100%"),
                    type="auto",
                    scrollbars="vertical",
                    flex="1",
                    id="conversation-list",
                ),
                placeholder(
                    "inbox",
                    28,
                    "var(--gray-9)",
                    muted("Nenhuma conversa aqui.", size="2"),
                    padding="40px",
                    width="100%",
                    id="conversation-list-empty",
                ),
            ),
        ),
        width=["100%", "100%", "340px"],
        flex_shrink="0",
        **PANEL,
        padding="12px",
        spacing="3",
        border_right="1px solid var(--gray-a5)",
        style={MOBILE: {"display": rx.cond(InboxState.has_current, "none", "flex")}},
    )


# --- thread ---------------------------------------------------------------------------------------
