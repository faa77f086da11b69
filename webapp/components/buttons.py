"""Small buttons shared by the pages."""

from __future__ import annotations

from typing import Any

import reflex as rx


def action_button(icon: str, label: Any, *, icon_size: int = 16, **props) -> rx.Component:
    """A button with its icon before the label."""
    return rx.button(rx.icon(icon, size=icon_size), label, **props)


def submit_button(label: Any, loading: Any, id_: str, *, icon: str = "", icon_size: int = 16, **props) -> rx.Component:
    """A form's submit button, spinning while its handler runs."""
    mark = [rx.icon(icon, size=icon_size)] if icon else []
    return rx.button(*mark, label, type="submit", loading=loading, id=id_, **props)


def icon_action(icon: str, label: str, on_click: Any, color: str = "gray", **props) -> rx.Component:
    """An icon button on a list row, named by its tooltip and aria-label."""
    return rx.tooltip(
        rx.icon_button(
            rx.icon(icon, size=16),
            on_click=on_click,
            variant="ghost",
            color_scheme=color,
            size="2",
            aria_label=label,
            title=label,
            **props,
        ),
        content=label,
    )


def filter_chip(label: str, count: rx.Component, active: Any, on_click: Any, **props) -> rx.Component:
    """One of a list's filters, with how many items it holds; solid while it is the one applied."""
    return rx.button(
        label,
        count,
        size="1",
        variant=rx.cond(active, "solid", "soft"),
        color_scheme=rx.cond(active, "teal", "gray"),
        on_click=on_click,
        **props,
    )
