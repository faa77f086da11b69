"""The composer: text with quick replies, attachments, voice notes, and the approved-template form
when WhatsApp's 24-hour window is closed."""

from __future__ import annotations

import reflex as rx
from reflex_audio_capture import AudioRecorderPolyfill

from ...components import (
    action_button,
    callout,
    muted,
)
from ...states.inbox import InboxState, Quick


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
        action_button(
            "square",
            "Parar e enviar",
            color_scheme="red",
            size="2",
            type="button",
            on_click=recorder.stop,
            id="record-stop",
            icon_size=14,
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
            callout(
                "clock",
                "A janela de 24 horas do WhatsApp está fechada: só modelos aprovados podem ser enviados.",
                color="amber",
                width=None,
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
            muted("Conversa encerrada. Reabra pelo menu ⋮ para responder.", size="2"),
            rx.cond(InboxState.window_open, free_text, template_form),
        ),
        padding="10px 14px",
        border_top="1px solid var(--gray-a5)",
        width="100%",
    )
