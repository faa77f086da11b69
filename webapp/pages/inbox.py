"""Inbox (stub until built)."""

from __future__ import annotations

import reflex as rx

from ..components import empty_state
from .panel import PanelPage


def content() -> list[rx.Component]:
    return [empty_state("inbox", "Inbox", "Em construção.")]


PAGE = PanelPage(
    "/inbox",
    "Inbox",
    "As conversas com os clientes em tempo real, para a equipe acompanhar e assumir quando quiser.",
    content,
)
