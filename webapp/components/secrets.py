"""Secrets shown once (an API key, an invitation or new-password link): written straight into the
page by `webapp.state.reveal`, never held in a state var."""

from __future__ import annotations

import json

import reflex as rx


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


def reveal_box(*children: rx.Component, color: str, shown: rx.Var[bool], id_: str) -> rx.Component:
    """The box around a one_time_secret: always mounted, hidden until there is a secret to show."""
    return rx.box(
        rx.vstack(*children, spacing="3", width="100%"),
        padding="16px",
        border_radius="12px",
        border=f"1px solid var(--{color}-a6)",
        background=f"var(--{color}-a2)",
        width="100%",
        display=rx.cond(shown, "block", "none"),
        id=id_,
    )
