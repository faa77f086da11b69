"""The editable row list: rows of inputs the person adds, edits and removes (qualification fields,
rules, follow-up steps). State-agnostic: each page binds the values and events of its rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx


def row_card(*children: rx.Component) -> rx.Component:
    """One row, as a small card holding its inputs."""
    return rx.card(rx.vstack(*children, spacing="3", width="100%"), size="1", width="100%", variant="surface")


def row_input(value: Any, on_change: Any, placeholder: str, **props) -> rx.Component:
    return rx.input(value=value, on_change=on_change, placeholder=placeholder, width="100%", **props)


def row_switch(checked: Any, on_change: Any, label: str, **props) -> rx.Component:
    """A switch with its caption on the right."""
    return rx.hstack(
        rx.switch(checked=checked, on_change=on_change, color_scheme="teal"),
        rx.text(label, size="2", **props),
        align="center",
        spacing="2",
    )


def remove_row_button(on_click: Any, label: str) -> rx.Component:
    return rx.icon_button(
        rx.icon("trash_2", size=16),
        on_click=on_click,
        variant="ghost",
        color_scheme="red",
        aria_label=label,
        type="button",
    )


def row_list(
    rows: rx.Var, render: Callable[[Any, Any], rx.Component], *, empty: str, add_label: str, on_add: Any, add_id: str
) -> rx.Component:
    """The rows (or what to add when there are none) and the button that adds one."""
    return rx.fragment(
        rx.cond(
            rows.length() > 0,
            rx.vstack(rx.foreach(rows, render), spacing="3", width="100%"),
            rx.text(empty, size="2", color_scheme="gray"),
        ),
        rx.button(rx.icon("plus", size=14), add_label, variant="soft", on_click=on_add, id=add_id, type="button"),
    )
