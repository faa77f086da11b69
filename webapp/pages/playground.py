"""Playground (stub until built)."""

from __future__ import annotations

import reflex as rx

from ..components import empty_state
from .panel import PanelPage


def content() -> list[rx.Component]:
    return [empty_state("messages_square", "Playground", "Em construção.")]


PAGE = PanelPage(
    "/playground",
    "Playground",
    "Converse com o agente como um cliente faria e veja por que ele respondeu assim.",
    content,
)
