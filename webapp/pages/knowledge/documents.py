"""The documents the agent reads: status, size, errors, actions, and the preview of their chunks."""

from __future__ import annotations

import reflex as rx

from ...components import (
    SPINNER,
    BadgeLook,
    form_dialog,
    icon_action,
    item_row,
    lines,
    muted,
    section_card,
    skeleton_rows,
    state_badge,
)
from ...states.knowledge import KnowledgeState as S

SOURCE_ICONS = {"upload": "file_text", "url": "globe", "drive": "hard_drive", "learned": "graduation_cap"}
SOURCE_LABELS = {"upload": "Arquivo", "url": "Página web", "drive": "Google Drive", "learned": "Resposta aprendida"}
DOC_STATUS = {
    "ready": BadgeLook("green", "Pronto", "circle_check"),
    "failed": BadgeLook("red", "Falhou", "circle_x"),
    "processing": BadgeLook("blue", "Processando", SPINNER),
}
QUEUED = BadgeLook("gray", "Na fila", "clock")


def source_icon(source) -> rx.Component:
    return rx.match(
        source,
        *[(k, rx.icon(v, size=18, color="var(--gray-11)")) for k, v in SOURCE_ICONS.items()],
        rx.icon("file", size=18, color="var(--gray-11)"),
    )


def document_row(doc) -> rx.Component:
    meta = muted(
        rx.match(doc["source"], *SOURCE_LABELS.items(), "Arquivo"),
        rx.cond(doc["chunks"].to(int) > 0, rx.fragment(" · ", doc["chunks"], " trechos"), ""),
        rx.cond(doc["size"] != "", rx.fragment(" · ", doc["size"]), ""),
        " · atualizado em ",
        doc["updated"],
    )
    return item_row(
        rx.center(
            source_icon(doc["source"]),
            width="36px",
            height="36px",
            border_radius="10px",
            background="var(--gray-a3)",
            flex_shrink="0",
        ),
        lines(
            rx.hstack(
                rx.text(
                    doc["name"],
                    weight="medium",
                    size="2",
                    trim="both",
                    class_name="doc-name",
                    overflow="hidden",
                    text_overflow="ellipsis",
                    white_space="nowrap",
                    min_width="0",
                ),
                state_badge(doc["status"], DOC_STATUS, QUEUED, variant="soft"),
                align="center",
                spacing="2",
                wrap="wrap",
                width="100%",
            ),
            meta,
            rx.cond(
                doc["status"] == "processing",
                rx.progress(value=doc["progress"].to(int), max=100, size="1", width="160px"),
            ),
            rx.cond(
                doc["error"] != "",
                rx.hstack(
                    rx.icon("triangle_alert", size=14, color="var(--red-10)", flex_shrink="0", margin_top="2px"),
                    rx.text(doc["error"], size="1", color_scheme="red", class_name="doc-error"),
                    spacing="1",
                    align="start",
                ),
            ),
        ),
        actions=[
            icon_action(
                "eye",
                "Ver trechos",
                S.open_preview(doc["id"]),
                disabled=doc["status"] != "ready",
            ),
            rx.cond(
                doc["can_reprocess"],
                icon_action("rotate_cw", "Processar de novo", S.reprocess(doc["id"])),
            ),
            rx.cond(
                (doc["source"] != "learned") & (doc["source"] != "drive"),
                icon_action("trash_2", "Excluir", S.ask_delete_document(doc), color="red"),
            ),
        ],
        class_name="doc-row",
        data_status=doc["status"],
        data_filename=doc["filename"],
    )


def documents_card() -> rx.Component:
    return section_card(
        "library",
        "Documentos",
        "O que o agente consulta para responder. Processar um documento leva alguns segundos.",
        rx.cond(
            S.loading,
            skeleton_rows(3, "52px"),
            rx.cond(
                S.documents.length() > 0,
                rx.vstack(rx.foreach(S.documents, document_row), spacing="0", width="100%", id="document-list"),
                rx.center(
                    rx.vstack(
                        rx.icon("book_open", size=28, color="var(--teal-11)"),
                        rx.text("Nenhum documento ainda", weight="medium", size="3"),
                        muted(
                            (
                                "Envie a tabela de preços, o catálogo ou as perguntas frequentes para o agente "
                                "responder com as informações da sua empresa."
                            ),
                            size="2",
                            text_align="center",
                            max_width="46ch",
                        ),
                        align="center",
                        spacing="2",
                    ),
                    padding_y="32px",
                    width="100%",
                    id="documents-empty",
                ),
            ),
        ),
        right=rx.cond(
            S.has_pending,
            rx.badge(rx.spinner(size="1"), "Processando", color_scheme="blue", variant="soft", id="docs-pending"),
            rx.badge(S.documents.length(), " documento(s)", color_scheme="gray", variant="soft"),
        ),
        id="knowledge-documents",
    )


def preview_dialog() -> rx.Component:
    chunk = lambda c: rx.box(  # noqa: E731
        rx.hstack(
            rx.badge("#", c["ord"].to(int) + 1, variant="outline", color_scheme="gray"),
            rx.cond(c["page"].to(int) > 0, rx.badge("página ", c["page"], variant="soft", color_scheme="gray")),
            rx.cond(c["heading"] != "", muted(c["heading"], weight="medium")),
            rx.spacer(),
            muted(c["chars"], " caracteres"),
            spacing="2",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        rx.text(c["content"], size="2", white_space="pre-wrap", margin_top="6px", class_name="chunk-content"),
        padding="12px",
        border="1px solid var(--gray-a5)",
        border_radius="10px",
        background="var(--gray-a2)",
        width="100%",
        class_name="chunk",
    )
    return form_dialog(
        rx.cond(S.preview_doc.contains("name"), S.preview_doc["name"], "Trechos"),
        rx.cond(
            S.preview_loading,
            "Carregando os trechos…",
            rx.fragment(
                "Como o documento foi dividido para a busca: ",
                S.preview_chunks.length(),
                " de ",
                S.preview_total,
                " trechos.",
            ),
        ),
        rx.cond(
            S.preview_loading,
            skeleton_rows(3, "80px"),
            rx.scroll_area(
                rx.vstack(rx.foreach(S.preview_chunks, chunk), spacing="2", width="100%", padding_right="12px"),
                type="auto",
                scrollbars="vertical",
                max_height="60vh",
            ),
        ),
        rx.flex(
            rx.dialog.close(rx.button("Fechar", variant="soft", color_scheme="gray", id="preview-close")),
            justify="end",
            margin_top="16px",
        ),
        open=S.preview_open,
        on_open_change=S.set_preview_open,
        max_width="720px",
        id="chunk-preview",
    )


# --- search tester -------------------------------------------------------------------------------
