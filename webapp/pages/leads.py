"""Leads (stub until built)."""

from __future__ import annotations

import reflex as rx

from ..components import empty_state
from .panel import PanelPage


def content() -> list[rx.Component]:
    return [empty_state("contact", "Leads", "Em construção.")]


PAGE = PanelPage(
    "/leads", "Leads", "Os contatos que chegaram pelos seus canais e em que ponto cada um está na negociação.", content
)
