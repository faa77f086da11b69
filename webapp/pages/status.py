"""Status (stub until built)."""

from __future__ import annotations

import reflex as rx

from ..components import empty_state
from .panel import PanelPage


def content() -> list[rx.Component]:
    return [empty_state("activity", "Status", "Em construção.")]


PAGE = PanelPage(
    "/status", "Status", "A saúde do sistema: banco de dados, fila de tarefas, canais e o provedor de IA.", content
)
