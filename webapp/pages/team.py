"""Equipe: invite people (by e-mail when SMTP is set, always with a link), change roles, deactivate."""

from __future__ import annotations

import reflex as rx

from ..components import (
    BadgeLook,
    action_button,
    color_match,
    confirm_dialog,
    copy_secret,
    forget_secret,
    labeled,
    list_row,
    muted,
    one_time_secret,
    responsive_row,
    reveal_box,
    section_card,
    skeleton_rows,
    state_badge,
)
from ..states.team import LINK_ID, TeamState
from .panel import panel_route

ROLE_COLORS = {"owner": "teal", "admin": "indigo"}
EMAIL_LOOKS = {"sent": ("green", "mail_check"), "failed": ("red", "mail_x")}


def _role_items() -> list[rx.Component]:
    """The roles an invitation or a member can get (an owner only from another owner)."""
    return [rx.select.item("Vendedor", value="seller"), rx.select.item("Administrador", value="admin")]


def _row_button(label: str, row_id: rx.Var, class_name: str, *, icon: str = "", **props) -> rx.Component:
    """An action on a member or invitation row, spinning while any action runs on that row."""
    props = {"variant": "soft", "size": "2", "loading": TeamState.busy_id == row_id, "class_name": class_name, **props}
    return action_button(icon, label, icon_size=14, **props) if icon else rx.button(label, **props)


def invite_card() -> rx.Component:
    return section_card(
        "user_plus",
        "Convidar pessoa",
        "Vendedores veem só o Inbox e as conversas deles; administradores gerenciam tudo.",
        rx.el.form(
            responsive_row(
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
                        rx.select.content(*_role_items()),
                        name="role",
                        default_value="seller",
                        size="3",
                    ),
                    group=True,
                    width=rx.breakpoints(initial="100%", sm="200px"),
                ),
                action_button(
                    "send",
                    rx.cond(TeamState.email_enabled, "Enviar convite", "Gerar convite"),
                    type="submit",
                    size="3",
                    loading=TeamState.inviting,
                    id="invite-submit",
                ),
                narrow="stretch",
                wide="end",
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
            muted(
                "Envie este link só para a pessoa (WhatsApp, e-mail...): ela cria uma nova senha e as sessões "
                "abertas dela são encerradas. Vale por ",
                TeamState.invite_expires,
                " e uma vez só.",
                size="2",
                id="password-link-explain",
            ),
            muted(
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
                id="invite-explain",
            ),
        ),
        responsive_row(
            one_time_secret(LINK_ID),
            action_button(
                "copy",
                "Copiar link",
                size="3",
                variant="soft",
                on_click=copy_secret(LINK_ID, "Link copiado."),
                id="invite-copy",
            ),
            narrow=None,
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
                        *_role_items(),
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
                _row_button(
                    "Link de nova senha",
                    m["user_id"],
                    "member-password-link",
                    icon="key_round",
                    color_scheme="gray",
                    on_click=TeamState.password_link(m["user_id"].to(str), m["email"].to(str)),
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
                    trigger=_row_button("Desativar", m["user_id"], "member-deactivate", color_scheme="red"),
                    max_width="420px",
                ),
                _row_button(
                    "Reativar", m["user_id"], "member-reactivate", on_click=TeamState.reactivate(m["user_id"].to(str))
                ),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        _role_badge(m["role"], m["role_label"]),
    )


def _member_row(m: rx.Var) -> rx.Component:
    return list_row(
        rx.hstack(
            rx.avatar(fallback=m["initials"].to(str), size="3", radius="full", color_scheme="teal", variant="soft"),
            rx.box(
                rx.hstack(
                    rx.text(m["name"], weight="medium", size="2"),
                    rx.cond(m["is_me"], rx.badge("Você", size="1", variant="outline")),
                    rx.cond(~m["is_active"].to(bool), rx.badge("Desativado", size="1", color_scheme="red")),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                muted(m["email"], word_break="break-all"),
                min_width="0",
            ),
            spacing="3",
            align="center",
            min_width="0",
            flex="1",
        ),
        _member_actions(m),
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
    return list_row(
        rx.box(
            rx.text(inv["email"], weight="medium", size="2", word_break="break-all"),
            rx.hstack(
                _role_badge(inv["role"], inv["role_label"]),
                rx.cond(
                    inv["status"] == "expired",
                    rx.badge("Expirado", color_scheme="orange", size="1"),
                    muted("Vale até ", inv["expires"]),
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
            _row_button(
                "Novo link",
                inv["id"],
                "invitation-renew",
                icon="refresh_cw",
                on_click=TeamState.renew(inv["id"].to(str)),
            ),
            _row_button(
                "Cancelar convite",
                inv["id"],
                "invitation-revoke",
                color_scheme="gray",
                on_click=TeamState.revoke(inv["id"].to(str)),
            ),
            spacing="2",
        ),
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
            muted("Nenhum convite pendente.", size="2", id="no-invitations"),
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
