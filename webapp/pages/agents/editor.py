"""The agent editor: its header (back, name, mode, delete, save), one tab per concern, save bar."""

from __future__ import annotations

import reflex as rx

from runtime.panel import agents as svc

from ...components import (
    action_button,
    color_match,
    message_callout,
    muted,
    responsive_row,
)
from ...states.agents import AgentsState
from . import followup, handoff, hours, model, persona, qualification, rules, voice
from .fields import F
from .listing import MODE_COLORS, delete_dialog

TABS = (  # value (the state's tab names), label, icon, content
    ("persona", "Persona", "user_round", persona.tab),
    ("qualificacao", "Qualificação", "clipboard_list", qualification.tab),
    ("comportamento", "Comportamento", "list_checks", rules.tab),
    ("modelo", "Modelo", "cpu", model.tab),
    ("transferencia", "Transferência", "users", handoff.tab),
    ("voz", "Voz", "mic", voice.tab),
    ("horario", "Horário", "clock", hours.tab),
    ("followup", "Follow-up", "repeat", followup.tab),
)


def _header() -> rx.Component:
    return responsive_row(
        rx.hstack(
            rx.icon_button(
                rx.icon("arrow_left", size=18),
                on_click=AgentsState.back,
                variant="ghost",
                color_scheme="gray",
                aria_label="Voltar para a lista",
                id="back-to-list",
            ),
            rx.heading(AgentsState.editor_title, size="5", as_="h2", id="editor-title"),
            rx.badge(
                rx.match(F["mode"].to(str), *svc.MODES.items(), ""),
                color_scheme=color_match(F["mode"].to(str), MODE_COLORS),
                variant="soft",
            ),
            align="center",
            spacing="3",
        ),
        rx.spacer(),
        rx.hstack(
            rx.cond(
                AgentsState.is_new,
                rx.fragment(),
                delete_dialog(
                    F["id"].to(str),
                    F["name"].to(str),
                    action_button("trash_2", "Excluir", variant="soft", color_scheme="red", icon_size=14),
                ),
            ),
            action_button(
                "save", "Salvar", on_click=AgentsState.save, loading=AgentsState.saving, id="save-agent", size="3"
            ),
            spacing="3",
        ),
        spacing="3",
        width="100%",
    )


def _tabs() -> rx.Component:
    return rx.tabs.root(
        rx.scroll_area(
            rx.tabs.list(
                *[
                    rx.tabs.trigger(
                        rx.hstack(rx.icon(icon, size=14), label, spacing="2", align="center"),
                        value=value,
                        id=f"tab-{value}",
                    )
                    for value, label, icon, _ in TABS
                ],
                size="2",
            ),
            type="auto",
            scrollbars="horizontal",
            width="100%",
        ),
        *[rx.tabs.content(rx.box(build(), padding_top="16px"), value=value) for value, _, _, build in TABS],
        value=AgentsState.tab,
        on_change=AgentsState.set_tab,
        width="100%",
    )


def editor() -> rx.Component:
    return rx.vstack(
        _header(),
        message_callout(AgentsState.error, "red", "circle_alert", "alert", "agent-error"),
        _tabs(),
        rx.hstack(
            muted("As mudanças valem a partir da próxima mensagem dos clientes."),
            rx.spacer(),
            rx.button("Salvar", on_click=AgentsState.save, loading=AgentsState.saving, id="save-agent-bottom"),
            align="center",
            width="100%",
        ),
        spacing="4",
        width="100%",
        id="agent-editor",
    )
