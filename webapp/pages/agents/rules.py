"""Tab Comportamento: limits (forbidden topics, reply length) and fixed rules (trigger -> answer)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime.panel import agents as svc

from ...components import group_card, row_card, row_list
from ...states.agents import AgentsState
from .fields import remove, row_select, row_text, row_text_area, text_area, text_input

TABLE = "intents"


def intent_row(row: Any, index: Any) -> rx.Component:
    return row_card(
        rx.hstack(
            row_text(TABLE, row, index, "name", "Nome da regra (ex.: Promoção)", class_name="i-name"),
            remove(TABLE, index, "Remover regra"),
            align="center",
            width="100%",
        ),
        rx.grid(
            row_select(TABLE, row, index, "match", svc.MATCHES),
            row_select(TABLE, row, index, "action", svc.ACTIONS),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        row_text_area(
            TABLE,
            row,
            index,
            "patterns",
            "Gatilhos: uma palavra-chave ou expressão por linha",
            "2",
            class_name="i-patterns",
        ),
        row_text_area(
            TABLE,
            row,
            index,
            "response",
            "Resposta. Pode usar {nome}, {horario}, {status}, {saudacao} e {agente}.",
            "3",
            class_name="i-response",
        ),
    )


def tab() -> rx.Component:
    return rx.vstack(
        group_card(
            "Limites",
            "O que o agente nunca discute e o tamanho das respostas.",
            text_area(
                "Assuntos proibidos",
                "forbidden_topics",
                "Um por linha. O agente recusa com educação.",
                rows="3",
                placeholder="Ex.: política\nconcorrentes",
            ),
            text_input("Tamanho máximo da resposta (caracteres)", "max_reply_chars", "De 100 a 4096.", type="number"),
        ),
        group_card(
            "Regras fixas",
            "Respostas prontas, sem passar pelo modelo, quando a mensagem do cliente bate com um gatilho. "
            "A primeira que bater vale.",
            row_list(
                AgentsState.intents,
                intent_row,
                empty="Nenhuma regra própria. As regras padrão (sair da lista, falar com uma pessoa, horário, "
                "tabela de preços, saudação) continuam valendo.",
                add_label="Adicionar regra",
                on_add=AgentsState.add_intent,
                add_id="add-intent",
            ),
        ),
        spacing="4",
        width="100%",
    )
