"""Tab Follow-up: the cadence of messages to a lead who went quiet, and its general rules."""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime.panel import agents as svc

from ...components import (
    group_card,
    responsive_row,
    row_card,
    row_list,
    two_columns,
)
from ...states.agents import AgentsState
from .fields import remove, row_select, row_text, row_text_area, row_toggle, switch, text_area, text_input

TABLE = "followup_steps"


def followup_row(row: Any, index: Any) -> rx.Component:
    return row_card(
        rx.hstack(
            rx.badge(f"Etapa {index + 1}", color_scheme="teal", variant="soft"),
            rx.spacer(),
            remove(TABLE, index, "Remover etapa"),
            align="center",
            width="100%",
        ),
        rx.grid(
            row_text(TABLE, row, index, "delay", "Esperar (ex.: 1)", class_name="fu-delay"),
            row_select(TABLE, row, index, "unit", svc.FOLLOWUP_UNITS),
            row_select(TABLE, row, index, "content", svc.FOLLOWUP_CONTENTS),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="3",
            width="100%",
        ),
        row_text_area(
            TABLE,
            row,
            index,
            "text",
            "Mensagem (pode usar {nome}) ou, para a IA, o que ela deve lembrar ao lead",
            "2",
            class_name="fu-text",
        ),
        rx.grid(
            row_text(
                TABLE, row, index, "template_name", "Modelo aprovado (nome ou ContentSid)", class_name="fu-template"
            ),
            row_text(TABLE, row, index, "template_variables", "Variáveis do modelo (ex.: {nome})"),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        row_text(TABLE, row, index, "stages", "Só para leads nas etapas (vazio = todas)"),
        responsive_row(
            row_toggle(TABLE, row, index, "business_hours_only", "Só no horário comercial"),
            row_toggle(TABLE, row, index, "skip_weekends", "Pular fins de semana"),
            row_toggle(TABLE, row, index, "skip_holidays", "Pular feriados"),
            narrow=None,
            spacing="4",
            wrap="wrap",
        ),
    )


def tab() -> rx.Component:
    return rx.vstack(
        group_card(
            "Régua de follow-up",
            "Quando o lead para de responder, o agente o procura de novo nos tempos abaixo (contados da última "
            "mensagem do lead). Uma resposta do lead, o descadastro, a conversa assumida por uma pessoa ou "
            "encerrada cancelam as próximas etapas.",
            switch("Ativar follow-up", "followup_enabled"),
            rx.callout(
                "WhatsApp oficial (Cloud API, Twilio): depois de 24 horas da última mensagem do lead só vale modelo "
                "aprovado. Sem modelo, a etapa é pulada e o motivo fica registrado.",
                icon="info",
                size="1",
                color_scheme="gray",
            ),
            row_list(
                AgentsState.followup_steps,
                followup_row,
                empty="Nenhuma etapa. Ex.: 1 hora, 1 dia, 3 dias.",
                add_label="Adicionar etapa",
                on_add=AgentsState.add_followup_step,
                add_id="add-followup-step",
            ),
        ),
        group_card(
            "Regras gerais",
            "Valem para todas as etapas.",
            text_area(
                "Parar quando o lead estiver nas etapas",
                "followup_stop_stages",
                "Uma por linha (ex.: qualificado, perdido, ganho).",
                rows="3",
            ),
            two_columns(
                text_input("Limite diário por canal", "followup_daily_cap", "WhatsApp não oficial (Evolution, Z-API)."),
                text_input(
                    "Intervalo mínimo entre follow-ups (segundos)",
                    "followup_min_spacing",
                    "No mesmo canal não oficial, para evitar bloqueios.",
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )
