"""Equipe: invite people (by e-mail when SMTP is set, always with a link), change roles, deactivate."""

from __future__ import annotations

import reflex as rx

from ..components import (
    BadgeLook,
    color_match,
    confirm_dialog,
    copy_secret,
    forget_secret,
    labeled,
    one_time_secret,
    reveal_box,
    section_card,
    skeleton_rows,
    state_badge,
)
from ..states.team import LINK_ID, TeamState
from .panel import panel_route

ROLE_COLORS = {"owner": "teal", "admin": "indigo"}
EMAIL_LOOKS = {"sent": ("green", "mail_check"), "failed": ("red", "mail_x")}


def invite_card() -> rx.Component:
    return section_card(
        "user_plus",
        "Convidar pessoa",
        "Vendedores veem só o Inbox e as conversas deles; administradores gerenciam tudo.",
        rx.el.form(
            rx.flex(
                labeled(
                    "E-mail",
                    rx.input(
                        name="email",
                        type="email",
                        placeholder="pessoa@empresa.com.br",
                        required=True,
                        size="3",
                        width="100%",
                        id="invite-email",
                    ),
                    group=True,
                    flex="1",
                ),
                labeled(
                    "Papel",
                    rx.select.root(
                        rx.select.trigger(width="100%", id="invite-role"),
                        rx.select.content(
                            rx.select.item("Vendedor", value="seller"),
                            rx.select.item("Administrador", value="admin"),
                        ),
                        name="role",
                        default_value="seller",
                        size="3",
                    ),
                    group=True,
                    width=rx.breakpoints(initial="100%", sm="200px"),
                ),
                rx.button(
                    rx.icon("send", size=16),
                    rx.cond(TeamState.email_enabled, "Enviar convite", "Gerar convite"),
                    type="submit",
                    size="3",
                    loading=TeamState.inviting,
                    id="invite-submit",
                ),
                direction=rx.breakpoints(initial="column", sm="row"),
                align=rx.breakpoints(initial="stretch", sm="end"),
                spacing="3",
                width="100%",
            ),
            on_submit=TeamState.invite,
            reset_on_submit=True,
            width="100%",
            id="invite-form",
        ),
        link_callout(),
    )


def link_callout() -> rx.Component:
    """Always mounted, hidden until a link is made: the link is revealed into its input."""
    return reveal_box(
        rx.hstack(
            rx.icon("link", size=16, color="var(--teal-11)"),
            rx.cond(
                TeamState.link_kind == "password",
                rx.text("Link de nova senha para ", rx.text.strong(TeamState.invite_email), size="2"),
                rx.text(
                    "Convite para ",
                    rx.text.strong(TeamState.invite_email),
                    " (",
                    TeamState.invite_role,
                    ")",
                    size="2",
                ),
            ),
            rx.spacer(),
            rx.icon_button(
                rx.icon("x", size=14),
                variant="ghost",
                color_scheme="gray",
                size="1",
                on_click=[forget_secret(LINK_ID), TeamState.close_link],
                aria_label="Fechar",
            ),
            align="center",
            width="100%",
        ),
        rx.cond(
            TeamState.link_kind == "password",
            rx.text(
                "Envie este link só para a pessoa (WhatsApp, e-mail...): ela cria uma nova senha e as sessões "
                "abertas dela são encerradas. Vale por ",
                TeamState.invite_expires,
                " e uma vez só.",
                size="2",
                color_scheme="gray",
                id="password-link-explain",
            ),
            rx.text(
                rx.cond(
                    TeamState.invite_emailed,
                    "Enviamos o convite por e-mail. Se quiser, mande também este link (WhatsApp...). ",
                    "O envio de e-mail não está configurado (SMTP_URL): envie este link para a pessoa "
                    "(WhatsApp, e-mail...). ",
                ),
                "Ela cria a senha e entra na equipe. Vale até ",
                TeamState.invite_expires,
                " e só pode ser usado uma vez.",
                size="2",
                color_scheme="gray",
                id="invite-explain",
            ),
        ),
        rx.flex(
            one_time_secret(LINK_ID),
            rx.button(
                rx.icon("copy", size=16),
                "Copiar link",
                size="3",
                variant="soft",
                on_click=copy_secret(LINK_ID, "Link copiado."),
                id="invite-copy",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="2",
            width="100%",
        ),
        color="teal",
        shown=TeamState.link_shown,
        id_="invite-result",
    )


def _role_badge(role: rx.Var, label: rx.Var) -> rx.Component:
    return rx.badge(label, color_scheme=color_match(role, ROLE_COLORS), variant="soft", size="2")


def _member_actions(m: rx.Var) -> rx.Component:
    """Role select and (de)activate; an admin only sees an owner's badge."""
    editable = (m["role"] != "owner") | TeamState.can_manage_owners
    return rx.cond(
        editable & ~m["is_me"].to(bool),
        rx.hstack(
            rx.cond(
                m["is_active"],
                rx.select.root(
                    rx.select.trigger(width="150px", aria_label="Papel"),
                    rx.select.content(
                        rx.select.item("Vendedor", value="seller"),
                        rx.select.item("Administrador", value="admin"),
                        rx.cond(
                            TeamState.can_manage_owners,
                            rx.select.item("Proprietário", value="owner"),
                        ),
                    ),
                    value=m["role"].to(str),
                    on_change=lambda v: TeamState.set_role(m["user_id"].to(str), v),
                    disabled=TeamState.busy_id == m["user_id"],
                    size="2",
                ),
                _role_badge(m["role"], m["role_label"]),
            ),
            rx.cond(
                m["is_active"],
                rx.button(
                    rx.icon("key_round", size=14),
                    "Link de nova senha",
                    variant="soft",
                    color_scheme="gray",
                    size="2",
                    loading=TeamState.busy_id == m["user_id"],
                    on_click=TeamState.password_link(m["user_id"].to(str), m["email"].to(str)),
                    class_name="member-password-link",
                ),
            ),
            rx.cond(
                m["is_active"],
                confirm_dialog(
                    "Desativar acesso?",
                    "A pessoa sai do painel agora e não entra mais até ser reativada. "
                    "As conversas e o histórico continuam.",
                    rx.button(
                        "Desativar",
                        color_scheme="red",
                        on_click=TeamState.deactivate(m["user_id"].to(str)),
                        class_name="member-deactivate-confirm",
                    ),
                    trigger=rx.button(
                        "Desativar",
                        variant="soft",
                        color_scheme="red",
                        size="2",
                        loading=TeamState.busy_id == m["user_id"],
                        class_name="member-deactivate",
                    ),
                    max_width="420px",
                ),
                rx.button(
                    "Reativar",
                    variant="soft",
                    size="2",
                    loading=TeamState.busy_id == m["user_id"],
                    on_click=TeamState.reactivate(m["user_id"].to(str)),
                    class_name="member-reactivate",
                ),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        _role_badge(m["role"], m["role_label"]),
    )


def _member_row(m: rx.Var) -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.avatar(
                fallback=m["initials"].to(str),
                size="3",
                radius="full",
                color_scheme="teal",
                variant="soft",
            ),
            rx.box(
                rx.hstack(
                    rx.text(m["name"], weight="medium", size="2"),
                    rx.cond(m["is_me"], rx.badge("Você", size="1", variant="outline")),
                    rx.cond(~m["is_active"].to(bool), rx.badge("Desativado", size="1", color_scheme="red")),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text(m["email"], size="1", color_scheme="gray", word_break="break-all"),
                min_width="0",
            ),
            spacing="3",
            align="center",
            min_width="0",
            flex="1",
        ),
        _member_actions(m),
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="start", sm="center"),
        justify="between",
        spacing="3",
        padding_y="12px",
        border_bottom="1px solid var(--gray-a4)",
        width="100%",
        class_name="member-row",
        data_email=m["email"],
        opacity=rx.cond(m["is_active"], "1", "0.7"),
    )


def members_card() -> rx.Component:
    return section_card(
        "users",
        "Pessoas",
        "Quem entra no painel desta empresa.",
        rx.cond(
            TeamState.loaded,
            rx.box(rx.foreach(TeamState.members, _member_row), width="100%", id="members"),
            skeleton_rows(3, "48px", spacing="3"),
        ),
    )


def _invitation_row(inv: rx.Var) -> rx.Component:
    return rx.flex(
        rx.box(
            rx.text(inv["email"], weight="medium", size="2", word_break="break-all"),
            rx.hstack(
                _role_badge(inv["role"], inv["role_label"]),
                rx.cond(
                    inv["status"] == "expired",
                    rx.badge("Expirado", color_scheme="orange", size="1"),
                    rx.text("Vale até ", inv["expires"], size="1", color_scheme="gray"),
                ),
                _email_badge(inv),
                spacing="2",
                align="center",
                wrap="wrap",
                margin_top="4px",
            ),
            rx.cond(
                inv["email_status"] == "failed",
                rx.text(inv["email_error"], size="1", color_scheme="red", class_name="invitation-email-error"),
            ),
            min_width="0",
        ),
        rx.hstack(
            rx.button(
                rx.icon("refresh_cw", size=14),
                "Novo link",
                variant="soft",
                size="2",
                loading=TeamState.busy_id == inv["id"],
                on_click=TeamState.renew(inv["id"].to(str)),
                class_name="invitation-renew",
            ),
            rx.button(
                "Cancelar convite",
                variant="soft",
                color_scheme="gray",
                size="2",
                loading=TeamState.busy_id == inv["id"],
                on_click=TeamState.revoke(inv["id"].to(str)),
                class_name="invitation-revoke",
            ),
            spacing="2",
        ),
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="start", sm="center"),
        justify="between",
        spacing="3",
        padding_y="12px",
        border_bottom="1px solid var(--gray-a4)",
        width="100%",
        class_name="invitation-row",
    )


def _email_badge(inv: rx.Var) -> rx.Component:
    label = inv["email_label"]
    looks = {status: BadgeLook(color, label, icon) for status, (color, icon) in EMAIL_LOOKS.items()}
    return rx.cond(
        label != "",
        state_badge(
            inv["email_status"],
            looks,
            BadgeLook("gray", label, "mail"),
            variant="soft",
            size="1",
            class_name="invitation-email",
            data_status=inv["email_status"],
        ),
    )


def invitations_card() -> rx.Component:
    return section_card(
        "mail",
        "Convites pendentes",
        "Ainda não usados. “Novo link” gera outro (o anterior deixa de valer) e reenvia o e-mail.",
        rx.cond(
            TeamState.invitations.length() > 0,
            rx.box(rx.foreach(TeamState.invitations, _invitation_row), width="100%", id="invitations"),
            rx.text("Nenhum convite pendente.", size="2", color_scheme="gray", id="no-invitations"),
        ),
    )


def content() -> list[rx.Component]:
    return [
        invite_card(),
        members_card(),
        rx.cond(TeamState.loaded, invitations_card()),
    ]


PAGE = panel_route(
    "/equipe",
    "Equipe",
    "Quem da sua empresa usa o painel e recebe as conversas que o agente encaminha.",
    content,
    on_load=(TeamState.load,),
)
