"""Text pieces: the grey secondary line, and a caption with its value."""

from __future__ import annotations

from typing import Any

import reflex as rx


def muted(*text: Any, size: str = "1", **props) -> rx.Component:
    """Secondary text: a hint, a date, a count."""
    return rx.text(*text, size=size, color_scheme="gray", **props)


def caption_value(caption: Any, value: Any, *, icon: str = "", id_: str | None = None, **props) -> rx.Component:
    """`Caption: value` on one line, the value in medium weight (an icon first, when given)."""
    mark = [rx.icon(icon, size=14, color="var(--gray-10)")] if icon else []
    return rx.hstack(
        *mark,
        rx.text(caption, size="2", color_scheme="gray"),
        rx.text(value, size="2", weight="medium", id=id_, **props),
        spacing="1",
        align="center" if icon else None,
    )
