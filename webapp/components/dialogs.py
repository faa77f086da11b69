"""Dialog pieces: the "are you sure?" dialog and the buttons at the foot of a dialog's form."""

from __future__ import annotations

from typing import Any

import reflex as rx


def cancel_button(**props) -> rx.Component:
    return rx.button("Cancelar", variant="soft", color_scheme="gray", **props)


def dialog_buttons(*buttons: rx.Component) -> rx.Component:
    """A dialog form's foot: "Cancelar" (closes it) and the form's own buttons, on the right."""
    return rx.hstack(rx.dialog.close(cancel_button(type="button")), *buttons, justify="end", spacing="3", width="100%")


def form_dialog(
    title: Any, description: Any, *children: rx.Component, open: Any, on_open_change: Any, max_width: str, **props
) -> rx.Component:
    """A dialog the state opens and closes: its title, what it is for, then its form."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(description, size="2", color_scheme="gray", margin_bottom="12px"),
            *children,
            max_width=max_width,
            **props,
        ),
        open=open,
        on_open_change=on_open_change,
    )


def confirm_dialog(
    title: Any,
    description: Any,
    confirm: rx.Component,
    *,
    trigger: rx.Component | None = None,
    closes: bool = True,
    description_size: str = "2",
    max_width: str = "440px",
    **root_props,
) -> rx.Component:
    """Ask before something that can't be undone. `closes=False` keeps the dialog open after the
    confirm button (its handler closes it on success, so a refusal is read beside it)."""
    return rx.alert_dialog.root(
        *([rx.alert_dialog.trigger(trigger)] if trigger is not None else []),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description, size=description_size),
            rx.hstack(
                rx.alert_dialog.cancel(cancel_button()),
                rx.alert_dialog.action(confirm) if closes else confirm,
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width=max_width,
        ),
        **root_props,
    )
