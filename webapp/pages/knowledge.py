"""Conhecimento: documents, Drive, search tester, learned answers (stub until built)."""

from __future__ import annotations

import reflex as rx

from ..components import empty_state
from .panel import PanelPage


def content() -> list[rx.Component]:
    return [
        empty_state("book_open", "Nenhum documento enviado ainda", "Em construção."),
        rx.box(rx.upload(rx.text("Arraste arquivos"), id="knowledge-upload"), display="none"),
    ]


PAGE = PanelPage(
    "/conhecimento",
    "Conhecimento",
    "Os documentos que o agente usa para responder: catálogos, tabelas de preço, políticas e perguntas frequentes.",
    content,
)
