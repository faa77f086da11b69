"""Add sources: drop files (with upload progress) or add a web page."""

from __future__ import annotations

import reflex as rx

from ...components import (
    action_button,
    icon_input,
    muted,
    responsive_row,
    section_card,
)
from ...states.knowledge import UPLOAD_ID
from ...states.knowledge import KnowledgeState as S


def drop_zone() -> rx.Component:
    return rx.upload(
        rx.vstack(
            rx.cond(
                S.saving_files,
                rx.spinner(size="3"),
                rx.icon("cloud_upload", size=32, color="var(--teal-10)"),
            ),
            rx.cond(
                S.uploading,
                rx.vstack(
                    rx.text(f"Enviando… {S.upload_percent}%", size="2", weight="medium"),
                    rx.progress(value=S.upload_percent, max=100, width="220px", id="upload-progress"),
                    align="center",
                    spacing="2",
                ),
                rx.cond(
                    S.saving_files,
                    rx.text("Guardando os arquivos…", size="2", weight="medium"),
                    rx.vstack(
                        rx.text(
                            rx.text.strong("Arraste arquivos para cá"),
                            " ou clique para escolher",
                            size="2",
                            text_align="center",
                        ),
                        muted(
                            f"PDF, DOCX, XLSX, CSV, TXT, Markdown, HTML e imagens · até {S.max_mb} MB cada",
                            text_align="center",
                        ),
                        align="center",
                        spacing="1",
                    ),
                ),
            ),
            align="center",
            justify="center",
            spacing="3",
            padding="32px 16px",
            width="100%",
        ),
        id=UPLOAD_ID,
        multiple=True,
        max_size=S.max_mb * 1_000_000,
        disabled=S.uploading | S.saving_files,
        on_drop=S.handle_upload(rx.upload_files(upload_id=UPLOAD_ID, on_upload_progress=S.upload_progress)),
        padding="0",
        border="1.5px dashed var(--gray-a7)",
        border_radius="12px",
        background="var(--gray-a2)",
        cursor="pointer",
        width="100%",
        drag_active_style={"border_color": "var(--teal-9)", "background": "var(--teal-a3)"},
        _hover={"border_color": "var(--teal-8)", "background": "var(--teal-a2)"},
    )


def url_form() -> rx.Component:
    return rx.el.form(
        responsive_row(
            icon_input(
                "link",
                name="url",
                id="knowledge-url-input",
                type="url",
                placeholder="https://suaempresa.com.br/precos",
                required=True,
                flex="1",
                min_width="0",
            ),
            action_button(
                "plus",
                "Adicionar página",
                type="submit",
                size="3",
                variant="soft",
                loading=S.adding_url,
                id="knowledge-url-submit",
            ),
            narrow=None,
            spacing="2",
            width="100%",
        ),
        on_submit=S.add_url,
        id="knowledge-url-form",
        width="100%",
    )


def upload_card() -> rx.Component:
    return section_card(
        "upload",
        "Enviar documentos",
        "Catálogos, tabelas de preço, políticas e perguntas frequentes.",
        drop_zone(),
        rx.hstack(
            rx.separator(size="4", flex="1"),
            muted("ou adicione uma página da web", white_space="nowrap"),
            rx.separator(size="4", flex="1"),
            align="center",
            width="100%",
        ),
        url_form(),
        id="knowledge-upload-card",
    )
