"""Agentes (stub until built)."""

from __future__ import annotations

import reflex as rx

from ..components import empty_state
from .panel import PanelPage


def content() -> list[rx.Component]:
    return [empty_state("bot", "Agentes", "Em construção.")]


PAGE = PanelPage(
    "/agentes",
    "Agentes",
    (
        "Configure o vendedor de IA: como ele se apresenta, o tom de voz, o roteiro de qualificação "
        "e quando ele passa a conversa para alguém da equipe."
    ),
    content,
)
