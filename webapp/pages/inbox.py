"""Inbox: the sellers' WhatsApp-Web-like screen (list, live thread, copilot, takeover, lead)."""

from __future__ import annotations

import reflex as rx
from reflex_audio_capture import AudioRecorderPolyfill

from ..state import AuthState
from ..states.inbox import InboxState, Msg, Quick, Row
from .panel import panel_route

PROVIDER_LABELS = {"cloud_api": "Cloud API", "evolution": "Evolution", "zapi": "Z-API", "twilio": "Twilio"}
FILTERS = (
    ("todas", "Todas"),
    ("minhas", "Minhas"),
    ("nao_atribuidas", "Não atribuídas"),
    ("robo", "Com o robô"),
    ("aguardando", "Aguardando humano"),
    ("encerradas", "Encerradas"),
)
STAGES = (
    ("new", "Novo"),
    ("qualifying", "Em qualificação"),
    ("qualified", "Qualificado"),
    ("proposal", "Proposta"),
    ("won", "Ganho"),
    ("lost", "Perdido"),
)
LEAD_TYPES = (("lead", "Lead"), ("customer", "Cliente"), ("supplier", "Fornecedor"), ("other", "Outro"))
MOBILE = "@media (max-width: 767px)"
PANEL_HEIGHT = "calc(100vh - 210px)"


def provider_badge(provider) -> rx.Component:
    return rx.badge(
        rx.match(provider, *[(k, v) for k, v in PROVIDER_LABELS.items()], provider),
        variant="soft",
        color_scheme="gray",
        size="1",
    )


def avatar(name) -> rx.Component:
    return rx.avatar(fallback=name.to(str)[:2].upper(), size="3", radius="full", color_scheme="teal")


# --- conversation list ------------------------------------------------------------------------------


def filter_button(key: str, label: str) -> rx.Component:
    count = InboxState.counts.get(key, 0)
    return rx.button(
        label,
        rx.cond(count > 0, rx.badge(count, size="1", variant="solid", radius="full")),
        size="1",
        variant=rx.cond(InboxState.view == key, "solid", "soft"),
        color_scheme=rx.cond(InboxState.view == key, "teal", "gray"),
        on_click=InboxState.set_view(key),
        data_filter=key,
    )


def conversation_row(row: Row) -> rx.Component:
    return rx.hstack(
        avatar(row.name),
        rx.vstack(
            rx.hstack(
                rx.text(row.name, weight="medium", size="2", trim="both", class_name="truncate", flex="1"),
                rx.text(row.time, size="1", color_scheme=rx.cond(row.unread > 0, "teal", "gray")),
                width="100%",
                align="center",
            ),
            rx.hstack(
                rx.text(row.preview, size="1", color_scheme="gray", class_name="truncate", flex="1"),
                rx.cond(
                    row.unread > 0,
                    rx.badge(row.unread, variant="solid", color_scheme="teal", radius="full", class_name="unread"),
                ),
                width="100%",
                align="center",
            ),
            rx.hstack(
                provider_badge(row.provider),
                rx.cond(
                    row.waiting_human,
                    rx.badge(rx.icon("hand", size=12), "Aguardando humano", color_scheme="orange", size="1"),
                ),
                rx.cond(row.mode == "off", rx.badge("Humano", color_scheme="blue", size="1")),
                rx.cond(row.mode == "copilot", rx.badge("Copiloto", color_scheme="violet", size="1")),
                rx.cond(row.assigned_name != "", rx.text(row.assigned_name, size="1", color_scheme="gray")),
                spacing="1",
                wrap="wrap",
            ),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        padding="10px 12px",
        spacing="3",
        width="100%",
        cursor="pointer",
        border_left=rx.cond(row.waiting_human, "3px solid var(--orange-9)", "3px solid transparent"),
        background=rx.cond(InboxState.current_id == row.id, "var(--teal-a3)", "transparent"),
        _hover={"background": "var(--gray-a3)"},
        on_click=InboxState.open(row.id),
        class_name="conversation-row",
        data_id=row.id,
    )


def list_panel() -> rx.Component:
    return rx.vstack(
        rx.el.form(
            rx.hstack(
                rx.input(
                    rx.input.slot(rx.icon("search", size=14)),
                    name="q",
                    placeholder="Buscar por nome ou telefone",
                    default_value=InboxState.search,
                    size="2",
                    width="100%",
                    id="inbox-search",
                ),
                rx.cond(
                    InboxState.live,
                    rx.tooltip(
                        rx.badge("● ao vivo", color_scheme="green", size="1", id="live-badge"),
                        content="Atualiza sozinho",
                    ),
                ),
                width="100%",
                align="center",
            ),
            on_submit=InboxState.run_search,
            width="100%",
        ),
        rx.flex(*[filter_button(k, v) for k, v in FILTERS], wrap="wrap", spacing="1", width="100%"),
        rx.separator(size="4"),
        rx.cond(
            InboxState.list_loading,
            rx.vstack(*[rx.skeleton(height="56px", width="100%") for _ in range(5)], width="100%"),
            rx.cond(
                InboxState.rows.length() > 0,
                rx.scroll_area(
                    rx.vstack(rx.foreach(InboxState.rows, conversation_row), spacing="0", width="100%"),
                    type="auto",
                    scrollbars="vertical",
                    flex="1",
                    id="conversation-list",
                ),
                rx.center(
                    rx.vstack(
                        rx.icon("inbox", size=28, color="var(--gray-9)"),
                        rx.text("Nenhuma conversa aqui.", size="2", color_scheme="gray"),
                        align="center",
                    ),
                    padding="40px",
                    width="100%",
                    id="conversation-list-empty",
                ),
            ),
        ),
        width=["100%", "100%", "340px"],
        flex_shrink="0",
        height=PANEL_HEIGHT,
        min_height="480px",
        padding="12px",
        spacing="3",
        border_right="1px solid var(--gray-a5)",
        style={MOBILE: {"display": rx.cond(InboxState.has_current, "none", "flex")}},
    )


# --- thread ---------------------------------------------------------------------------------------


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
                    rx.text(m.transcript, size="1", color_scheme="gray", font_style="italic", class_name="transcript"),
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
            rx.text(m.time, size="1", color_scheme="gray"),
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
                rx.text(InboxState.contact_phone, size="1", color_scheme="gray"),
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
                    rx.text("com ", InboxState.assigned_name, size="1", color_scheme="gray"),
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
                    rx.button(
                        rx.icon("bot", size=14),
                        "Devolver ao robô",
                        size="2",
                        variant="soft",
                        on_click=InboxState.hand_back,
                        id="hand-back",
                    ),
                    rx.button(
                        rx.icon("hand", size=14), "Assumir", size="2", on_click=InboxState.take_over, id="take-over"
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
        rx.callout.root(
            rx.callout.icon(rx.icon("hand", size=16)),
            rx.callout.text(
                rx.text.strong("O robô pediu ajuda. "),
                "Pergunta do lead: “",
                InboxState.handoff_question,
                "”. Sua resposta será aprendida para as próximas vezes.",
            ),
            color_scheme="orange",
            size="1",
            id="handoff-callout",
        ),
    )


def followup_bar() -> rx.Component:
    """The automatic follow-up waiting to go out, with a way to stop it."""
    return rx.cond(
        InboxState.followup_next != "",
        rx.hstack(
            rx.icon("alarm_clock", size=14, color="var(--gray-10)"),
            rx.text("Follow-up automático: ", InboxState.followup_next, size="1", color_scheme="gray"),
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


def followup_history() -> rx.Component:
    return rx.cond(
        InboxState.followup_history.length() > 0,
        rx.vstack(
            rx.text("Follow-ups", size="1", weight="bold"),
            rx.foreach(
                InboxState.followup_history,
                lambda h: rx.box(
                    rx.text("Etapa ", h["step"], " · ", h["status_label"], " · ", h["when"], size="1", weight="medium"),
                    rx.cond(h["reason"] != "", rx.text(h["reason"], size="1", color_scheme="gray")),
                    class_name="followup-history-row",
                ),
            ),
            spacing="1",
            width="100%",
            id="followup-history",
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
                    rx.text("Próximo passo: ", InboxState.suggestion_next_step, size="1", color_scheme="gray"),
                ),
                rx.hstack(
                    rx.button(
                        rx.icon("send", size=14),
                        "Enviar",
                        size="1",
                        on_click=InboxState.accept_suggestion,
                        id="suggestion-accept",
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


def quick_reply_item(q: Quick) -> rx.Component:
    return rx.button(
        q.shortcut, size="1", variant="soft", color_scheme="gray", on_click=InboxState.use_quick(q.text), type="button"
    )


# The voice recorder (reflex-audio-capture: MediaRecorder with a polyfill). It records WAV (its
# in-browser MP3 encoder never delivered the data in Chromium here); the service converts the
# recording to OGG/Opus, WhatsApp's voice note format. Websocket limit: see rxconfig.py.
recorder = AudioRecorderPolyfill.create(
    id="inbox_recorder",
    on_data_available=InboxState.send_recording,
    on_error=InboxState.recording_failed,
    use_mp3=False,
)


def record_button() -> rx.Component:
    return rx.cond(
        recorder.is_recording,
        rx.button(
            rx.icon("square", size=14),
            "Parar e enviar",
            color_scheme="red",
            size="2",
            type="button",
            on_click=recorder.stop,
            id="record-stop",
        ),
        rx.icon_button(
            rx.icon("mic", size=16),
            variant="ghost",
            type="button",
            on_click=recorder.start,
            aria_label="Gravar áudio",
            id="record-start",
        ),
    )


def composer() -> rx.Component:
    free_text = rx.vstack(
        rx.cond(
            InboxState.quick_matches.length() > 0,
            rx.hstack(rx.foreach(InboxState.quick_matches, quick_reply_item), wrap="wrap"),
        ),
        rx.cond(
            InboxState.editing_suggestion != "",
            rx.text("Editando a sugestão do copiloto", size="1", color="var(--violet-11)"),
        ),
        rx.hstack(
            rx.upload(
                rx.icon_button(
                    rx.icon("paperclip", size=16), variant="ghost", type="button", aria_label="Anexar arquivo"
                ),
                id="inbox-upload",
                max_files=1,
                no_drag=True,
                on_drop=InboxState.upload(rx.upload_files(upload_id="inbox-upload")),
                border="none",
                padding="0",
            ),
            recorder,
            record_button(),
            rx.text_area(
                value=InboxState.composer,
                on_change=InboxState.set_composer,
                placeholder="Digite uma mensagem (/ para respostas rápidas)",
                rows="2",
                resize="vertical",
                flex="1",
                id="composer",
            ),
            rx.icon_button(
                rx.icon("send", size=16),
                on_click=InboxState.send,
                loading=InboxState.sending,
                size="3",
                id="composer-send",
                aria_label="Enviar",
            ),
            width="100%",
            align="end",
        ),
        width="100%",
        spacing="2",
    )
    template_form = rx.el.form(
        rx.vstack(
            rx.callout.root(
                rx.callout.icon(rx.icon("clock", size=16)),
                rx.callout.text(
                    "A janela de 24 horas do WhatsApp está fechada: só modelos aprovados podem ser enviados."
                ),
                color_scheme="amber",
                size="1",
            ),
            rx.hstack(
                rx.input(name="name", placeholder="Nome do modelo (ou ContentSid)", flex="2", id="template-name"),
                rx.input(name="language", default_value="pt_BR", width="90px"),
                rx.input(name="variables", placeholder="Variáveis, separadas por vírgula", flex="2"),
                rx.button("Enviar modelo", type="submit", id="template-send"),
                width="100%",
                wrap="wrap",
            ),
            width="100%",
        ),
        on_submit=InboxState.send_template,
        reset_on_submit=True,
        width="100%",
    )
    return rx.box(
        rx.cond(
            InboxState.conv_status == "closed",
            rx.text("Conversa encerrada. Reabra pelo menu ⋮ para responder.", size="2", color_scheme="gray"),
            rx.cond(InboxState.window_open, free_text, template_form),
        ),
        padding="10px 14px",
        border_top="1px solid var(--gray-a5)",
        width="100%",
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
                rx.text(
                    "Janela de 24 horas aberta até ",
                    InboxState.window_closes,
                    size="1",
                    color_scheme="gray",
                    padding_x="14px",
                    id="window-state",
                ),
            ),
            composer(),
            spacing="2",
            flex="1",
            min_width="0",
            height=PANEL_HEIGHT,
            min_height="480px",
            id="thread",
        ),
        rx.center(
            rx.vstack(
                rx.icon("messages_square", size=36, color="var(--gray-8)"),
                rx.text("Escolha uma conversa para começar.", color_scheme="gray"),
                align="center",
            ),
            flex="1",
            height=PANEL_HEIGHT,
            min_height="480px",
            style={MOBILE: {"display": "none"}},
        ),
    )


# --- lead sidebar ---------------------------------------------------------------------------------


def labeled(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(rx.text(label, size="1", weight="medium", as_="div", margin_bottom="4px"), control, width="100%")


def lead_form(form_id: str) -> rx.Component:
    return rx.el.form(
        rx.vstack(
            rx.heading("Lead", size="3"),
            labeled("Nome", rx.input(name="name", default_value=InboxState.lead["name"], size="1")),
            labeled("E-mail", rx.input(name="email", default_value=InboxState.lead["email"], size="1")),
            labeled(
                "Etapa",
                rx.select.root(
                    rx.select.trigger(width="100%"),
                    rx.select.content(*[rx.select.item(label, value=v) for v, label in STAGES]),
                    name="stage",
                    default_value=InboxState.lead["stage"],
                    size="1",
                ),
            ),
            labeled(
                "Tipo",
                rx.select.root(
                    rx.select.trigger(width="100%"),
                    rx.select.content(*[rx.select.item(label, value=v) for v, label in LEAD_TYPES]),
                    name="lead_type",
                    default_value=InboxState.lead["lead_type"],
                    size="1",
                ),
            ),
            labeled("Pontuação (0–100)", rx.input(name="score", default_value=InboxState.lead["score"], size="1")),
            labeled(
                "Etiquetas",
                rx.input(name="tags", default_value=InboxState.lead_tags, placeholder="vip, atacado", size="1"),
            ),
            labeled("Link no CRM", rx.input(name="crm_url", default_value=InboxState.lead["crm_url"], size="1")),
            rx.cond(
                InboxState.lead["crm_url"] != "",
                rx.link("Abrir no CRM", href=InboxState.lead["crm_url"], is_external=True, size="1"),
            ),
            labeled("Notas", rx.text_area(name="notes", default_value=InboxState.lead["notes"], rows="4", size="1")),
            rx.cond(
                InboxState.lead_fields.length() > 0,
                rx.vstack(
                    rx.text("Qualificação", size="1", weight="bold"),
                    rx.foreach(
                        InboxState.lead_fields,
                        lambda f: rx.hstack(
                            rx.text(f[0], size="1", color_scheme="gray"), rx.text(f[1], size="1"), spacing="2"
                        ),
                    ),
                    spacing="1",
                ),
            ),
            followup_history(),
            rx.button("Salvar lead", type="submit", size="2", width="100%", class_name="lead-save"),
            spacing="3",
        ),
        on_submit=InboxState.save_lead,
        key=InboxState.lead["id"],
        id=form_id,
    )


def lead_panel() -> rx.Component:
    """Beside the thread on wide screens (>= 1640 px); behind the header's "Lead" button otherwise."""
    return rx.cond(
        InboxState.has_current,
        rx.box(
            lead_form("lead-form"),
            width="290px",
            flex_shrink="0",
            padding="14px",
            border_left="1px solid var(--gray-a5)",
            height=PANEL_HEIGHT,
            min_height="480px",
            overflow_y="auto",
            display=["none", "none", "none", "none", "none", "block"],
        ),
    )


def lead_dialog_button() -> rx.Component:
    return rx.box(
        rx.dialog.root(
            rx.dialog.trigger(
                rx.button(
                    rx.icon("user_round", size=14),
                    "Lead",
                    size="2",
                    variant="soft",
                    color_scheme="gray",
                    id="open-lead",
                )
            ),
            rx.dialog.content(lead_form("lead-form-dialog"), max_width="420px"),
        ),
        display=["block", "block", "block", "block", "block", "none"],
    )


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
                rx.text("Nenhum vendedor respondeu leads nos últimos 30 dias.", color_scheme="gray", size="2"),
            ),
            rx.heading("Últimas respostas", size="3", margin_top="16px"),
            rx.vstack(
                rx.foreach(
                    InboxState.activity_recent,
                    lambda r: rx.hstack(
                        rx.text(r["at"], size="1", color_scheme="gray", white_space="nowrap"),
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
            rx.button(
                rx.icon("chart_bar", size=14),
                "Atividade da equipe",
                variant="soft",
                size="2",
                on_click=InboxState.open_activity,
                id="open-activity",
            ),
            rx.button(
                rx.icon("zap", size=14),
                "Respostas rápidas",
                variant="soft",
                size="2",
                on_click=InboxState.set_quick_open(True),
                id="open-quick",
            ),
            activity_dialog(),
            quick_dialog(),
            spacing="2",
        ),
    )


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
