"""Cards: the panel's sections with a titled header, the empty state, loading placeholders."""

from __future__ import annotations

import reflex as rx


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


def card_title(title: str, text: str, *, weight: str | None = "medium", text_size: str = "2") -> rx.Component:
    """The smaller title of a card inside a page section (an editor's group, a chart)."""
    return rx.box(
        rx.heading(title, size="3", weight=weight, as_="h3"),
        rx.text(text, size=text_size, color_scheme="gray"),
    )


def group_card(title: str, text: str, *children: rx.Component) -> rx.Component:
    """A group of fields with its title, e.g. one concern of the agent editor."""
    return rx.card(
        rx.vstack(card_title(title, text), *children, spacing="4", width="100%"),
        size="2",
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


def skeleton_rows(count: int, height: str, spacing: str = "2") -> rx.Component:
    """Grey placeholders where a list will be, while it loads."""
    return rx.vstack(*[rx.skeleton(height=height, width="100%") for _ in range(count)], spacing=spacing, width="100%")
