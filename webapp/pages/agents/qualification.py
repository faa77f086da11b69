"""Tab Qualificação: where the conversation should go and what the agent finds out about each lead."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ...components import (
    group_card,
    responsive_row,
    row_card,
    row_list,
)
from ...states.agents import AgentsState
from .fields import remove, row_text, row_toggle, text_area

TABLE = "qualification"


def qualification_row(row: Any, index: Any) -> rx.Component:
    return row_card(
        responsive_row(
            row_text(TABLE, row, index, "label", "Nome (ex.: Orçamento)", class_name="q-label"),
            row_text(TABLE, row, index, "key", "chave (ex.: orcamento)", class_name="q-key"),
            rx.hstack(
                row_toggle(TABLE, row, index, "required", "Obrigatório", white_space="nowrap"),
                remove(TABLE, index, "Remover campo"),
                align="center",
                spacing="2",
                flex_shrink="0",
            ),
            narrow="stretch",
            spacing="3",
            width="100%",
        ),
        row_text(TABLE, row, index, "question", "Como perguntar (opcional)", class_name="q-question"),
    )


def tab() -> rx.Component:
    return rx.vstack(
        group_card(
            "Objetivo",
            "Aonde o agente deve levar a conversa.",
            text_area("Objetivo da conversa", "goals", placeholder="Ex.: agendar uma avaliação gratuita", rows="3"),
        ),
        group_card(
            "Campos de qualificação",
            "O que o agente descobre sobre cada lead, uma pergunta por vez. A chave é o nome do dado na ficha do lead.",
            row_list(
                AgentsState.qualification,
                qualification_row,
                empty="Nenhum campo. Ex.: orçamento, necessidade, prazo, quem decide.",
                add_label="Adicionar campo",
                on_add=AgentsState.add_qualification,
                add_id="add-qualification",
            ),
        ),
        spacing="4",
        width="100%",
    )
