"""The list of agents: one card each, with its mode, what it is set up with, edit and delete."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ...components import (
    action_button,
    color_match,
    confirm_dialog,
    empty_state,
    icon_tile,
    muted,
)
from ...states.agents import AgentsState

MODE_COLORS = {"pilot": "teal", "copilot": "amber", "off": "gray"}


def _stat(icon: str, text: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=14), rx.text(text, size="1"), spacing="1", align="center", color="var(--gray-11)"
    )


def delete_dialog(agent_id: Any, name: Any, trigger: rx.Component) -> rx.Component:
    return confirm_dialog(
        "Excluir agente?",
        rx.text(
            "O agente ",
            rx.text.strong(name),
            " será excluído. Os canais ligados a ele ficam sem agente e param de responder "
            "até você escolher outro. As conversas continuam no Inbox.",
        ),
        rx.button("Excluir", color_scheme="red", on_click=AgentsState.delete(agent_id), id="confirm-delete"),
        trigger=trigger,
    )


def agent_card(agent: Any) -> rx.Component:
    mode = agent["mode"].to(str)
    return rx.card(
        rx.vstack(
            rx.hstack(
                icon_tile("bot", large=True),
                rx.box(
                    rx.text(agent["name"].to(str), size="4", weight="bold", class_name="agent-name"),
                    muted(agent["model"].to(str)),
                    min_width="0",
                    flex="1",
                ),
                rx.badge(
                    agent["mode_label"].to(str), color_scheme=color_match(mode, MODE_COLORS), variant="soft", size="2"
                ),
                align="center",
                spacing="3",
                width="100%",
            ),
            muted(rx.cond(agent["summary"].to(str) != "", agent["summary"].to(str), "Sem persona definida."), size="2"),
            rx.flex(
                _stat("list_checks", agent["rules"].to(str) + " regras"),
                _stat("clipboard_list", agent["qualification"].to(str) + " campos"),
                _stat("radio_tower", agent["channels"].to(str) + " canais"),
                rx.cond(agent["voice"].to(bool), _stat("mic", "responde com áudio")),
                spacing="4",
                wrap="wrap",
            ),
            rx.separator(size="4"),
            rx.hstack(
                muted("Atualizado em " + agent["updated_at"].to(str)),
                rx.spacer(),
                delete_dialog(
                    agent["id"],
                    agent["name"],
                    rx.icon_button(
                        rx.icon("trash_2", size=16),
                        variant="ghost",
                        color_scheme="red",
                        aria_label="Excluir agente",
                    ),
                ),
                action_button(
                    "pencil",
                    "Editar",
                    variant="soft",
                    on_click=AgentsState.edit(agent["id"].to(str)),
                    loading=AgentsState.opening == agent["id"].to(str),
                    icon_size=14,
                ),
                align="center",
                spacing="3",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        size="2",
        class_name="agent-card",
    )


def new_button(id_: str) -> rx.Component:
    return action_button("plus", "Criar agente", on_click=AgentsState.new_agent, id=id_, size="3")


def list_view() -> rx.Component:
    return rx.cond(
        AgentsState.loaded,
        rx.cond(
            AgentsState.agents.length() > 0,
            rx.vstack(
                rx.hstack(
                    muted(AgentsState.agents.length().to(str) + " agente(s)", size="2"),
                    rx.spacer(),
                    new_button("new-agent"),
                    align="center",
                    width="100%",
                ),
                rx.grid(
                    rx.foreach(AgentsState.agents, agent_card),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                spacing="4",
                width="100%",
                id="agents-list",
            ),
            empty_state(
                "bot",
                "Nenhum agente ainda",
                "Crie o seu vendedor de IA: diga quem ele é, o que sua empresa vende e como ele deve "
                "qualificar os clientes. Depois ligue-o a um canal de WhatsApp.",
                new_button("new-agent-empty"),
            ),
        ),
        rx.grid(
            rx.skeleton(height="180px"),
            rx.skeleton(height="180px"),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
    )
