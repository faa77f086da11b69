"""The managers' extras above the inbox: the team's activity and the quick replies."""

from __future__ import annotations

import reflex as rx

from ...components import action_button, muted
from ...state import AuthState
from ...states.inbox import InboxState


def activity_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Atividade da equipe (30 dias)"),
            rx.cond(
                InboxState.activity_sellers.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h)
                                for h in ("Vendedor", "Mensagens", "Conversas", "Tempo de resposta (mediana)", "Última")
                            ]
                        )
                    ),
                    rx.table.body(
                        rx.foreach(
                            InboxState.activity_sellers,
                            lambda r: rx.table.row(
                                rx.table.cell(r["name"]),
                                rx.table.cell(r["messages"]),
                                rx.table.cell(r["conversations"]),
                                rx.table.cell(r["median"]),
                                rx.table.cell(r["last"]),
                                class_name="activity-row",
                            ),
                        )
                    ),
                    width="100%",
                ),
                muted("Nenhum vendedor respondeu leads nos últimos 30 dias.", size="2"),
            ),
            rx.heading("Últimas respostas", size="3", margin_top="16px"),
            rx.vstack(
                rx.foreach(
                    InboxState.activity_recent,
                    lambda r: rx.hstack(
                        muted(r["at"], white_space="nowrap"),
                        rx.text(r["seller"], size="1", weight="bold", white_space="nowrap"),
                        rx.text("→ ", r["lead"], ": ", r["text"], size="1", class_name="truncate"),
                        spacing="2",
                        width="100%",
                    ),
                ),
                spacing="1",
                width="100%",
            ),
            rx.dialog.close(rx.button("Fechar", variant="soft", margin_top="16px")),
            max_width="760px",
            id="activity-dialog",
        ),
        open=InboxState.activity_open,
        on_open_change=InboxState.set_activity_open,
    )


def quick_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Respostas rápidas"),
            rx.dialog.description("Os vendedores digitam o atalho (ex.: /preco) no campo de mensagem.", size="2"),
            rx.vstack(
                rx.foreach(
                    InboxState.quick,
                    lambda q: rx.hstack(
                        rx.badge(q.shortcut),
                        rx.text(q.text, size="2", flex="1", class_name="truncate"),
                        rx.icon_button(
                            rx.icon("trash_2", size=14),
                            variant="ghost",
                            color_scheme="red",
                            on_click=InboxState.delete_quick(q.id),
                        ),
                        width="100%",
                        align="center",
                    ),
                ),
                width="100%",
                margin_y="12px",
            ),
            rx.el.form(
                rx.vstack(
                    rx.input(name="shortcut", placeholder="/atalho", id="quick-shortcut"),
                    rx.text_area(name="text", placeholder="Texto da resposta", rows="3", id="quick-text"),
                    rx.hstack(
                        rx.button("Salvar", type="submit", id="quick-save"),
                        rx.dialog.close(rx.button("Fechar", variant="soft", type="button")),
                    ),
                    width="100%",
                ),
                on_submit=InboxState.save_quick,
                reset_on_submit=True,
            ),
            max_width="560px",
        ),
        open=InboxState.quick_open,
        on_open_change=InboxState.set_quick_open,
    )


def manager_tools() -> rx.Component:
    return rx.cond(
        AuthState.role != "seller",
        rx.hstack(
            action_button(
                "chart_bar",
                "Atividade da equipe",
                variant="soft",
                size="2",
                on_click=InboxState.open_activity,
                id="open-activity",
                icon_size=14,
            ),
            action_button(
                "zap",
                "Respostas rápidas",
                variant="soft",
                size="2",
                on_click=InboxState.set_quick_open(True),
                id="open-quick",
                icon_size=14,
            ),
            activity_dialog(),
            quick_dialog(),
            spacing="2",
        ),
    )
