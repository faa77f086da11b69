"""Configurações (stub until built)."""

from __future__ import annotations

import reflex as rx

from ..components import empty_state
from .panel import PanelPage


def content() -> list[rx.Component]:
    return [empty_state("settings", "Configurações", "Em construção.")]


PAGE = PanelPage("/configuracoes", "Configurações", "Os dados da sua empresa, as chaves de API e a sua conta.", content)
