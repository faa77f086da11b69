"""Tab Modelo: the language model that writes the replies (provider, key, limits) and the tools."""

from __future__ import annotations

import reflex as rx

from runtime.panel import agents as svc

from ...components import group_card, labeled, two_columns
from ...states.agents import LLM_KEY_ID, AgentsState
from .fields import F, select, switch, text_input


def _api_key() -> rx.Component:
    return labeled(
        "Chave de API",
        rx.input(  # uncontrolled: what is typed goes to a backend-only var, never comes back
            on_change=AgentsState.set_llm_api_key,
            type="password",
            id=LLM_KEY_ID,
            placeholder=rx.cond(
                AgentsState.llm_key_typed,
                "•••••••• (nova chave digitada: salve para guardar)",
                rx.cond(F["llm_api_key_set"].to(bool), "•••••••• (definida)", "Cole a chave aqui"),
            ),
            width="100%",
            auto_complete="off",
        ),
        "Guardada criptografada; nunca é mostrada de volta. Mudou o provedor ou a URL do servidor? "
        "Digite a chave de novo: a chave salva só vai para o servidor onde foi cadastrada.",
    )


def tab() -> rx.Component:
    return rx.vstack(
        group_card(
            "Modelo de linguagem",
            "Quem escreve as respostas. Sem modelo, o agente responde só com regras, respostas aprendidas e "
            "trechos do conhecimento.",
            two_columns(
                select("Provedor", "llm_provider", svc.PROVIDERS),
                text_input("Modelo", "llm_model", "Vazio = o padrão do provedor.", placeholder="Ex.: gemini-2.5-flash"),
            ),
            text_input(
                "URL do servidor (opcional)",
                "llm_base_url",
                "Para Ollama ou um servidor compatível com a OpenAI.",
                placeholder="https://",
            ),
            _api_key(),
            rx.cond(
                F["llm_api_key_set"].to(bool),
                switch("Remover a chave salva", "llm_api_key_clear"),
            ),
            rx.grid(
                text_input("Temperatura", "llm_temperature", "0 a 2 (menor = mais previsível)."),
                text_input("Tempo limite (s)", "llm_timeout_seconds", "Por tentativa."),
                text_input("Novas tentativas", "llm_max_retries", "0 a 6."),
                columns=rx.breakpoints(initial="1", sm="3"),
                spacing="4",
                width="100%",
            ),
        ),
        group_card(
            "Ferramentas",
            "O que o agente pode fazer durante a conversa.",
            rx.grid(
                *[switch(label, f"tool_{key}") for key, label in svc.TOOLS.items()],
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="4",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )
