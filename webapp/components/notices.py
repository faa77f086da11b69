"""What every panel page says above its title about the account: confirm your e-mail (with
"reenviar"), and, once after that sign-in, what a Google takeover ended."""

from __future__ import annotations

import reflex as rx

from .callouts import callout


def email_confirmation_banner() -> rx.Component:
    from ..states.email_confirmation import EmailConfirmationState as S

    return rx.cond(
        S.confirm_needed,
        rx.callout.root(
            rx.flex(
                rx.hstack(
                    rx.icon("mail", size=16, flex_shrink="0"),
                    rx.text(S.confirm_text, size="2"),
                    spacing="2",
                    align="center",
                ),
                rx.cond(
                    S.confirm_button != "",
                    rx.button(
                        S.confirm_button,
                        size="1",
                        variant="soft",
                        color_scheme="amber",
                        loading=S.confirm_sending,
                        on_click=S.resend,
                        flex_shrink="0",
                        id="email-confirm-resend",
                    ),
                ),
                rx.cond(
                    S.confirm_href != "",
                    rx.link("Abrir Configurações", href=S.confirm_href, size="2", weight="medium", flex_shrink="0"),
                ),
                flex_direction=["column", "row"],
                align_items=["flex-start", "center"],
                justify="between",
                gap="2",
                width="100%",
            ),
            color_scheme="amber",
            variant="surface",
            size="1",
            width="100%",
            role="status",
            id="email-confirm-banner",
        ),
    )


def takeover_notice() -> rx.Component:
    from ..states.email_confirmation import EmailConfirmationState as S

    return rx.cond(
        S.takeover_notice != "",
        callout("shield_check", S.takeover_notice, color="blue", role="status", id="takeover-notice"),
    )


def account_notices() -> rx.Component:
    return rx.fragment(takeover_notice(), email_confirmation_banner())
