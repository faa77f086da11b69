"""Conhecimento: upload documents, add pages, connect Google Drive folders, watch them being
processed, preview their chunks, test what the agent would retrieve, review learned answers.
One module per card."""

from __future__ import annotations

import reflex as rx

from ...components import confirm_dialog
from ...states.knowledge import KnowledgeState as S
from ..panel import panel_route
from .documents import documents_card, preview_dialog
from .drive_folders import drive_card
from .learned import edit_dialog, learned_card
from .search import search_card
from .upload import upload_card


def confirm_action() -> rx.Component:
    """One dialog for every destructive action of the page (the state says what it is about)."""
    return confirm_dialog(
        S.confirm_title,
        S.confirm_text,
        rx.button("Confirmar", color_scheme="red", on_click=S.confirm, id="confirm-action"),
        open=S.confirm_open,
        on_open_change=S.set_confirm_open,
    )


def content() -> list[rx.Component]:
    return [
        rx.grid(
            upload_card(),
            drive_card(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        documents_card(),
        search_card(),
        learned_card(),
        preview_dialog(),
        edit_dialog(),
        confirm_action(),
    ]


PAGE = panel_route(
    "/conhecimento",
    "Conhecimento",
    "Os documentos que o agente usa para responder: catálogos, tabelas de preço, políticas e perguntas frequentes.",
    content,
    on_load=(S.load,),
    wide=True,
)
