"""The product's mark and name, as the sidebar, the sign-in pages and the loading screens show them."""

from __future__ import annotations

import reflex as rx

from ..route import SITE_NAME

BRAND = SITE_NAME


def brand_mark(size: str = "32px") -> rx.Component:
    return rx.center(
        rx.icon("send", size=16, color="white"),
        width=size,
        height=size,
        border_radius="10px",
        background="linear-gradient(135deg, var(--teal-9), var(--cyan-10))",
        box_shadow="0 4px 12px -4px var(--teal-a8)",
        flex_shrink="0",
    )


def brand(size: str = "4") -> rx.Component:
    return rx.hstack(
        brand_mark(),
        rx.text(BRAND, weight="bold", size=size, letter_spacing="-0.01em"),
        align="center",
        spacing="2",
    )
