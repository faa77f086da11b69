"""Agentes: the workspace's sales agents as cards, and an editor with one tab per concern
(a module each: persona, qualification, rules, model, handoff, voice, hours, followup)."""

from __future__ import annotations

import reflex as rx

from ...states.agents import AgentsState
from ..panel import panel_route
from .editor import editor
from .listing import list_view


def content() -> list[rx.Component]:
    return [rx.cond(AgentsState.editing, editor(), list_view())]


PAGE = panel_route(
    "/agentes",
    "Agentes",
    (
        "Configure o vendedor de IA: como ele se apresenta, o tom de voz, o roteiro de qualificação "
        "e quando ele passa a conversa para alguém da equipe."
    ),
    content,
    on_load=(AgentsState.load,),
)
