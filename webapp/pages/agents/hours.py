"""Tab Horário: the business hours per weekday (two shifts), the time zone and the closed dates."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ...components import (
    group_card,
    muted,
    responsive_row,
)
from ...states.agents import AgentsState
from .fields import select, text_area

TABLE = "hours"
TIMEZONES = {
    "America/Sao_Paulo": "Brasília (São Paulo)",
    "America/Manaus": "Amazonas (Manaus)",
    "America/Cuiaba": "Mato Grosso (Cuiabá)",
    "America/Rio_Branco": "Acre (Rio Branco)",
    "America/Noronha": "Fernando de Noronha",
    "America/Fortaleza": "Nordeste (Fortaleza)",
    "America/Belem": "Pará (Belém)",
}


def _time(row: Any, index: Any, key: str, label: str) -> rx.Component:
    return rx.input(
        value=row[key].to(str),
        on_change=lambda v: AgentsState.set_row(TABLE, index, key, v),
        type="time",
        aria_label=label,
        width="112px",
        disabled=~row["open"].to(bool),
    )


def _shift(row: Any, index: Any, start: str, end: str, which: str, *lead: rx.Component) -> rx.Component:
    return rx.hstack(
        *lead,
        _time(row, index, start, "Abre" + which),
        rx.text("às", size="2"),
        _time(row, index, end, "Fecha" + which),
        align="center",
        spacing="2",
    )


def hours_row(row: Any, index: Any) -> rx.Component:
    return responsive_row(
        rx.hstack(
            rx.switch(
                checked=row["open"].to(bool),
                on_change=lambda v: AgentsState.set_row(TABLE, index, "open", v),
                color_scheme="teal",
                id="open-" + row["day"].to(str),
            ),
            rx.text(row["label"].to(str), size="2", weight="medium", width="72px"),
            rx.cond(row["open"].to(bool), rx.fragment(), rx.badge("Fechado", color_scheme="gray", variant="soft")),
            align="center",
            spacing="3",
            min_width="200px",
        ),
        rx.cond(
            row["open"].to(bool),
            rx.flex(
                _shift(row, index, "start", "end", ""),
                _shift(row, index, "start2", "end2", " (2º turno)", muted("e", size="2")),
                direction=rx.breakpoints(initial="column", md="row"),
                spacing="3",
            ),
        ),
        spacing="3",
        padding_y="10px",
        border_bottom="1px solid var(--gray-a3)",
        width="100%",
        class_name="hours-row",
    )


def tab() -> rx.Component:
    return rx.vstack(
        group_card(
            "Horário de atendimento",
            'O agente usa para responder "qual o horário?" e dizer quando a equipe volta. Sem nenhum dia aberto, '
            "ele considera que a empresa atende sempre. O 2º turno é opcional (ex.: depois do almoço).",
            select("Fuso horário", "timezone", TIMEZONES),
            rx.vstack(rx.foreach(AgentsState.hours, hours_row), spacing="0", width="100%"),
            text_area(
                "Feriados e dias fechados",
                "closed_dates",
                "Um por linha: AAAA-MM-DD (ex.: 2026-12-25) ou MM-DD para todo ano (ex.: 01-01).",
                rows="3",
            ),
        ),
        spacing="4",
        width="100%",
    )
