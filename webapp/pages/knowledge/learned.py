"""Learned answers: the team's replies the agent reuses, to approve, reject, edit or delete."""

from __future__ import annotations

import reflex as rx

from ...components import (
    BadgeLook,
    dialog_buttons,
    form_dialog,
    icon_action,
    item_row,
    labeled,
    lines,
    muted,
    section_card,
    skeleton_rows,
    state_badge,
)
from ...states.knowledge import KnowledgeState as S

LEARNED_STATUS = {
    "pending": BadgeLook("amber", "Aguardando aprovação"),
    "approved": BadgeLook("green", "Aprovada"),
}
REJECTED = BadgeLook("gray", "Rejeitada")


def learned_row(row) -> rx.Component:
    return item_row(
        lines(
            rx.hstack(
                rx.text(row["question"], weight="medium", size="2"),
                state_badge(row["status"], LEARNED_STATUS, REJECTED, variant="soft"),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            muted(row["answer"], size="2", white_space="pre-wrap"),
            muted(
                rx.cond(
                    row["original_question"] != "",
                    "Cliente perguntou: “" + row["original_question"].to(str) + "” · ",
                    "",
                ),
                rx.cond(row["agent"] != "", row["agent"].to(str) + " · ", ""),
                "usada ",
                row["uses"],
                " vez(es) · ",
                row["created"],
            ),
        ),
        actions=[
            rx.cond(
                row["status"] != "approved",
                icon_action("check", "Aprovar", S.approve_learned(row["id"]), color="green"),
                icon_action("ban", "Rejeitar", S.reject_learned(row["id"])),
            ),
            icon_action("pencil", "Editar", S.start_edit(row)),
            icon_action("trash_2", "Excluir", S.ask_delete_learned(row), color="red"),
        ],
        class_name="learned-row",
    )


def learned_card() -> rx.Component:
    return section_card(
        "graduation_cap",
        "Respostas aprendidas",
        "Quando o agente não sabe e alguém da equipe responde, a resposta fica guardada para a próxima vez.",
        rx.segmented_control.root(
            rx.segmented_control.item("Todas", value="all"),
            rx.segmented_control.item(
                "Pendentes",
                rx.cond(S.pending_learned > 0, rx.fragment(" (", S.pending_learned, ")"), ""),
                value="pending",
            ),
            rx.segmented_control.item("Aprovadas", value="approved"),
            rx.segmented_control.item("Rejeitadas", value="rejected"),
            value=S.learned_filter,
            on_change=S.set_learned_filter,
            size="1",
        ),
        rx.cond(
            S.loading,
            skeleton_rows(2, "52px"),
            rx.cond(
                S.shown_learned.length() > 0,
                rx.vstack(rx.foreach(S.shown_learned, learned_row), spacing="0", width="100%", id="learned-list"),
                muted(
                    rx.cond(
                        S.learned.length() > 0,
                        "Nenhuma resposta com este filtro.",
                        "Nenhuma resposta aprendida ainda. Elas aparecem quando a equipe responde uma pergunta "
                        "que o agente passou para um humano.",
                    ),
                    size="2",
                    padding_y="12px",
                    id="learned-empty",
                ),
            ),
        ),
        id="knowledge-learned",
    )


def edit_dialog() -> rx.Component:
    return form_dialog(
        "Editar resposta aprendida",
        (
            "Ajuste a pergunta como os clientes costumam fazer e a resposta que o agente deve dar. "
            "Ao salvar, a resposta fica aprovada."
        ),
        rx.el.form(
            rx.vstack(
                labeled(
                    "Pergunta",
                    rx.text_area(
                        name="question", default_value=S.editing_question, rows="2", width="100%", required=True
                    ),
                ),
                labeled(
                    "Resposta",
                    rx.text_area(name="answer", default_value=S.editing_answer, rows="5", width="100%", required=True),
                ),
                dialog_buttons(
                    rx.button("Salvar e aprovar", type="submit", loading=S.saving_learned, id="learned-save")
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=S.save_learned,
            id="learned-edit-form",
            key=S.editing_id,
        ),
        open=S.editing_open,
        on_open_change=S.set_editing_open,
        max_width="560px",
    )
