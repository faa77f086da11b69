"""Equipe (stub until built)."""

from __future__ import annotations

import reflex as rx

from ..components import empty_state
from .panel import PanelPage


def content() -> list[rx.Component]:
    return [empty_state("users", "Equipe", "Em construção.")]


PAGE = PanelPage(
    "/equipe", "Equipe", "Quem da sua empresa usa o painel e recebe as conversas que o agente encaminha.", content
)
