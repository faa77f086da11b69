"""The signed-in pages: one module per page, each exporting PAGE; this module lists them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from ..components import shell


@dataclass(frozen=True)
class PanelPage:
    route: str
    title: str
    description: str
    content: Callable[[], list[rx.Component]]
    on_load: tuple[Any, ...] = field(default=())  # run after the session check
    wide: bool = False


def make_page(page: PanelPage) -> Callable[[], rx.Component]:
    def render() -> rx.Component:
        return shell(page.route, page.title, page.description, *page.content(), wide=page.wide)

    render.__name__ = f"page_{page.route.strip('/')}"
    return render


def all_pages() -> tuple[PanelPage, ...]:
    from . import agents, channels, dashboard, inbox, knowledge, leads, playground, settings, status, team

    return (
        dashboard.PAGE,
        agents.PAGE,
        knowledge.PAGE,
        playground.PAGE,
        inbox.PAGE,
        leads.PAGE,
        channels.PAGE,
        team.PAGE,
        settings.PAGE,
        status.PAGE,
    )
