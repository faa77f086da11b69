"""Callouts: a coloured box with an icon that says what happened or what to do next."""

from __future__ import annotations

from typing import Any

import reflex as rx


def callout(icon: str, *text: Any, color: str, **props) -> rx.Component:
    """The panel's callout: small, full width, icon on the left."""
    return rx.callout.root(
        rx.callout.icon(rx.icon(icon, size=16)),
        rx.callout.text(*text),
        **{"color_scheme": color, "size": "1", "width": "100%", **props},
    )


def message_callout(message: rx.Var[str], color: str, icon: str, role: str, id_: str) -> rx.Component:
    """A callout that shows only while `message` has something to say."""
    return rx.cond(message != "", callout(icon, message, color=color, role=role, id=id_))


def error_callout(message: rx.Var[str]) -> rx.Component:
    return message_callout(message, "red", "circle_alert", "alert", "form-error")


def notice_callout(message: rx.Var[str]) -> rx.Component:
    return message_callout(message, "green", "circle_check", "status", "form-notice")
