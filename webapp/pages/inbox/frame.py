"""What the inbox's panels share: their height, the phone breakpoint, a contact's avatar and
provider badge, the grey placeholder of an empty panel."""

from __future__ import annotations

import reflex as rx

from .labels import PROVIDER_LABELS

MOBILE = "@media (max-width: 767px)"
PANEL_HEIGHT = "calc(100vh - 210px)"
PANEL = {"height": PANEL_HEIGHT, "min_height": "480px"}  # each of the three panels (list, thread, lead)


def provider_badge(provider) -> rx.Component:
    return rx.badge(
        rx.match(provider, *[(k, v) for k, v in PROVIDER_LABELS.items()], provider),
        variant="soft",
        color_scheme="gray",
        size="1",
    )


def avatar(name) -> rx.Component:
    return rx.avatar(fallback=name.to(str)[:2].upper(), size="3", radius="full", color_scheme="teal")


# --- conversation list ------------------------------------------------------------------------------


def placeholder(icon: str, size: int, color: str, text: rx.Component, **props) -> rx.Component:
    return rx.center(rx.vstack(rx.icon(icon, size=size, color=color), text, align="center"), **props)
