"""Configurações: the user's own account for everyone; company, API keys and integrations for
owners and admins (sellers don't see those sections, and the runtime refuses them anyway)."""

from __future__ import annotations

import reflex as rx

from ..components import (
    copy_secret,
    forget_secret,
    labeled,
    native_form,
    one_time_secret,
    reveal_box,
    section_card,
    two_columns,
)
from ..states.settings import NEW_KEY_ID, SettingsState
from .panel import panel_route

# --- everyone -------------------------------------------------------------------------------


def account_section() -> rx.Component:
    return section_card(
        "circle_user",
        "Sua conta",
        "Como a equipe vê você no painel.",
        rx.el.form(
            rx.vstack(
                two_columns(
                    labeled(
                        "Nome",
                        rx.input(
                            name="name",
                            default_value=SettingsState.my_name,
                            key=SettingsState.my_name,
                            max_length=120,
                            size="3",
                            id="account-name",
                        ),
                    ),
                    labeled(
                        "E-mail",
                        rx.input(value=SettingsState.my_email, read_only=True, disabled=True, size="3"),
                        "O e-mail é o seu login e não muda por aqui.",
                    ),
                ),
                rx.button("Salvar", type="submit", loading=SettingsState.saving_account, id="account-save"),
                spacing="4",
                align="start",
                width="100%",
            ),
            on_submit=SettingsState.save_account,
            width="100%",
        ),
        id="section-account",
    )


def password_section() -> rx.Component:
    return section_card(
        "key_round",
        "Senha",
        "Ao trocar a senha, você sai das outras sessões (outros navegadores e celulares).",
        rx.el.form(
            rx.vstack(
                rx.cond(
                    SettingsState.has_password,
                    labeled(
                        "Senha atual",
                        rx.input(
                            name="current_password",
                            type="password",
                            auto_complete="current-password",
                            required=True,
                            size="3",
                            id="current-password",
                        ),
                    ),
                    rx.callout(
                        "Sua conta entra com o Google. Defina uma senha para entrar também com e-mail.",
                        icon="info",
                        size="1",
                    ),
                ),
                two_columns(
                    labeled(
                        "Nova senha",
                        rx.input(
                            name="new_password",
                            type="password",
                            auto_complete="new-password",
                            required=True,
                            min_length=8,
                            size="3",
                            id="new-password",
                        ),
                        "Pelo menos 8 caracteres.",
                    ),
                    labeled(
                        "Confirme a nova senha",
                        rx.input(
                            name="confirm_password",
                            type="password",
                            auto_complete="new-password",
                            required=True,
                            min_length=8,
                            size="3",
                            id="confirm-password",
                        ),
                    ),
                ),
                rx.button("Alterar senha", type="submit", loading=SettingsState.saving_password, id="password-save"),
                spacing="4",
                align="start",
                width="100%",
            ),
            on_submit=SettingsState.save_password,
            width="100%",
            id="password-form",
        ),
        id="section-password",
    )


def google_section() -> rx.Component:
    return section_card(
        "log_in",
        "Login com Google",
        "Entre no painel com a sua conta Google, sem digitar senha.",
        rx.cond(
            SettingsState.google_linked,
            rx.flex(
                rx.hstack(
                    rx.icon("circle_check", size=18, color="var(--green-10)"),
                    rx.text("Conta Google vinculada.", size="2", id="google-status"),
                    align="center",
                    spacing="2",
                ),
                rx.button(
                    "Desvincular",
                    variant="soft",
                    color_scheme="gray",
                    loading=SettingsState.unlinking,
                    on_click=SettingsState.unlink_google,
                    id="google-unlink",
                ),
                justify="between",
                align="center",
                wrap="wrap",
                spacing="3",
                width="100%",
            ),
            rx.cond(
                SettingsState.google_available,
                native_form(
                    rx.button(
                        rx.image(src="/google.svg", width="16px", height="16px", alt=""),
                        "Vincular conta Google",
                        type="submit",
                        variant="outline",
                        color_scheme="gray",
                        id="google-link",
                    ),
                    action="/auth/google/link",
                ),
                rx.text(
                    "O login com Google não está configurado neste servidor.",
                    size="2",
                    color_scheme="gray",
                    id="google-status",
                ),
            ),
        ),
        id="section-google",
    )


# --- owners and admins ----------------------------------------------------------------------


def company_section() -> rx.Component:
    return section_card(
        "building_2",
        "Empresa",
        "O nome aparece no painel; o fuso horário vale para o horário de atendimento e os relatórios.",
        rx.el.form(
            rx.vstack(
                two_columns(
                    labeled(
                        "Nome da empresa",
                        rx.input(
                            name="company_name",
                            default_value=SettingsState.company_name,
                            key=SettingsState.company_name,
                            required=True,
                            max_length=120,
                            size="3",
                            id="company-name",
                        ),
                    ),
                    labeled(
                        "Fuso horário",
                        rx.select.root(
                            rx.select.trigger(width="100%", id="company-timezone"),
                            rx.select.content(
                                rx.foreach(
                                    SettingsState.timezones,
                                    lambda tz: rx.select.item(
                                        tz.to(str).replace("America/", "").replace("_", " "), value=tz
                                    ),
                                )
                            ),
                            name="timezone",
                            default_value=SettingsState.company_timezone,
                            key=SettingsState.company_timezone,
                            size="3",
                        ),
                    ),
                ),
                rx.button("Salvar", type="submit", loading=SettingsState.saving_company, id="company-save"),
                spacing="4",
                align="start",
                width="100%",
            ),
            on_submit=SettingsState.save_company,
            width="100%",
        ),
        id="section-company",
    )


def _new_key_callout() -> rx.Component:
    """Always mounted, hidden until a key is created: the key is revealed into its input."""
    return reveal_box(
        rx.hstack(
            rx.icon("triangle_alert", size=16, color="var(--amber-11)"),
            rx.text(
                "Copie a chave ",
                rx.text.strong(SettingsState.new_key_name),
                " agora: por segurança ela não será mostrada de novo.",
                size="2",
            ),
            align="center",
            spacing="2",
        ),
        rx.flex(
            one_time_secret(NEW_KEY_ID, font_family="var(--code-font-family)"),
            rx.button(
                rx.icon("copy", size=16),
                "Copiar",
                size="3",
                variant="soft",
                on_click=copy_secret(NEW_KEY_ID, "Chave copiada."),
                id="new-api-key-copy",
            ),
            rx.button(
                "Já copiei",
                size="3",
                variant="ghost",
                color_scheme="gray",
                on_click=[forget_secret(NEW_KEY_ID), SettingsState.hide_key],
                id="new-api-key-done",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="2",
            width="100%",
        ),
        rx.text("Use no cabeçalho Authorization: Bearer <chave> da API (/api/v1).", size="1", color_scheme="gray"),
        color="amber",
        shown=SettingsState.key_shown,
        id_="new-api-key-callout",
    )


def _key_row(k: rx.Var) -> rx.Component:
    return rx.flex(
        rx.box(
            rx.hstack(
                rx.text(k["name"], weight="medium", size="2"),
                rx.cond(k["revoked"], rx.badge("Revogada", color_scheme="red", size="1")),
                spacing="2",
                align="center",
            ),
            rx.text(
                rx.code(k["prefix"].to(str) + "…", variant="ghost"),
                " · criada em ",
                k["created"],
                " · último uso: ",
                k["last_used"],
                size="1",
                color_scheme="gray",
            ),
            min_width="0",
        ),
        rx.cond(
            ~k["revoked"].to(bool),
            rx.button(
                "Revogar",
                variant="soft",
                color_scheme="red",
                size="2",
                loading=SettingsState.revoking_id == k["id"],
                on_click=SettingsState.revoke_key(k["id"].to(str)),
                class_name="api-key-revoke",
            ),
        ),
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="start", sm="center"),
        justify="between",
        spacing="3",
        padding_y="12px",
        border_bottom="1px solid var(--gray-a4)",
        width="100%",
        class_name="api-key-row",
        opacity=rx.cond(k["revoked"], "0.6", "1"),
    )


def api_keys_section() -> rx.Component:
    return section_card(
        "key",
        "Chaves de API",
        "Para integrar outros sistemas (CRM, site, planilhas) com a API do PilotoDeVendas.",
        rx.el.form(
            rx.flex(
                rx.input(
                    name="key_name",
                    placeholder="Nome da chave (ex.: Integração com o CRM)",
                    required=True,
                    max_length=120,
                    size="3",
                    width="100%",
                    id="api-key-name",
                ),
                rx.button(
                    rx.icon("plus", size=16),
                    "Criar chave",
                    type="submit",
                    size="3",
                    loading=SettingsState.creating_key,
                    id="api-key-create",
                ),
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="2",
                width="100%",
            ),
            on_submit=SettingsState.create_key,
            reset_on_submit=True,
            width="100%",
        ),
        _new_key_callout(),
        rx.cond(
            SettingsState.api_keys.length() > 0,
            rx.box(rx.foreach(SettingsState.api_keys, _key_row), width="100%", id="api-keys"),
            rx.text("Nenhuma chave criada.", size="2", color_scheme="gray", id="no-api-keys"),
        ),
        id="section-api-keys",
    )


def _integration_row(item: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.cond(
            item["ok"],
            rx.icon("circle_check", size=18, color="var(--green-10)"),
            rx.icon("circle_dashed", size=18, color="var(--gray-9)"),
        ),
        rx.box(
            rx.text(item["name"], weight="medium", size="2"),
            rx.text(item["detail"], size="1", color_scheme="gray"),
            min_width="0",
        ),
        rx.spacer(),
        rx.badge(
            rx.cond(item["ok"], "Ativo", "Não configurado"),
            color_scheme=rx.cond(item["ok"], "green", "gray"),
            variant="soft",
            flex_shrink="0",
        ),
        align="center",
        spacing="3",
        padding_y="10px",
        border_bottom="1px solid var(--gray-a4)",
        width="100%",
        class_name="integration-row",
    )


def integrations_section() -> rx.Component:
    return section_card(
        "plug",
        "Integrações",
        "O que está configurado neste servidor e nos seus agentes. As chaves nunca são mostradas.",
        rx.box(rx.foreach(SettingsState.integrations, _integration_row), width="100%", id="integrations"),
        id="section-integrations",
    )


def content() -> list[rx.Component]:
    loading = rx.vstack(*[rx.skeleton(height="140px", width="100%") for _ in range(3)], spacing="4", width="100%")
    return [
        rx.cond(
            SettingsState.loaded,
            rx.vstack(
                account_section(),
                password_section(),
                google_section(),
                rx.cond(
                    SettingsState.is_manager,
                    rx.vstack(
                        company_section(),
                        api_keys_section(),
                        integrations_section(),
                        spacing="5",
                        width="100%",
                    ),
                ),
                spacing="5",
                width="100%",
            ),
            loading,
        )
    ]


PAGE = panel_route(
    "/configuracoes",
    "Configurações",
    "Os dados da sua empresa, as chaves de API e a sua conta.",
    content,
    on_load=(SettingsState.load,),
)
