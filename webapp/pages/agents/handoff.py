"""Tab Transferência: when the agent calls a person, and learning from the team's answers."""

from __future__ import annotations

import reflex as rx

from ...components import group_card
from .fields import switch, text_area, text_input


def tab() -> rx.Component:
    return rx.vstack(
        group_card(
            "Quando passar para a equipe",
            "O agente chama uma pessoa quando o cliente pede, quando não acha a resposta no conhecimento ou "
            "quando a confiança fica abaixo do mínimo.",
            text_input("Confiança mínima", "handoff_min_confidence", "De 0 a 1. Ex.: 0.55."),
            text_area("Mensagem ao cliente", "handoff_message", "O que o cliente recebe na transferência.", rows="2"),
            text_input(
                "WhatsApp para avisar o vendedor (opcional)",
                "handoff_notify_phone",
                "Recebe um aviso pelo mesmo canal quando um cliente precisa de atendimento.",
                placeholder="+55 11 99999-8888",
            ),
        ),
        group_card(
            "Aprender com a equipe",
            "A resposta do vendedor a uma pergunta nova vira conhecimento para os próximos clientes.",
            switch("Aprender respostas da equipe", "learned_enabled"),
            switch(
                "Exigir aprovação antes de usar",
                "learned_require_approval",
                "Desligado: a resposta passa a valer na hora.",
            ),
            text_input(
                "Semelhança para reusar uma resposta",
                "learned_threshold",
                "De 0.1 a 1 (maior = só perguntas bem parecidas).",
            ),
        ),
        spacing="4",
        width="100%",
    )
