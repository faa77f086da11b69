"""Playground: talk to an agent as a lead would (text, voice notes, photos, documents) and see, beside
each reply, why the agent answered that way."""

from __future__ import annotations

import reflex as rx

from ..components import (
    action_button,
    callout,
    confirm_dialog,
    empty_state,
    muted,
    responsive_row,
)
from ..states.playground import PlaygroundState as S
from .panel import panel_route

ACCEPT = {
    "audio/*": [".ogg", ".opus", ".mp3", ".m4a", ".wav", ".webm", ".aac"],
    "image/*": [".png", ".jpg", ".jpeg", ".webp"],
    "application/pdf": [".pdf"],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [".docx"],
    "text/plain": [".txt"],
}
CHAT_BG = rx.color_mode_cond("#efeae2", "var(--gray-3)")
LEAD_BG = rx.color_mode_cond("#d9fdd3", "var(--grass-5)")
AGENT_BG = rx.color_mode_cond("white", "var(--gray-5)")
KIND_ICONS = {"audio": "mic", "image": "image", "video": "video", "document": "file_text"}


# --- toolbar ------------------------------------------------------------------------------------


def _toolbar() -> rx.Component:
    return rx.card(
        responsive_row(
            rx.vstack(
                muted("Agente", weight="medium"),
                rx.select.root(
                    rx.select.trigger(placeholder="Escolha um agente", width="100%", id="playground-agent"),
                    rx.select.content(
                        rx.foreach(S.agents, lambda a: rx.select.item(a["name"], value=a["id"])),
                    ),
                    value=S.agent_id,
                    on_change=S.choose_agent,
                    size="2",
                ),
                spacing="1",
                min_width="200px",
                flex="1",
            ),
            rx.vstack(
                muted("Modo simulado", weight="medium"),
                rx.segmented_control.root(
                    rx.segmented_control.item("Piloto", value="pilot"),
                    rx.segmented_control.item("Copiloto", value="copilot"),
                    value=S.mode,
                    on_change=S.choose_mode,
                    size="2",
                    id="playground-mode",
                ),
                spacing="1",
            ),
            rx.vstack(
                muted("Modelo", weight="medium"),
                rx.badge(S.agent_model, variant="soft", color_scheme="gray", size="2", id="playground-model"),
                spacing="1",
            ),
            rx.spacer(display=["none", "none", "block"]),
            confirm_dialog(
                "Reiniciar a conversa?",
                "O agente esquece esta conversa e o que soube do cliente simulado, como se fosse um novo lead.",
                rx.button("Reiniciar", color_scheme="red", on_click=S.restart, id="playground-reset-confirm"),
                trigger=action_button(
                    "rotate_ccw", "Reiniciar conversa", variant="soft", color_scheme="gray", id="playground-reset"
                ),
                description_size=None,
                max_width="420px",
            ),
            narrow="stretch",
            wide="end",
            spacing="4",
            wrap="wrap",
            width="100%",
        ),
        muted(S.mode_label, margin_top="10px", as_="div"),
        width="100%",
    )


# --- the chat -----------------------------------------------------------------------------------


def _attachment_chip(m) -> rx.Component:
    return rx.cond(
        m["attachment"] != "",
        rx.vstack(
            rx.hstack(
                rx.match(
                    m["attachment_kind"],
                    *[(k, rx.icon(icon, size=14)) for k, icon in KIND_ICONS.items()],
                    rx.icon("paperclip", size=14),
                ),
                rx.text(m["attachment"], size="1", weight="medium", trim="both"),
                align="center",
                spacing="1",
                padding="4px 8px",
                border_radius="6px",
                background="var(--black-a2)",
            ),
            rx.cond(
                m["attachment_text"] != "",
                muted(
                    m["attachment_text"],
                    font_style="italic",
                    class_name="playground-understood",
                    style={"display": "-webkit-box", "-webkit-line-clamp": "3", "-webkit-box-orient": "vertical"},
                    overflow="hidden",
                ),
            ),
            spacing="1",
            align="start",
        ),
    )


def _trace_badges(m) -> rx.Component:
    return rx.flex(
        rx.cond(m["route"] != "", rx.badge(m["route"], variant="soft", color_scheme="teal", size="1")),
        rx.cond(m["intent"] != "", rx.badge(rx.icon("target", size=11), m["intent"], variant="soft", size="1")),
        rx.cond(
            m["lead_type"] != "",
            rx.badge(rx.icon("user", size=11), m["lead_type"], variant="soft", color_scheme="gray", size="1"),
        ),
        rx.cond(
            m["sources"] != "0",
            rx.badge(rx.icon("book_open", size=11), m["sources"], " fonte(s)", variant="soft", color_scheme="blue"),
        ),
        rx.cond(
            m["tools"] != "0",
            rx.badge(rx.icon("wrench", size=11), m["tools"], " ferramenta(s)", variant="soft", color_scheme="orange"),
        ),
        rx.cond(m["tokens"] != "", rx.badge(m["tokens"], " tokens", variant="outline", color_scheme="gray")),
        spacing="1",
        wrap="wrap",
        margin_top="6px",
    )


def _lead_bubble(m) -> rx.Component:
    return rx.flex(
        rx.box(
            _attachment_chip(m),
            rx.cond(m["text"] != "", rx.text(m["text"], size="2", white_space="pre-wrap")),
            background=LEAD_BG,
            padding="8px 12px",
            border_radius="12px 12px 2px 12px",
            max_width="80%",
            box_shadow="0 1px 1px var(--black-a3)",
            class_name="bubble-lead",
        ),
        justify="end",
        width="100%",
    )


def _agent_bubble(m) -> rx.Component:
    selected = S.selected.to_string() == m["index"]
    return rx.flex(
        rx.box(
            rx.cond(
                m["suggestion"] != "",
                rx.hstack(
                    rx.icon("lightbulb", size=12),
                    rx.text("Sugestão para o vendedor", size="1", weight="medium"),
                    color="var(--amber-11)",
                    spacing="1",
                    align="center",
                    margin_bottom="4px",
                ),
            ),
            rx.text(m["text"], size="2", white_space="pre-wrap"),
            _trace_badges(m),
            background=AGENT_BG,
            padding="8px 12px",
            border_radius="12px 12px 12px 2px",
            max_width="85%",
            cursor="pointer",
            border=rx.cond(
                m["suggestion"] != "",
                "1px dashed var(--amber-8)",
                rx.cond(selected, "1px solid var(--teal-8)", "1px solid transparent"),
            ),
            outline=rx.cond(selected, "2px solid var(--teal-a6)", "none"),
            box_shadow="0 1px 1px var(--black-a3)",
            on_click=S.select(m["index"]),
            class_name="bubble-agent",
            title="Ver por que o agente respondeu assim",
        ),
        justify="start",
        width="100%",
    )


def _typing() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.spinner(size="1"),
            muted(S.agent_name, " está digitando…"),
            background=AGENT_BG,
            padding="8px 12px",
            border_radius="12px 12px 12px 2px",
            align="center",
            spacing="2",
            id="playground-typing",
        ),
        width="100%",
    )


def _conversation() -> rx.Component:
    return rx.box(
        rx.cond(
            S.messages.length() == 0,
            rx.center(
                rx.vstack(
                    rx.icon("message_circle", size=28, color="var(--gray-9)"),
                    rx.text("Escreva como se fosse um cliente.", size="2", weight="medium"),
                    muted(
                        "Pergunte um preço, mande um áudio ou um PDF: ao lado de cada resposta aparece o que o "
                        "agente entendeu, as fontes que usou e as ferramentas que chamou.",
                        text_align="center",
                        max_width="40ch",
                    ),
                    align="center",
                    spacing="2",
                    padding="16px",
                    border_radius="12px",
                    background="var(--color-panel-translucent)",
                ),
                height="100%",
                min_height="260px",
            ),
            rx.vstack(
                rx.foreach(
                    S.messages,
                    lambda m: rx.cond(m["role"] == "lead", _lead_bubble(m), _agent_bubble(m)),
                ),
                rx.cond(S.sending, _typing()),
                spacing="2",
                width="100%",
            ),
        ),
        id="playground-messages",
        background=CHAT_BG,
        padding="16px",
        height=["56vh", "56vh", "60vh"],
        overflow_y="auto",
        border_radius="10px 10px 0 0",
    )


def _composer() -> rx.Component:
    return rx.el.form(
        rx.cond(
            S.attachment_name != "",
            rx.hstack(
                rx.icon("paperclip", size=14),
                rx.text(S.attachment_name, size="1", weight="medium", id="playground-attachment"),
                rx.icon_button(
                    rx.icon("x", size=12),
                    size="1",
                    variant="ghost",
                    color_scheme="gray",
                    type="button",
                    on_click=S.clear_attachment,
                    aria_label="Remover anexo",
                ),
                align="center",
                spacing="2",
                padding="4px 10px",
                border_radius="999px",
                background="var(--teal-a3)",
                width="fit-content",
                margin_bottom="8px",
            ),
        ),
        rx.hstack(
            rx.upload.root(
                rx.icon_button(
                    rx.icon("paperclip", size=18),
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    size="3",
                    aria_label="Anexar áudio, imagem ou documento",
                    title="Anexar áudio, imagem ou documento",
                ),
                id="playground-upload",
                on_drop=S.attach,
                on_drop_rejected=S.attach_rejected,
                multiple=False,
                max_files=1,
                accept=ACCEPT,
                no_drag=True,
            ),
            rx.input(
                name="text",
                placeholder="Mensagem do cliente…",
                size="3",
                width="100%",
                auto_complete="off",
                id="playground-input",
                max_length=4000,
            ),
            action_button(
                "send_horizontal",
                rx.text("Enviar", display=["none", "inline"]),
                type="submit",
                size="3",
                loading=S.sending,
                id="playground-send",
                icon_size=18,
            ),
            spacing="2",
            align="center",
            width="100%",
        ),
        on_submit=S.send,
        reset_on_submit=True,
        id="playground-form",
        style={"padding": "12px", "borderTop": "1px solid var(--gray-a4)"},
    )


def _chat() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.avatar(fallback="IA", size="2", radius="full", color_scheme="teal", variant="soft"),
            rx.box(
                rx.text(S.agent_name, size="2", weight="bold"),
                muted("conversa de teste · não vira lead"),
            ),
            align="center",
            spacing="3",
            padding="12px 14px",
            border_bottom="1px solid var(--gray-a4)",
        ),
        _conversation(),
        _composer(),
        padding="0",
        width="100%",
        overflow="hidden",
    )


# --- the side panel -----------------------------------------------------------------------------


def _row(label: str, value, icon: str, id_: str) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=15, color="var(--gray-10)"),
        muted(label, size="2", min_width="96px"),
        rx.text(rx.cond(value != "", value, "—"), size="2", weight="medium", id=id_),
        align="center",
        spacing="2",
        width="100%",
    )


def _trace_group(title: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(
        muted(title, weight="bold", text_transform="uppercase"),
        *children,
        spacing="2",
        width="100%",
    )


def _trace_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("scan_search", size=18, color="var(--teal-11)"),
                rx.heading("Por que respondeu assim", size="3", as_="h2"),
                align="center",
                spacing="2",
            ),
            rx.cond(
                S.has_selection,
                rx.vstack(
                    _trace_group(
                        "Resposta",
                        _row("Fluxo", S.sel_route, "route", "trace-route"),
                        _row("Intenção", S.sel_intent, "target", "trace-intent"),
                        _row("Tipo de lead", S.sel_lead_type, "user", "trace-lead-type"),
                        _row("Confiança", S.sel_confidence, "gauge", "trace-confidence"),
                        _row("Modo", S.sel_mode, "toggle_left", "trace-mode"),
                    ),
                    rx.cond(
                        S.sel_handoff != "",
                        callout(
                            "user_round",
                            rx.text.strong("Passou para humano: "),
                            S.sel_handoff,
                            color="amber",
                            id="trace-handoff",
                        ),
                    ),
                    rx.cond(
                        S.sel_errors.length() > 0,
                        callout(
                            "file_warning",
                            rx.foreach(S.sel_errors, lambda e: rx.text(e, as_="div")),
                            color="red",
                        ),
                    ),
                    rx.separator(size="4"),
                    _trace_group(
                        "Fontes citadas",
                        rx.cond(
                            S.sel_sources.length() > 0,
                            rx.vstack(
                                rx.foreach(
                                    S.sel_sources,
                                    lambda s: rx.hstack(
                                        rx.icon("file_text", size=14, color="var(--blue-10)"),
                                        rx.text(s["label"], size="2", trim="both", flex="1", word_break="break-all"),
                                        rx.badge(s["score"], variant="outline", color_scheme="gray", size="1"),
                                        align="center",
                                        spacing="2",
                                        width="100%",
                                        class_name="trace-source",
                                    ),
                                ),
                                spacing="2",
                                width="100%",
                                id="trace-sources",
                            ),
                            muted("Nenhuma fonte do conhecimento.", size="2"),
                        ),
                    ),
                    _trace_group(
                        "Ferramentas",
                        rx.cond(
                            S.sel_tools.length() > 0,
                            rx.vstack(
                                rx.foreach(
                                    S.sel_tools,
                                    lambda t: rx.box(
                                        rx.code(t["name"], size="2", variant="soft"),
                                        muted(t["args"], word_break="break-all", as_="div"),
                                        class_name="trace-tool",
                                        width="100%",
                                    ),
                                ),
                                spacing="2",
                                width="100%",
                                id="trace-tools",
                            ),
                            muted("Nenhuma ferramenta chamada.", size="2"),
                        ),
                    ),
                    rx.cond(
                        S.sel_documents.length() > 0,
                        _trace_group(
                            "Documentos que enviaria",
                            rx.foreach(S.sel_documents, lambda d: rx.badge(rx.icon("paperclip", size=11), d)),
                        ),
                    ),
                    rx.separator(size="4"),
                    _trace_group(
                        "Tokens",
                        rx.hstack(
                            rx.badge("entrada ", S.sel_tokens_in, variant="soft", size="2"),
                            rx.badge("saída ", S.sel_tokens_out, variant="soft", size="2"),
                            spacing="2",
                            id="trace-tokens",
                        ),
                    ),
                    rx.cond(
                        S.sel_next_step != "",
                        _trace_group(
                            "Próximo passo",
                            rx.text(S.sel_next_step, size="2", id="trace-next-step"),
                        ),
                    ),
                    spacing="4",
                    width="100%",
                    id="playground-trace",
                ),
                muted(
                    "Envie uma mensagem: aqui aparecem o fluxo, a intenção, o tipo de lead, as fontes, as "
                    "ferramentas e os tokens da resposta escolhida.",
                    size="2",
                ),
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
        position=["static", "static", "sticky"],
        top="24px",
    )


# --- page ---------------------------------------------------------------------------------------


def _loading() -> rx.Component:
    return rx.vstack(
        rx.skeleton(height="84px", width="100%"),
        rx.skeleton(height="420px", width="100%"),
        spacing="4",
        width="100%",
    )


def _no_agents() -> rx.Component:
    return empty_state(
        "bot",
        "Nenhum agente para testar",
        "Crie um agente primeiro: depois volte aqui para conversar com ele como um cliente faria.",
        rx.link(action_button("plus", "Criar agente"), href="/agentes", id="playground-create-agent"),
    )


def _workspace() -> rx.Component:
    return rx.vstack(
        _toolbar(),
        rx.cond(
            S.agent_needs_key,
            callout(
                "key_round",
                "Este agente ainda não tem chave de API do modelo: as perguntas que pedem o modelo vão ser "
                "passadas para uma pessoa. ",
                rx.link("Configure em Agentes.", href="/agentes"),
                color="amber",
                size=None,
                id="playground-needs-key",
            ),
        ),
        rx.grid(
            _chat(),
            _trace_panel(),
            columns=rx.breakpoints(initial="1", md="minmax(0, 1fr) 340px"),
            spacing="4",
            width="100%",
            align_items="start",
        ),
        spacing="4",
        width="100%",
    )


def content() -> list[rx.Component]:
    return [rx.cond(S.loaded, rx.cond(S.has_agents, _workspace(), _no_agents()), _loading())]


PAGE = panel_route(
    "/playground",
    "Playground",
    "Converse com o agente como um cliente faria e veja por que ele respondeu assim.",
    content,
    on_load=(S.load,),
    wide=True,
)
