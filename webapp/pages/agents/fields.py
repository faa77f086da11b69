"""The editor's controls: each bound to one key of AgentsState.form, or to one cell of a row of
its tables (qualification, intents, hours, followup_steps)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import reflex as rx

from ...components import hint, labeled, options_select, remove_row_button, row_input, row_switch
from ...states.agents import AgentsState

F = AgentsState.form


def text_input(label: str, key: str, hint_text: str = "", **props) -> rx.Component:
    return labeled(
        label,
        rx.input(
            value=F[key].to(str),
            on_change=lambda v: AgentsState.set_field(key, v),
            id=f"f-{key}",
            width="100%",
            **props,
        ),
        hint_text,
    )


def text_area(label: str, key: str, hint_text: str = "", rows: str = "4", **props) -> rx.Component:
    return labeled(
        label,
        rx.text_area(
            value=F[key].to(str),
            on_change=lambda v: AgentsState.set_field(key, v),
            id=f"f-{key}",
            rows=rows,
            width="100%",
            resize="vertical",
            **props,
        ),
        hint_text,
    )


def switch(label: str, key: str, hint_text: str = "") -> rx.Component:
    return rx.hstack(
        rx.switch(
            checked=F[key].to(bool),
            on_change=lambda v: AgentsState.set_field(key, v),
            id=f"f-{key}",
            color_scheme="teal",
        ),
        rx.box(rx.text(label, size="2", weight="medium"), *hint(hint_text)),
        align="start",
        spacing="3",
    )


def select(label: str, key: str, options: Mapping[str, str], hint_text: str = "") -> rx.Component:
    control = options_select(F[key].to(str), lambda v: AgentsState.set_field(key, v), options, f"f-{key}")
    return labeled(label, control, hint_text)


# --- a row of one of the form's tables ---------------------------------------------------------


def _set(table: str, index: Any, key: str):
    return lambda v: AgentsState.set_row(table, index, key, v)


def row_text(table: str, row: Any, index: Any, key: str, placeholder: str, **props) -> rx.Component:
    return row_input(row[key].to(str), _set(table, index, key), placeholder, **props)


def row_text_area(table: str, row: Any, index: Any, key: str, placeholder: str, rows: str, **props) -> rx.Component:
    return rx.text_area(
        value=row[key].to(str),
        on_change=_set(table, index, key),
        placeholder=placeholder,
        rows=rows,
        width="100%",
        **props,
    )


def row_select(table: str, row: Any, index: Any, key: str, options: Mapping[str, str]) -> rx.Component:
    return options_select(row[key].to(str), _set(table, index, key), options)


def row_toggle(table: str, row: Any, index: Any, key: str, label: str, **props) -> rx.Component:
    return row_switch(row[key].to(bool), _set(table, index, key), label, **props)


def remove(table: str, index: Any, label: str) -> rx.Component:
    return remove_row_button(AgentsState.remove_row(table, index), label)
