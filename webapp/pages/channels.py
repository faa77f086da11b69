"""Canais (stub until built)."""

from __future__ import annotations

import reflex as rx

from ..components import empty_state
from .panel import PanelPage


def content() -> list[rx.Component]:
    return [empty_state("radio_tower", "Canais", "Em construção.")]


PAGE = PanelPage("/canais", "Canais", "Por onde os clientes falam com a sua empresa.", content)
