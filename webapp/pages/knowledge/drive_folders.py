"""Google Drive folders: connect one, and each connection's files, sync state and problems."""

from __future__ import annotations

import reflex as rx

from runtime.knowledge import drive

from ...components import (
    BadgeLook,
    action_button,
    callout,
    icon_action,
    icon_input,
    muted,
    section_card,
    state_badge,
)
from ...states.knowledge import KnowledgeState as S

CONNECTION_STATUS = {
    "active": BadgeLook("green", "Ativa"),
    "needs_reauth": BadgeLook("amber", "Reconectar"),
}
BROKEN = BadgeLook("red", "Erro")


def connection_row(conn) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("folder", size=18, color="var(--amber-10)", flex_shrink="0"),
            rx.vstack(
                rx.link(conn["folder_name"], href=conn["folder_url"], is_external=True, weight="medium", size="2"),
                muted(
                    rx.cond(conn["account_email"] != "", conn["account_email"], "Conta Google"),
                    " · ",
                    conn["files"],
                    " arquivo(s)",
                    rx.cond(conn["last_sync"] != "", " · sincronizada em " + conn["last_sync"].to(str), ""),
                ),
                spacing="0",
                flex="1",
                min_width="0",
            ),
            rx.cond(
                conn["syncing"],
                rx.badge(rx.spinner(size="1"), "Sincronizando", color_scheme="blue", variant="soft"),
                state_badge(conn["status"], CONNECTION_STATUS, BROKEN, variant="soft"),
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
                rx.el.summary(muted("Arquivos não importados", as_="span")),
                rx.vstack(
                    rx.foreach(conn["problems"].to(list[str]), lambda p: muted(p)),
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
    return section_card(
        "hard_drive",
        "Google Drive",
        "Conecte uma pasta: os arquivos dela (e das subpastas) entram na base e são sincronizados sozinhos.",
        rx.el.form(
            rx.vstack(
                icon_input(
                    "folder_open",
                    name="folder",
                    placeholder="Link da pasta no Google Drive",
                    required=True,
                    width="100%",
                    id="drive-folder-input",
                ),
                action_button(
                    "link_2",
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
            callout(
                "info",
                "A integração com o Google não está configurada neste servidor "
                "(GOOGLE_CLIENT_ID e GOOGLE_CLIENT_SECRET).",
                color="gray",
                id="drive-disabled",
            ),
        ),
        rx.cond(
            S.drive_connections.length() > 0,
            rx.vstack(rx.foreach(S.drive_connections, connection_row), spacing="2", width="100%"),
            muted(drive.ACCEPTED_HINT),
        ),
        id="knowledge-drive-card",
    )


# --- documents -----------------------------------------------------------------------------------
