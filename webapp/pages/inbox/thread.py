"""The open conversation: header with the lead and the actions, messages by day, the copilot's
suggestion, the pending follow-up, the composer."""

from __future__ import annotations

import reflex as rx

from ...components import (
    action_button,
    callout,
    muted,
)
from ...states.inbox import InboxState, Msg
from .composer import composer
from .frame import MOBILE, PANEL, avatar, placeholder, provider_badge
from .lead import lead_dialog_button


def media_part(m: Msg) -> rx.Component:
    return rx.match(
        m.kind,
        (
            "audio",
            rx.vstack(
                rx.cond(
                    m.media_url != "",
                    rx.el.audio(src=m.media_url, controls=True, preload="none", style={"width": "min(240px, 60vw)"}),
                    rx.text("🎤 Mensagem de voz", size="2"),
                ),
                rx.cond(
                    m.transcript != "",
                    muted(m.transcript, font_style="italic", class_name="transcript"),
                ),
                spacing="1",
            ),
        ),
        (
            "image",
            rx.cond(
                m.media_url != "",
                rx.link(
                    rx.image(src=m.media_url, max_width="240px", max_height="240px", border_radius="8px"),
                    href=m.media_url,
                    is_external=True,
                ),
                rx.text("📷 Imagem", size="2"),
            ),
        ),
        (
            "document",
            rx.link(
                rx.hstack(rx.icon("file_text", size=16), rx.text(rx.cond(m.filename != "", m.filename, "Documento"))),
                href=m.media_url,
                is_external=True,
            ),
        ),
        rx.fragment(),
    )


def bubble(m: Msg) -> rx.Component:
    inbound = m.direction == "inbound"
    return rx.box(
        rx.cond(
            ~inbound,
            rx.hstack(
                rx.text(
                    m.author_name,
                    size="1",
                    weight="bold",
                    color=rx.cond(m.author == "agent", "var(--violet-11)", "var(--teal-11)"),
                ),
                rx.cond(m.followup, rx.badge("follow-up", size="1", color_scheme="gray", class_name="followup-badge")),
                spacing="2",
                align="center",
            ),
        ),
        media_part(m),
        rx.cond(m.template != "", rx.badge("Modelo: ", m.template, size="1", color_scheme="gray")),
        rx.cond(m.text != "", rx.text(m.text, size="2", white_space="pre-wrap", class_name="message-text")),
        rx.cond(m.media_error != "", rx.text("Arquivo: ", m.media_error, size="1", color_scheme="red")),
        rx.hstack(
            muted(m.time),
            rx.cond(
                ~inbound,
                rx.icon(
                    m.status_icon,
                    size=14,
                    color=rx.match(
                        m.status,
                        ("read", "var(--blue-10)"),
                        ("failed", "var(--red-10)"),
                        ("unknown", "var(--amber-10)"),
                        "var(--gray-10)",
                    ),
                    class_name="status-" + m.status,
                ),
            ),
            justify="end",
            spacing="1",
            align="center",
        ),
        rx.cond(
            m.status == "failed",
            rx.hstack(
                rx.text(m.error, size="1", color_scheme="red", class_name="truncate", max_width="220px"),
                rx.button(
                    "Tentar de novo", size="1", variant="soft", color_scheme="red", on_click=InboxState.retry(m.id)
                ),
                align="center",
            ),
        ),
        rx.cond(
            m.status == "unknown",
            rx.vstack(
                rx.text(m.status_note, size="1", color_scheme="amber", class_name="send-unknown-note"),
                rx.button(
                    "Reenviar mesmo assim",
                    size="1",
                    variant="soft",
                    color_scheme="amber",
                    on_click=InboxState.retry(m.id),
                    class_name="send-unknown-retry",
                ),
                spacing="1",
                align="end",
            ),
        ),
        align_self=rx.cond(inbound, "flex-start", "flex-end"),
        max_width="min(75%, 520px)",
        padding="8px 10px",
        border_radius="10px",
        background=rx.match(m.author, ("lead", "var(--gray-a3)"), ("agent", "var(--violet-a3)"), "var(--teal-a4)"),
        class_name="message",
        data_author=m.author,
        data_status=m.status,
    )


def thread_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(rx.icon_button(rx.icon("ellipsis_vertical", size=16), variant="ghost", id="thread-menu")),
        rx.menu.content(
            rx.menu.sub(
                rx.menu.sub_trigger("Transferir para", id="transfer-menu"),
                rx.menu.sub_content(
                    rx.foreach(
                        InboxState.team,
                        lambda u: rx.menu.item(u.name, on_click=InboxState.assign(u.id), data_user=u.id),
                    ),
                ),
            ),
            rx.menu.item("Remover atribuição", on_click=InboxState.assign("")),
            rx.menu.separator(),
            rx.cond(
                InboxState.conv_status == "closed",
                rx.menu.item("Reabrir conversa", on_click=InboxState.set_conv_status("open")),
                rx.menu.item("Encerrar conversa", color="red", on_click=InboxState.set_conv_status("closed")),
            ),
        ),
    )


def thread_header() -> rx.Component:
    """Who the lead is on the first row; state badges and the actions on the second (wraps on phones)."""
    return rx.vstack(
        rx.hstack(
            rx.icon_button(
                rx.icon("arrow_left", size=16),
                variant="ghost",
                on_click=InboxState.close_thread,
                display=["flex", "flex", "none"],
                aria_label="Voltar",
            ),
            avatar(InboxState.contact_name),
            rx.vstack(
                rx.text(InboxState.contact_name, weight="bold", size="3", id="thread-name", class_name="truncate"),
                muted(InboxState.contact_phone),
                spacing="0",
                flex="1",
                min_width="0",
            ),
            thread_menu(),
            width="100%",
            align="center",
            spacing="3",
        ),
        rx.flex(
            rx.hstack(
                provider_badge(InboxState.provider),
                rx.match(
                    InboxState.mode,
                    ("off", rx.badge("Humano no comando", color_scheme="blue", size="1", id="mode-badge")),
                    ("copilot", rx.badge("Copiloto", color_scheme="violet", size="1", id="mode-badge")),
                    rx.badge("Robô respondendo", color_scheme="green", size="1", id="mode-badge"),
                ),
                rx.cond(
                    InboxState.assigned_name != "",
                    muted("com ", InboxState.assigned_name),
                ),
                spacing="2",
                wrap="wrap",
                align="center",
                flex="1",
                min_width="0",
            ),
            rx.hstack(
                lead_dialog_button(),
                rx.cond(
                    InboxState.taken_over,
                    action_button(
                        "bot",
                        "Devolver ao robô",
                        size="2",
                        variant="soft",
                        on_click=InboxState.hand_back,
                        id="hand-back",
                        icon_size=14,
                    ),
                    action_button(
                        "hand", "Assumir", size="2", on_click=InboxState.take_over, id="take-over", icon_size=14
                    ),
                ),
                spacing="2",
            ),
            width="100%",
            align="center",
            wrap="wrap",
            spacing="2",
        ),
        width="100%",
        padding="10px 14px",
        border_bottom="1px solid var(--gray-a5)",
        spacing="2",
    )


def handoff_callout() -> rx.Component:
    return rx.cond(
        InboxState.handoff_waiting,
        callout(
            "hand",
            rx.text.strong("O robô pediu ajuda. "),
            "Pergunta do lead: “",
            InboxState.handoff_question,
            "”. Sua resposta será aprendida para as próximas vezes.",
            color="orange",
            width=None,
            id="handoff-callout",
        ),
    )


def followup_bar() -> rx.Component:
    """The automatic follow-up waiting to go out, with a way to stop it."""
    return rx.cond(
        InboxState.followup_next != "",
        rx.hstack(
            rx.icon("alarm_clock", size=14, color="var(--gray-10)"),
            muted("Follow-up automático: ", InboxState.followup_next),
            rx.button(
                "Cancelar",
                size="1",
                variant="ghost",
                color_scheme="gray",
                on_click=InboxState.cancel_followup,
                id="followup-cancel",
            ),
            spacing="2",
            align="center",
            padding_x="14px",
            wrap="wrap",
            id="followup-next",
        ),
    )


def suggestion_card() -> rx.Component:
    return rx.cond(
        InboxState.suggestion_id != "",
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("sparkles", size=14, color="var(--violet-11)"),
                    rx.text("Sugestão do copiloto", size="1", weight="bold", color="var(--violet-11)"),
                    rx.cond(InboxState.suggestion_intent != "", rx.badge(InboxState.suggestion_intent, size="1")),
                    align="center",
                    spacing="2",
                ),
                rx.text(InboxState.suggestion_draft, size="2", white_space="pre-wrap", id="suggestion-draft"),
                rx.cond(
                    InboxState.suggestion_next_step != "",
                    muted("Próximo passo: ", InboxState.suggestion_next_step),
                ),
                rx.hstack(
                    action_button(
                        "send",
                        "Enviar",
                        size="1",
                        on_click=InboxState.accept_suggestion,
                        id="suggestion-accept",
                        icon_size=14,
                    ),
                    rx.button(
                        "Editar", size="1", variant="soft", on_click=InboxState.edit_suggestion, id="suggestion-edit"
                    ),
                    rx.button(
                        "Descartar",
                        size="1",
                        variant="ghost",
                        color_scheme="gray",
                        on_click=InboxState.dismiss_suggestion,
                        id="suggestion-dismiss",
                    ),
                    spacing="2",
                ),
                spacing="2",
            ),
            variant="surface",
            style={"border": "1px solid var(--violet-a6)"},
            id="suggestion-card",
        ),
    )


def day_separator(m: Msg, index) -> rx.Component:
    return rx.fragment(
        rx.cond(
            (index == 0) | (InboxState.messages[rx.cond(index > 0, index - 1, 0)].day != m.day),
            rx.center(rx.badge(m.day, variant="soft", color_scheme="gray", size="1"), width="100%", padding_y="6px"),
        ),
        bubble(m),
    )


def thread_panel() -> rx.Component:
    return rx.cond(
        InboxState.has_current,
        rx.vstack(
            thread_header(),
            # column-reverse keeps the view pinned to the newest message, like WhatsApp.
            rx.box(
                rx.vstack(
                    handoff_callout(),
                    rx.foreach(InboxState.messages, day_separator),
                    spacing="2",
                    padding="14px",
                    width="100%",
                    id="thread-messages",
                ),
                display="flex",
                flex_direction="column-reverse",
                overflow_y="auto",
                flex="1",
                width="100%",
                background="var(--gray-a2)",
            ),
            rx.box(suggestion_card(), padding_x="14px", width="100%"),
            followup_bar(),
            rx.cond(
                InboxState.window_has & InboxState.window_open & (InboxState.window_closes != ""),
                muted("Janela de 24 horas aberta até ", InboxState.window_closes, padding_x="14px", id="window-state"),
            ),
            composer(),
            spacing="2",
            flex="1",
            min_width="0",
            **PANEL,
            id="thread",
        ),
        placeholder(
            "messages_square",
            36,
            "var(--gray-8)",
            rx.text("Escolha uma conversa para começar.", color_scheme="gray"),
            flex="1",
            **PANEL,
            style={MOBILE: {"display": "none"}},
        ),
    )


# --- lead sidebar ---------------------------------------------------------------------------------
