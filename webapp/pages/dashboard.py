"""Painel: KPIs and charts of the AI seller for a period and an agent, and the first steps of a new
workspace."""

from __future__ import annotations

import reflex as rx

from ..components import (
    card_title,
    empty_state,
    icon_tile,
    muted,
    responsive_row,
)
from ..states.dashboard import DashboardState as S
from .panel import panel_route

CHART_CONFIG = {"displayModeBar": False, "responsive": True, "locale": "pt-BR"}


def filters() -> rx.Component:
    return rx.card(
        rx.flex(
            rx.box(
                rx.segmented_control.root(
                    rx.segmented_control.item("7 dias", value="7"),
                    rx.segmented_control.item("30 dias", value="30"),
                    rx.segmented_control.item("90 dias", value="90"),
                    rx.segmented_control.item("Personalizado", value="custom"),
                    value=S.preset,
                    on_change=S.set_preset,
                    id="period-presets",
                    size="2",
                ),
                max_width="100%",
                overflow_x="auto",
                flex_shrink="0",
            ),
            rx.select.root(
                rx.select.trigger(placeholder="Todos os agentes", id="agent-filter", min_width="200px"),
                rx.select.content(
                    rx.select.item("Todos os agentes", value="all"),
                    rx.foreach(S.agents, lambda a: rx.select.item(a["name"], value=a["id"])),
                ),
                value=S.agent_id,
                on_change=S.set_agent,
                size="2",
            ),
            rx.spacer(display=["none", "none", "block"]),
            rx.hstack(
                rx.cond(S.loading, rx.spinner(size="1"), rx.icon("calendar", size=14, color="var(--gray-10)")),
                muted(S.period_label, size="2", id="period-label"),
                align="center",
                spacing="2",
            ),
            direction=rx.breakpoints(initial="column", md="row"),
            align=rx.breakpoints(initial="start", md="center"),
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            S.preset == "custom",
            rx.el.form(
                responsive_row(
                    rx.el.label(
                        muted("De", as_="div", margin_bottom="4px"),
                        rx.input(type="date", name="start", default_value=S.start, id="custom-start", size="2"),
                    ),
                    rx.el.label(
                        muted("Até", as_="div", margin_bottom="4px"),
                        rx.input(type="date", name="end", default_value=S.end, id="custom-end", size="2"),
                    ),
                    rx.button("Aplicar", type="submit", loading=S.loading, id="custom-apply", size="2"),
                    narrow="stretch",
                    wide="end",
                    spacing="3",
                ),
                on_submit=S.apply_custom,
                id="custom-range-form",
                margin_top="16px",
            ),
        ),
        width="100%",
        size="2",
    )


def step_row(step: rx.Var) -> rx.Component:
    done = step["done"] != ""
    return rx.hstack(
        rx.cond(
            done,
            rx.icon("circle_check", size=20, color="var(--teal-10)"),
            rx.icon("circle", size=20, color="var(--gray-8)"),
        ),
        rx.text(
            step["label"],
            size="2",
            weight="medium",
            color=rx.cond(done, "var(--gray-10)", "var(--gray-12)"),
            text_decoration=rx.cond(done, "line-through", "none"),
            flex="1",
        ),
        rx.cond(
            done,
            rx.badge("Feito", color_scheme="teal", variant="soft"),
            rx.link(
                rx.button("Começar", rx.icon("arrow_right", size=14), size="1", variant="soft"),
                href=step["href"],
                underline="none",
            ),
        ),
        align="center",
        spacing="3",
        width="100%",
        padding_y="8px",
        data_step=step["key"],
    )


def getting_started() -> rx.Component:
    return rx.cond(
        S.is_new,
        rx.card(
            rx.vstack(
                rx.hstack(
                    icon_tile("rocket", large=True),
                    rx.box(
                        rx.heading("Primeiros passos", size="4", as_="h2"),
                        muted(
                            "Deixe o seu vendedor de IA pronto para atender: ",
                            S.steps_done,
                            " de 4 concluídos.",
                            size="2",
                        ),
                    ),
                    align="center",
                    spacing="3",
                ),
                rx.progress(value=S.steps_done * 25, size="1", color_scheme="teal", width="100%"),
                rx.vstack(rx.foreach(S.steps, step_row), spacing="0", width="100%"),
                spacing="3",
                width="100%",
            ),
            id="getting-started",
            width="100%",
            size="3",
        ),
    )


def kpi_card(card: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                muted(card["label"], size="2", weight="medium"),
                rx.spacer(),
                rx.icon(card["icon"], size=16, color="var(--teal-10)"),
                width="100%",
                align="center",
            ),
            rx.skeleton(
                rx.text(card["value"], size="7", weight="bold", letter_spacing="-0.02em", class_name="kpi-value"),
                loading=S.loading,
            ),
            muted(card["hint"]),
            spacing="2",
            width="100%",
        ),
        id=card["id"],
        size="2",
        width="100%",
    )


def kpis() -> rx.Component:
    return rx.grid(
        rx.foreach(S.cards, kpi_card),
        columns=rx.breakpoints(initial="1", xs="2", lg="3"),
        spacing="4",
        width="100%",
        id="kpis",
    )


def chart_card(title: str, subtitle: str, figure, chart_id: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            card_title(title, subtitle, weight=None, text_size="1"),
            rx.skeleton(
                rx.box(
                    rx.plotly(data=figure, config=CHART_CONFIG, use_resize_handler=True, width="100%", height="300px"),
                    width="100%",
                ),
                loading=S.loading,
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        id=chart_id,
        width="100%",
        size="2",
        min_width="0",
    )


def tokens_table() -> rx.Component:
    return rx.card(
        rx.vstack(
            card_title(
                "Tokens e custo por modelo",
                "Estimativa pelos preços públicos dos provedores; a fatura do provedor é a referência.",
                weight=None,
                text_size="1",
            ),
            rx.cond(
                S.tokens_rows.length() > 0,
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Modelo"),
                                rx.table.column_header_cell("Entrada", justify="end"),
                                rx.table.column_header_cell("Saída", justify="end"),
                                rx.table.column_header_cell("Custo", justify="end"),
                            )
                        ),
                        rx.table.body(
                            rx.foreach(
                                S.tokens_rows,
                                lambda r: rx.table.row(
                                    rx.table.cell(rx.code(r["model"], variant="ghost")),
                                    rx.table.cell(r["input"], justify="end"),
                                    rx.table.cell(r["output"], justify="end"),
                                    rx.table.cell(r["cost"], justify="end"),
                                ),
                            )
                        ),
                        size="1",
                        width="100%",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                muted("Nenhuma chamada a modelo de linguagem no período.", size="2"),
            ),
            rx.cond(S.unpriced != "", rx.text(S.unpriced, size="1", color_scheme="amber")),
            spacing="3",
            width="100%",
        ),
        id="tokens-card",
        width="100%",
        size="2",
    )


def charts() -> rx.Component:
    return rx.vstack(
        chart_card("Conversas e novos leads", "Por dia", S.activity_fig, "chart-activity"),
        rx.grid(
            chart_card("Mensagens por canal", "Recebidas e enviadas, por dia", S.channels_fig, "chart-channels"),
            chart_card("Quem respondeu", "Rota de cada decisão do agente", S.routes_fig, "chart-routes"),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
        ),
        tokens_table(),
        spacing="4",
        width="100%",
    )


def content() -> list[rx.Component]:
    return [
        getting_started(),
        filters(),
        rx.cond(
            S.loaded & ~S.has_data,
            rx.vstack(
                kpis(),
                empty_state(
                    "chart_no_axes_column",
                    "Nenhuma conversa neste período",
                    "Quando os seus clientes conversarem com o agente, os números e gráficos aparecem aqui. "
                    "Experimente um período maior ou outro agente.",
                ),
                spacing="4",
                width="100%",
                id="dashboard-empty",
            ),
            rx.vstack(kpis(), charts(), spacing="4", width="100%"),
        ),
    ]


PAGE = panel_route(
    "/painel",
    "Painel",
    "Um resumo de como o seu vendedor de IA está se saindo.",
    content,
    on_load=(S.load,),
    wide=True,
)
