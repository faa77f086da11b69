"""Inbox: the sellers' WhatsApp-Web-like screen (list, live thread, copilot, takeover, lead), one
module per panel."""

from __future__ import annotations

import reflex as rx

from ...states.inbox import InboxState
from ..panel import panel_route
from .conversation_list import list_panel
from .lead import lead_panel
from .manager_tools import manager_tools
from .thread import thread_panel


def content() -> list[rx.Component]:
    return [
        manager_tools(),
        rx.card(
            rx.flex(list_panel(), thread_panel(), lead_panel(), width="100%"),
            padding="0",
            width="100%",
            overflow="hidden",
            id="inbox",
        ),
    ]


PAGE = panel_route(
    "/inbox",
    "Inbox",
    "As conversas com os clientes em tempo real, para a equipe acompanhar e assumir quando quiser.",
    content,
    on_load=(InboxState.load,),
    wide=True,
)
