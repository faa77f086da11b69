"""Leads: everyone the company talks to on WhatsApp, by stage, with a CSV export."""

from __future__ import annotations

import reflex as rx

from ..components import (
    action_button,
    empty_state,
    filter_chip,
    icon_input,
    muted,
)
from ..states.leads import STAGE_LABELS, LeadRow, LeadsState
from .panel import panel_route


def stage_chip(key: str, label: str) -> rx.Component:
    return filter_chip(
        label,
        rx.badge(LeadsState.stage_counts.get(key, 0), size="1", radius="full", variant="surface"),
        LeadsState.stage == key,
        LeadsState.set_stage(key),
        data_stage=key,
    )


def lead_row(r: LeadRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(r.name, weight="medium", size="2"),
                muted(r.phone),
                spacing="0",
            )
        ),
        rx.table.cell(rx.badge(r.stage_label, variant="soft")),
        rx.table.cell(r.score),
        rx.table.cell(r.type_label),
        rx.table.cell(muted(r.tags)),
        rx.table.cell(r.last),
        rx.table.cell(
            rx.cond(
                r.conversation_id != "",
                rx.link("Abrir conversa", href="/inbox?c=" + r.conversation_id, size="2"),
            ),
            rx.cond(r.opted_out, rx.badge("Não quer contato", color_scheme="red", size="1")),
        ),
        class_name="lead-row",
        data_phone=r.phone,
    )


def content() -> list[rx.Component]:
    return [
        rx.flex(
            rx.el.form(
                icon_input(
                    "search",
                    name="q",
                    placeholder="Buscar por nome, telefone ou e-mail",
                    width="100%",
                    id="leads-search",
                    icon_size=14,
                    size=None,
                ),
                on_submit=LeadsState.run_search,
                flex="1",
                min_width="220px",
            ),
            action_button(
                "download", "Exportar CSV", variant="soft", on_click=LeadsState.export, id="leads-export", icon_size=14
            ),
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
        rx.flex(*[stage_chip(k, v) for k, v in STAGE_LABELS.items()], spacing="2", wrap="wrap"),
        rx.cond(
            LeadsState.loading,
            rx.skeleton(height="240px", width="100%"),
            rx.cond(
                LeadsState.rows.length() > 0,
                rx.card(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[
                                    rx.table.column_header_cell(h)
                                    for h in ("Lead", "Etapa", "Pontuação", "Tipo", "Etiquetas", "Última mensagem", "")
                                ]
                            )
                        ),
                        rx.table.body(rx.foreach(LeadsState.rows, lead_row)),
                        width="100%",
                        id="leads-table",
                    ),
                    width="100%",
                    overflow_x="auto",
                ),
                empty_state(
                    "contact",
                    "Nenhum lead aqui",
                    "Os contatos aparecem assim que alguém escreve para um dos seus números de WhatsApp.",
                ),
            ),
        ),
    ]


PAGE = panel_route(
    "/leads",
    "Leads",
    "Todos os contatos que falaram com a empresa, com etapa, pontuação e etiquetas.",
    content,
    on_load=(LeadsState.load,),
    wide=True,
)
