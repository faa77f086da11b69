"""Painel: the dashboard (stub until built)."""

from __future__ import annotations

import plotly.graph_objects as go
import reflex as rx

from ..components import empty_state
from .panel import PanelPage


def content() -> list[rx.Component]:
    return [
        empty_state("chart_no_axes_column", "Ainda não há resultados para mostrar", "Em construção."),
        rx.box(rx.plotly(data=go.Figure()), display="none"),
    ]


PAGE = PanelPage("/painel", "Painel", "Um resumo de como o seu vendedor de IA está se saindo.", content)
