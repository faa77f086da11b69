"""Status: the health of the database, this workspace's job queue, its channels and its AI model,
with a refresh button (the "monitor backend status" panel owners asked for)."""

from __future__ import annotations

import reflex as rx

from ..components import (
    BadgeLook,
    action_button,
    callout,
    muted,
    responsive_row,
    section_card,
    state_badge,
)
from ..states.status import AgentModel, ChannelHealth, JobFailure, StatusState
from .panel import panel_route

LEVELS = {
    "ok": BadgeLook("green", "OK", "circle_check"),
    "warn": BadgeLook("amber", "Atenção", "triangle_alert"),
    "error": BadgeLook("red", "Problema", "circle_x"),
}
UNKNOWN = BadgeLook("gray", "—", "circle_help")


def level_badge(level: rx.Var[str], id_: str | None = None) -> rx.Component:
    return rx.box(
        state_badge(level, LEVELS, UNKNOWN, variant="soft", size="2", radius="full"),
        id=id_,
        data_level=level,
    )


def stat(label: str, value: rx.Var, id_: str) -> rx.Component:
    return rx.vstack(
        muted(label),
        rx.text(value, size="5", weight="bold", id=id_),
        spacing="1",
        padding="10px 12px",
        border_radius="10px",
        background="var(--gray-a2)",
        border="1px solid var(--gray-a4)",
        min_width="0",
    )


def section(icon: str, title: str, level: rx.Var[str], id_: str, *children: rx.Component) -> rx.Component:
    return section_card(icon, title, "", *children, right=level_badge(level, f"{id_}-level"), id=id_)


def overall_card() -> rx.Component:
    return rx.card(
        responsive_row(
            rx.hstack(
                rx.match(
                    StatusState.overall,
                    ("ok", rx.icon("circle_check", size=28, color="var(--green-10)")),
                    ("warn", rx.icon("triangle_alert", size=28, color="var(--amber-10)")),
                    rx.icon("circle_x", size=28, color="var(--red-10)"),
                ),
                rx.box(
                    rx.text(StatusState.overall_label, size="5", weight="bold", id="status-overall"),
                    muted("Verificado às ", StatusState.checked_time, size="2", id="status-checked"),
                ),
                spacing="3",
                align="center",
            ),
            rx.spacer(),
            action_button(
                "refresh_cw",
                "Atualizar",
                on_click=StatusState.refresh,
                loading=StatusState.refreshing,
                variant="soft",
                id="status-refresh",
            ),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def database_card() -> rx.Component:
    return section(
        "database",
        "Banco de dados",
        StatusState.db_level,
        "status-database",
        rx.cond(
            StatusState.db_ok,
            rx.grid(
                stat("Tempo de resposta", StatusState.db_latency_ms.to_string() + " ms", "db-latency"),
                stat("Versão", StatusState.db_version, "db-version"),
                columns="2",
                spacing="3",
                width="100%",
            ),
            callout("circle_x", "O banco de dados não respondeu: ", StatusState.db_error, color="red", size=None),
        ),
    )


def failure_row(f: JobFailure) -> rx.Component:
    return rx.hstack(
        rx.icon("circle_x", size=14, color="var(--red-10)", flex_shrink="0", margin_top="3px"),
        rx.box(
            rx.text(f.job, " · ", f.when, size="2", weight="medium"),
            muted(f.error, word_break="break_word"),
            min_width="0",
        ),
        align="start",
        spacing="2",
        width="100%",
        class_name="job-failure",
    )


def jobs_card() -> rx.Component:
    return section(
        "list_checks",
        "Fila de tarefas",
        StatusState.jobs_level,
        "status-jobs",
        rx.grid(
            stat("Na fila", StatusState.jobs_pending, "jobs-pending"),
            stat("Em execução", StatusState.jobs_running, "jobs-running"),
            stat("Agendadas", StatusState.jobs_scheduled, "jobs-scheduled"),
            stat("Com falha", StatusState.jobs_failed, "jobs-failed"),
            columns=rx.breakpoints(initial="2", sm="4"),
            spacing="3",
            width="100%",
        ),
        rx.vstack(
            rx.hstack(
                muted("Mais antiga esperando:", size="2"),
                rx.text(StatusState.jobs_oldest, size="2", weight="medium", id="jobs-oldest"),
                spacing="1",
            ),
            rx.hstack(
                muted("Processador de tarefas:", size="2"),
                rx.cond(
                    StatusState.jobs_workers > 0,
                    rx.text("conectado", size="2", weight="medium", color="var(--green-11)"),
                    rx.text("nenhum conectado", size="2", weight="medium", color="var(--amber-11)"),
                ),
                spacing="1",
                id="jobs-workers",
            ),
            spacing="1",
        ),
        rx.cond(
            StatusState.job_failures.length() > 0,
            rx.vstack(
                rx.text("Falhas recentes", size="2", weight="bold"),
                rx.foreach(StatusState.job_failures, failure_row),
                spacing="2",
                width="100%",
                id="job-failures",
            ),
        ),
    )


def _health_row(name: rx.Component, badge: rx.Component, *below: rx.Component, class_name: str) -> rx.Component:
    """A channel or an agent: its name and status badge, then what the status is made of."""
    return rx.vstack(
        rx.hstack(name, rx.spacer(), badge, align="center", spacing="2", width="100%", wrap="wrap"),
        *below,
        spacing="1",
        width="100%",
        padding_y="8px",
        border_bottom="1px solid var(--gray-a4)",
        class_name=class_name,
    )


def _problem(*text: rx.Var | str, **props) -> rx.Component:
    return rx.text(*text, size="1", color="var(--red-11)", **props)


def _rows_or_link(rows: rx.Var, row, empty: str, link_text: str, href: str) -> rx.Component:
    """The rows, or where to go to make the first one."""
    return rx.cond(
        rows.length() > 0,
        rx.vstack(rx.foreach(rows, row), spacing="0", width="100%"),
        rx.hstack(muted(empty, size="2"), rx.link(link_text, href=href, size="2"), spacing="2"),
    )


def channel_row(c: ChannelHealth) -> rx.Component:
    looks = {color: BadgeLook(color, c.status) for color in ("green", "red", "amber")}
    return _health_row(
        rx.hstack(
            rx.text(c.name, size="2", weight="bold"),
            rx.badge(c.provider_label, variant="outline", color_scheme="gray"),
            align="center",
            spacing="2",
        ),
        state_badge(c.status_color, looks, BadgeLook("gray", c.status), radius="full"),
        muted("Último evento: ", c.last_event_ago),
        rx.cond(c.last_error != "", _problem("Último erro: ", c.last_error, class_name="status-channel-error")),
        class_name="status-channel",
    )


def channels_card() -> rx.Component:
    return section(
        "radio_tower",
        "Canais",
        StatusState.channels_level,
        "status-channels",
        _rows_or_link(StatusState.channels, channel_row, "Nenhum canal ativo.", "Conectar um canal", "/canais"),
    )


def agent_row(a: AgentModel) -> rx.Component:
    looks = {"ok": BadgeLook("green", a.state), "warn": BadgeLook("amber", a.state)}
    return _health_row(
        rx.text(a.name, size="2", weight="bold"),
        state_badge(a.level, looks, BadgeLook("red", a.state), radius="full"),
        muted(a.provider, " · ", a.model, " · chave ", a.key),
        rx.cond(a.problem != "", _problem(a.problem)),
        class_name="status-agent",
    )


def llm_card() -> rx.Component:
    return section(
        "sparkles",
        "Inteligência artificial",
        StatusState.llm_level,
        "status-llm",
        _rows_or_link(StatusState.llm_agents, agent_row, "Nenhum agente criado.", "Criar um agente", "/agentes"),
        rx.hstack(
            muted("Última resposta do modelo:", size="2"),
            rx.text(StatusState.llm_last_reply, size="2", weight="medium", id="llm-last-reply"),
            spacing="1",
        ),
        rx.cond(
            StatusState.llm_last_error != "",
            callout(
                "triangle_alert",
                rx.text.strong("Modelo indisponível ", StatusState.llm_last_error_ago, ": "),
                StatusState.llm_last_error,
                color="amber",
                id="llm-last-error",
            ),
        ),
        muted(
            "A conexão com o provedor não é testada a cada visita (cada chamada tem custo): o status mostra a "
            "configuração e o último erro registrado nas conversas."
        ),
    )


def loading() -> rx.Component:
    return rx.grid(
        *[rx.skeleton(rx.box(height="200px"), loading=True) for _ in range(4)],
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )


def content() -> list[rx.Component]:
    return [
        rx.cond(
            StatusState.loaded,
            rx.vstack(
                overall_card(),
                rx.grid(
                    database_card(),
                    jobs_card(),
                    channels_card(),
                    llm_card(),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            loading(),
        )
    ]


PAGE = panel_route(
    "/status",
    "Status",
    "A saúde do sistema: banco de dados, fila de tarefas, canais e o provedor de IA.",
    content,
    on_load=(StatusState.load,),
)
