"""The page record: what the app registers for one URL. A leaf (it imports nothing of the app), so
every page module can build its own record and `webapp.pages` can list them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import reflex as rx

SITE_NAME = "PilotoDeVendas"


@dataclass(frozen=True)
class Route:
    path: str
    title: str  # the page's own name; "" for the site's name alone
    component: Callable[[], rx.Component]
    on_load: tuple[Any, ...] = field(default=())  # event handlers, in order

    @property
    def page_title(self) -> str:
        """The browser tab's title."""
        return f"{self.title} | {SITE_NAME}" if self.title else SITE_NAME
