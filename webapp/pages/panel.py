"""A signed-in page's record: its content inside the panel's shell, after the session check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from ..components import shell
from ..route import Route
from ..state import AuthState
from ..states.email_confirmation import EmailConfirmationState


def panel_route(
    path: str,
    title: str,
    description: str,
    content: Callable[[], list[rx.Component]],
    *,
    on_load: tuple[Any, ...] = (),
    wide: bool = False,
) -> Route:
    """`content` under the page's title and description; `on_load` runs after the session check."""

    def render() -> rx.Component:
        return shell(path, title, description, *content(), wide=wide)

    render.__name__ = f"page_{path.strip('/')}"
    return Route(path, title, render, on_load=(AuthState.check_session, EmailConfirmationState.load, *on_load))
