"""Tab Voz: replies as voice notes, and registering a cloned voice from a recording."""

from __future__ import annotations

import reflex as rx

from runtime.panel import agents as svc

from ...components import (
    action_button,
    group_card,
    muted,
    two_columns,
)
from ...states.agents import AgentsState
from .fields import select, text_input

UPLOAD_ID = "voice-upload"


def _clone() -> rx.Component:
    return rx.vstack(
        rx.upload(
            rx.vstack(
                rx.icon("mic", size=22, color="var(--teal-11)"),
                rx.text("Arraste o áudio aqui ou clique para escolher", size="2"),
                rx.foreach(rx.selected_files(UPLOAD_ID), lambda f: rx.text(f, size="1")),
                align="center",
                spacing="2",
            ),
            id=UPLOAD_ID,
            max_files=1,
            accept={"audio/*": [".mp3", ".ogg", ".wav", ".m4a", ".opus", ".webm"]},
            border="1px dashed var(--gray-a7)",
            border_radius="10px",
            padding="20px",
            width="100%",
        ),
        action_button(
            "upload",
            "Registrar voz",
            on_click=AgentsState.upload_voice(rx.upload_files(upload_id=UPLOAD_ID)),
            loading=AgentsState.uploading,
            variant="soft",
            type="button",
            icon_size=14,
        ),
        spacing="3",
        width="100%",
    )


def tab() -> rx.Component:
    return rx.vstack(
        group_card(
            "Respostas em áudio",
            "O agente pode responder com nota de voz (o texto continua no Inbox).",
            select("Responder com áudio", "voice_replies", svc.VOICE_REPLIES),
            two_columns(
                text_input("Nome da voz", "voice_name", placeholder="Ex.: Voz da Ana"),
                text_input("ID da voz no provedor (opcional)", "voice_id", "Vazio = a voz padrão."),
            ),
        ),
        group_card(
            "Clonar uma voz",
            "Envie de 1 a 3 minutos de alguém da equipe falando naturalmente, sem ruído (MP3, OGG, WAV ou M4A). "
            "Requer ElevenLabs configurado no servidor.",
            rx.cond(
                AgentsState.is_new,
                muted("Salve o agente antes de registrar uma voz.", size="2"),
                _clone(),
            ),
        ),
        spacing="4",
        width="100%",
    )
