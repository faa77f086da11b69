"""Conhecimento: upload documents, add pages, connect Google Drive folders, watch them being
processed, preview their chunks, test what the agent would retrieve, review learned answers."""

from __future__ import annotations

import reflex as rx

from runtime.knowledge import drive

from ..components import section_card
from ..states.knowledge import UPLOAD_ID, KnowledgeState
from .panel import panel_route

S = KnowledgeState

SOURCE_ICONS = {"upload": "file_text", "url": "globe", "drive": "hard_drive", "learned": "graduation_cap"}
SOURCE_LABELS = {"upload": "Arquivo", "url": "Página web", "drive": "Google Drive", "learned": "Resposta aprendida"}


# --- small widgets (this page only) ------------------------------------------------------------


def card(title: str, subtitle: str, *children: rx.Component, icon: str, right=None, **props) -> rx.Component:
    return section_card(icon, title, subtitle, *children, right=right, **props)


def by_source(source, mapping: dict[str, str], default: str):
    return rx.match(source, *[(k, v) for k, v in mapping.items()], default)


def source_icon(source) -> rx.Component:
    return rx.match(
        source,
        *[(k, rx.icon(v, size=18, color="var(--gray-11)")) for k, v in SOURCE_ICONS.items()],
        rx.icon("file", size=18, color="var(--gray-11)"),
    )


def status_badge(status) -> rx.Component:
    return rx.match(
        status,
        ("ready", rx.badge(rx.icon("circle_check", size=12), "Pronto", color_scheme="green", variant="soft")),
        ("failed", rx.badge(rx.icon("circle_x", size=12), "Falhou", color_scheme="red", variant="soft")),
        ("processing", rx.badge(rx.spinner(size="1"), "Processando", color_scheme="blue", variant="soft")),
        rx.badge(rx.icon("clock", size=12), "Na fila", color_scheme="gray", variant="soft"),
    )


def icon_action(icon: str, label: str, on_click, color: str = "gray", **props) -> rx.Component:
    return rx.tooltip(
        rx.icon_button(
            rx.icon(icon, size=16),
            on_click=on_click,
            variant="ghost",
            color_scheme=color,
            size="2",
            aria_label=label,
            title=label,
            **props,
        ),
        content=label,
    )


# --- add sources ---------------------------------------------------------------------------------


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
                        rx.text(
                            f"PDF, DOCX, XLSX, CSV, TXT, Markdown, HTML e imagens · até {S.max_mb} MB cada",
                            size="1",
                            color_scheme="gray",
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
        rx.flex(
            rx.input(
                rx.input.slot(rx.icon("link", size=16)),
                name="url",
                id="knowledge-url-input",
                type="url",
                placeholder="https://suaempresa.com.br/precos",
                required=True,
                size="3",
                flex="1",
                min_width="0",
            ),
            rx.button(
                rx.icon("plus", size=16),
                "Adicionar página",
                type="submit",
                size="3",
                variant="soft",
                loading=S.adding_url,
                id="knowledge-url-submit",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="2",
            width="100%",
        ),
        on_submit=S.add_url,
        id="knowledge-url-form",
        width="100%",
    )


def upload_card() -> rx.Component:
    return card(
        "Enviar documentos",
        "Catálogos, tabelas de preço, políticas e perguntas frequentes.",
        drop_zone(),
        rx.hstack(
            rx.separator(size="4", flex="1"),
            rx.text("ou adicione uma página da web", size="1", color_scheme="gray", white_space="nowrap"),
            rx.separator(size="4", flex="1"),
            align="center",
            width="100%",
        ),
        url_form(),
        icon="upload",
        id="knowledge-upload-card",
    )


def connection_row(conn) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("folder", size=18, color="var(--amber-10)", flex_shrink="0"),
            rx.vstack(
                rx.link(conn["folder_name"], href=conn["folder_url"], is_external=True, weight="medium", size="2"),
                rx.text(
                    rx.cond(conn["account_email"] != "", conn["account_email"], "Conta Google"),
                    " · ",
                    conn["files"],
                    " arquivo(s)",
                    rx.cond(conn["last_sync"] != "", " · sincronizada em " + conn["last_sync"].to(str), ""),
                    size="1",
                    color_scheme="gray",
                ),
                spacing="0",
                flex="1",
                min_width="0",
            ),
            rx.cond(
                conn["syncing"],
                rx.badge(rx.spinner(size="1"), "Sincronizando", color_scheme="blue", variant="soft"),
                rx.match(
                    conn["status"],
                    ("active", rx.badge("Ativa", color_scheme="green", variant="soft")),
                    ("needs_reauth", rx.badge("Reconectar", color_scheme="amber", variant="soft")),
                    rx.badge("Erro", color_scheme="red", variant="soft"),
                ),
            ),
            icon_action(
                "refresh_cw",
                "Sincronizar agora",
                S.sync_drive(conn["id"]),
                loading=S.syncing_id == conn["id"],
            ),
            icon_action("unplug", "Desconectar", S.ask_disconnect(conn), color="red"),
            align="center",
            spacing="3",
            width="100%",
        ),
        rx.cond(conn["last_error"] != "", rx.text(conn["last_error"], size="1", color_scheme="red")),
        rx.cond(
            conn["problems"].to(list).length() > 0,
            rx.el.details(
                rx.el.summary(rx.text("Arquivos não importados", size="1", color_scheme="gray", as_="span")),
                rx.vstack(
                    rx.foreach(conn["problems"].to(list[str]), lambda p: rx.text(p, size="1", color_scheme="gray")),
                    spacing="1",
                    padding_top="4px",
                ),
            ),
        ),
        spacing="1",
        width="100%",
        padding="10px 12px",
        border="1px solid var(--gray-a5)",
        border_radius="10px",
    )


def drive_card() -> rx.Component:
    return card(
        "Google Drive",
        "Conecte uma pasta: os arquivos dela (e das subpastas) entram na base e são sincronizados sozinhos.",
        rx.el.form(
            rx.vstack(
                rx.input(
                    rx.input.slot(rx.icon("folder_open", size=16)),
                    name="folder",
                    placeholder="Link da pasta no Google Drive",
                    required=True,
                    size="3",
                    width="100%",
                    id="drive-folder-input",
                ),
                rx.button(
                    rx.icon("link_2", size=16),
                    "Conectar pasta",
                    type="submit",
                    size="3",
                    width="100%",
                    loading=S.connecting_drive,
                    disabled=~S.drive_enabled,
                    id="drive-connect",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=S.connect_drive,
            id="drive-form",
            width="100%",
        ),
        rx.cond(
            ~S.drive_enabled,
            rx.callout.root(
                rx.callout.icon(rx.icon("info", size=16)),
                rx.callout.text(
                    "A integração com o Google não está configurada neste servidor "
                    "(GOOGLE_CLIENT_ID e GOOGLE_CLIENT_SECRET)."
                ),
                color_scheme="gray",
                size="1",
                width="100%",
                id="drive-disabled",
            ),
        ),
        rx.cond(
            S.drive_connections.length() > 0,
            rx.vstack(rx.foreach(S.drive_connections, connection_row), spacing="2", width="100%"),
            rx.text(drive.ACCEPTED_HINT, size="1", color_scheme="gray"),
        ),
        icon="hard_drive",
        id="knowledge-drive-card",
    )


# --- documents -----------------------------------------------------------------------------------


def document_row(doc) -> rx.Component:
    meta = rx.text(
        by_source(doc["source"], SOURCE_LABELS, "Arquivo"),
        rx.cond(doc["chunks"].to(int) > 0, rx.fragment(" · ", doc["chunks"], " trechos"), ""),
        rx.cond(doc["size"] != "", rx.fragment(" · ", doc["size"]), ""),
        " · atualizado em ",
        doc["updated"],
        size="1",
        color_scheme="gray",
    )
    return rx.box(
        rx.hstack(
            rx.center(
                source_icon(doc["source"]),
                width="36px",
                height="36px",
                border_radius="10px",
                background="var(--gray-a3)",
                flex_shrink="0",
            ),
            rx.vstack(
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
                    status_badge(doc["status"]),
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
                spacing="1",
                flex="1",
                min_width="0",
            ),
            rx.hstack(
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
                spacing="1",
                align="center",
                flex_shrink="0",
            ),
            align="start",
            spacing="3",
            width="100%",
        ),
        padding="12px 4px",
        border_top="1px solid var(--gray-a4)",
        width="100%",
        class_name="doc-row",
        data_status=doc["status"],
        data_filename=doc["filename"],
    )


def documents_card() -> rx.Component:
    return card(
        "Documentos",
        "O que o agente consulta para responder. Processar um documento leva alguns segundos.",
        rx.cond(
            S.loading,
            rx.vstack(*[rx.skeleton(height="52px", width="100%") for _ in range(3)], spacing="2", width="100%"),
            rx.cond(
                S.documents.length() > 0,
                rx.vstack(rx.foreach(S.documents, document_row), spacing="0", width="100%", id="document-list"),
                rx.center(
                    rx.vstack(
                        rx.icon("book_open", size=28, color="var(--teal-11)"),
                        rx.text("Nenhum documento ainda", weight="medium", size="3"),
                        rx.text(
                            "Envie a tabela de preços, o catálogo ou as perguntas frequentes para o agente "
                            "responder com as informações da sua empresa.",
                            size="2",
                            color_scheme="gray",
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
        icon="library",
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
            rx.cond(c["heading"] != "", rx.text(c["heading"], size="1", weight="medium", color_scheme="gray")),
            rx.spacer(),
            rx.text(c["chars"], " caracteres", size="1", color_scheme="gray"),
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
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.preview_doc.contains("name"), S.preview_doc["name"], "Trechos")),
            rx.dialog.description(
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
                size="2",
                color_scheme="gray",
                margin_bottom="12px",
            ),
            rx.cond(
                S.preview_loading,
                rx.vstack(*[rx.skeleton(height="80px", width="100%") for _ in range(3)], spacing="2", width="100%"),
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
            max_width="720px",
            id="chunk-preview",
        ),
        open=S.preview_open,
        on_open_change=S.set_preview_open,
    )


# --- search tester -------------------------------------------------------------------------------


def hit_row(hit) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.badge(hit["rank"], variant="solid", color_scheme="teal", radius="full"),
            rx.text(hit["document"], weight="medium", size="2", class_name="hit-document"),
            rx.cond(hit["page"].to(int) > 0, rx.badge("p. ", hit["page"], variant="soft", color_scheme="gray")),
            rx.spacer(),
            rx.text(hit["matched_by"], size="1", color_scheme="gray"),
            rx.badge("pontuação ", hit["score"], variant="soft", color_scheme="teal", class_name="hit-score"),
            align="center",
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
        rx.progress(value=hit["relative"].to(int), max=100, size="1", color_scheme="teal", margin_top="8px"),
        rx.cond(hit["heading"] != "", rx.text(hit["heading"], size="1", weight="medium", margin_top="8px")),
        rx.text(hit["snippet"], size="2", color_scheme="gray", white_space="pre-wrap", margin_top="6px"),
        padding="12px",
        border="1px solid var(--gray-a5)",
        border_radius="10px",
        width="100%",
        class_name="search-hit",
    )


def search_card() -> rx.Component:
    return card(
        "Testar a busca",
        "Escreva uma pergunta como um cliente escreveria e veja o que o agente encontraria para responder.",
        rx.el.form(
            rx.flex(
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    name="query",
                    placeholder="Ex.: quanto custa a limpeza? vcs abrem sábado?",
                    required=True,
                    size="3",
                    flex="1",
                    min_width="0",
                    id="search-query",
                ),
                rx.cond(
                    S.agents.length() > 1,
                    rx.select.root(
                        rx.select.trigger(placeholder="Agente", min_width="160px"),
                        rx.select.content(
                            rx.foreach(S.agents, lambda a: rx.select.item(a["name"], value=a["id"])),
                        ),
                        name="agent_id",
                        default_value=S.default_agent,
                        size="3",
                    ),
                ),
                rx.button(
                    rx.icon("search", size=16),
                    "Testar",
                    type="submit",
                    size="3",
                    loading=S.searching,
                    id="search-submit",
                ),
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="2",
                width="100%",
            ),
            on_submit=S.run_search,
            id="search-form",
            width="100%",
        ),
        rx.cond(
            S.searched,
            rx.vstack(
                rx.text(
                    "Resultados para “",
                    S.search_query,
                    "”",
                    rx.cond(S.search_agent != "", rx.fragment(" como ", rx.text.strong(S.search_agent)), ""),
                    rx.cond(S.search_collection != "", rx.fragment(" (coleção ", S.search_collection, ")"), ""),
                    size="2",
                    color_scheme="gray",
                ),
                rx.cond(
                    S.search_learned.contains("id"),
                    rx.callout.root(
                        rx.callout.icon(rx.icon("graduation_cap", size=16)),
                        rx.callout.text(
                            rx.text.strong("Resposta aprendida usada antes da busca"),
                            " (semelhança ",
                            S.search_learned["similarity"],
                            "): ",
                            S.search_learned["answer"],
                        ),
                        color_scheme="teal",
                        size="1",
                        width="100%",
                        id="search-learned",
                    ),
                ),
                rx.cond(
                    S.search_hits.length() > 0,
                    rx.vstack(rx.foreach(S.search_hits, hit_row), spacing="2", width="100%"),
                    rx.callout.root(
                        rx.callout.icon(rx.icon("search_x", size=16)),
                        rx.callout.text(
                            "Nada encontrado. O agente diria que não sabe e chamaria uma pessoa da equipe. "
                            "Envie um documento que responda a essa pergunta."
                        ),
                        color_scheme="amber",
                        size="1",
                        width="100%",
                    ),
                ),
                spacing="3",
                width="100%",
                id="search-results",
            ),
        ),
        icon="scan_search",
        id="knowledge-search",
    )


# --- learned answers -----------------------------------------------------------------------------


def learned_row(row) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    rx.text(row["question"], weight="medium", size="2"),
                    rx.match(
                        row["status"],
                        ("pending", rx.badge("Aguardando aprovação", color_scheme="amber", variant="soft")),
                        ("approved", rx.badge("Aprovada", color_scheme="green", variant="soft")),
                        rx.badge("Rejeitada", color_scheme="gray", variant="soft"),
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text(row["answer"], size="2", color_scheme="gray", white_space="pre-wrap"),
                rx.text(
                    rx.cond(
                        row["original_question"] != "",
                        "Cliente perguntou: “" + row["original_question"].to(str) + "” · ",
                        "",
                    ),
                    rx.cond(row["agent"] != "", row["agent"].to(str) + " · ", ""),
                    "usada ",
                    row["uses"],
                    " vez(es) · ",
                    row["created"],
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            rx.hstack(
                rx.cond(
                    row["status"] != "approved",
                    icon_action("check", "Aprovar", S.approve_learned(row["id"]), color="green"),
                    icon_action("ban", "Rejeitar", S.reject_learned(row["id"])),
                ),
                icon_action("pencil", "Editar", S.start_edit(row)),
                icon_action("trash_2", "Excluir", S.ask_delete_learned(row), color="red"),
                spacing="1",
                flex_shrink="0",
            ),
            align="start",
            spacing="3",
            width="100%",
        ),
        padding="12px 4px",
        border_top="1px solid var(--gray-a4)",
        width="100%",
        class_name="learned-row",
    )


def learned_card() -> rx.Component:
    return card(
        "Respostas aprendidas",
        "Quando o agente não sabe e alguém da equipe responde, a resposta fica guardada para a próxima vez.",
        rx.segmented_control.root(
            rx.segmented_control.item("Todas", value="all"),
            rx.segmented_control.item(
                "Pendentes",
                rx.cond(S.pending_learned > 0, rx.fragment(" (", S.pending_learned, ")"), ""),
                value="pending",
            ),
            rx.segmented_control.item("Aprovadas", value="approved"),
            rx.segmented_control.item("Rejeitadas", value="rejected"),
            value=S.learned_filter,
            on_change=S.set_learned_filter,
            size="1",
        ),
        rx.cond(
            S.loading,
            rx.vstack(*[rx.skeleton(height="52px", width="100%") for _ in range(2)], spacing="2", width="100%"),
            rx.cond(
                S.shown_learned.length() > 0,
                rx.vstack(rx.foreach(S.shown_learned, learned_row), spacing="0", width="100%", id="learned-list"),
                rx.text(
                    rx.cond(
                        S.learned.length() > 0,
                        "Nenhuma resposta com este filtro.",
                        "Nenhuma resposta aprendida ainda. Elas aparecem quando a equipe responde uma pergunta "
                        "que o agente passou para um humano.",
                    ),
                    size="2",
                    color_scheme="gray",
                    padding_y="12px",
                    id="learned-empty",
                ),
            ),
        ),
        icon="graduation_cap",
        id="knowledge-learned",
    )


def edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Editar resposta aprendida"),
            rx.dialog.description(
                "Ajuste a pergunta como os clientes costumam fazer e a resposta que o agente deve dar. "
                "Ao salvar, a resposta fica aprovada.",
                size="2",
                color_scheme="gray",
                margin_bottom="12px",
            ),
            rx.el.form(
                rx.vstack(
                    rx.el.label(
                        rx.text("Pergunta", size="2", weight="medium", as_="div", margin_bottom="6px"),
                        rx.text_area(
                            name="question", default_value=S.editing_question, rows="2", width="100%", required=True
                        ),
                        width="100%",
                    ),
                    rx.el.label(
                        rx.text("Resposta", size="2", weight="medium", as_="div", margin_bottom="6px"),
                        rx.text_area(
                            name="answer", default_value=S.editing_answer, rows="5", width="100%", required=True
                        ),
                        width="100%",
                    ),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancelar", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Salvar e aprovar", type="submit", loading=S.saving_learned, id="learned-save"),
                        justify="end",
                        spacing="2",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.save_learned,
                id="learned-edit-form",
                key=S.editing_id,
            ),
            max_width="560px",
        ),
        open=S.editing_open,
        on_open_change=S.set_editing_open,
    )


def confirm_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(S.confirm_title),
            rx.alert_dialog.description(S.confirm_text, size="2"),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancelar", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Confirmar", color_scheme="red", on_click=S.confirm, id="confirm-action")
                ),
                justify="end",
                spacing="2",
                margin_top="16px",
            ),
            max_width="440px",
        ),
        open=S.confirm_open,
        on_open_change=S.set_confirm_open,
    )


def content() -> list[rx.Component]:
    return [
        rx.grid(
            upload_card(),
            drive_card(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        documents_card(),
        search_card(),
        learned_card(),
        preview_dialog(),
        edit_dialog(),
        confirm_dialog(),
    ]


PAGE = panel_route(
    "/conhecimento",
    "Conhecimento",
    "Os documentos que o agente usa para responder: catálogos, tabelas de preço, políticas e perguntas frequentes.",
    content,
    on_load=(KnowledgeState.load,),
    wide=True,
)
