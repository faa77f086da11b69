"""Tab Persona: who the agent is, its mode and language, what it knows of the company."""

from __future__ import annotations

import reflex as rx

from runtime.panel import agents as svc

from ...components import group_card, labeled
from ...states.agents import AgentsState
from .fields import F, select, text_area, text_input

MODE_HINTS = {
    "pilot": "Responde os clientes sozinho.",
    "copilot": "Escreve sugestões para a equipe aprovar no Inbox.",
    "off": "Não responde; as mensagens só ficam no Inbox.",
}


def tab() -> rx.Component:
    return rx.vstack(
        group_card(
            "Identidade",
            "Como o agente se apresenta e como ele trabalha.",
            text_input("Nome do agente", "name", placeholder="Ex.: Sofia", max_length=120),
            labeled(
                "Modo",
                rx.segmented_control.root(
                    *[rx.segmented_control.item(label, value=v) for v, label in svc.MODES.items()],
                    value=F["mode"].to(str),
                    on_change=lambda v: AgentsState.set_field("mode", v),
                    id="f-mode",
                    width="100%",
                ),
                rx.match(F["mode"].to(str), *MODE_HINTS.items(), ""),
                group=True,
            ),
            select("Idioma", "language", svc.LANGUAGES, "Também usado para transcrever os áudios dos clientes."),
        ),
        group_card(
            "Persona e empresa",
            "O que o agente sabe de si e do negócio (vai no início de cada conversa com o modelo).",
            text_area(
                "Persona",
                "persona",
                "Quem é o agente, como fala, o que pode prometer.",
                placeholder="Ex.: Você é a Sofia, consultora da Clínica Sorriso. Atende com simpatia...",
            ),
            text_area(
                "Sobre a empresa",
                "company_description",
                "Produtos, diferenciais, região atendida. Preços e políticas ficam na base de Conhecimento.",
                rows="6",
            ),
            text_input("Tom de voz", "tone", placeholder="Ex.: cordial, próximo e objetivo"),
        ),
        spacing="4",
        width="100%",
    )
