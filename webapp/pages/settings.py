"""Configurações: the user's own account for everyone; company, API keys and integrations for
owners and admins (sellers don't see those sections, and the runtime refuses them anyway)."""

from __future__ import annotations

import reflex as rx

from ..components import (
    action_button,
    copy_secret,
    forget_secret,
    form_stack,
    inline_form,
    labeled,
    list_row,
    muted,
    native_form,
    one_time_secret,
    responsive_row,
    reveal_box,
    section_card,
    skeleton_rows,
    submit_button,
    two_columns,
)
from ..states.settings import NEW_KEY_ID
from ..states.settings import SettingsState as S
from .panel import panel_route


def _text_input(name: str, id_: str, **props) -> rx.Component:
    return rx.input(name=name, size="3", id=id_, **props)


def _password_input(name: str, id_: str, auto_complete: str, **props) -> rx.Component:
    return _text_input(name, id_, type="password", auto_complete=auto_complete, required=True, **props)


# --- everyone -------------------------------------------------------------------------------


def account_section() -> rx.Component:
    return section_card(
        "circle_user",
        "Sua conta",
        "Como a equipe vê você no painel.",
        form_stack(
            two_columns(
                labeled(
                    "Nome", _text_input("name", "account-name", default_value=S.my_name, key=S.my_name, max_length=120)
                ),
                labeled(
                    "E-mail",
                    rx.input(value=S.my_email, read_only=True, disabled=True, size="3"),
                    "O e-mail é o seu login e não muda por aqui.",
                ),
            ),
            submit_button("Salvar", S.saving_account, "account-save"),
            on_submit=S.save_account,
        ),
        id="section-account",
    )


def password_section() -> rx.Component:
    return section_card(
        "key_round",
        "Senha",
        "Ao trocar a senha, você sai das outras sessões (outros navegadores e celulares).",
        form_stack(
            rx.cond(
                S.has_password,
                labeled("Senha atual", _password_input("current_password", "current-password", "current-password")),
                rx.callout(
                    "Sua conta entra com o Google. Defina uma senha para entrar também com e-mail.",
                    icon="info",
                    size="1",
                ),
            ),
            two_columns(
                labeled(
                    "Nova senha",
                    _password_input("new_password", "new-password", "new-password", min_length=8),
                    "Pelo menos 8 caracteres.",
                ),
                labeled(
                    "Confirme a nova senha",
                    _password_input("confirm_password", "confirm-password", "new-password", min_length=8),
                ),
            ),
            submit_button("Alterar senha", S.saving_password, "password-save"),
            on_submit=S.save_password,
            id="password-form",
        ),
        id="section-password",
    )


def google_section() -> rx.Component:
    linked = rx.flex(
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
            loading=S.unlinking,
            on_click=S.unlink_google,
            id="google-unlink",
        ),
        justify="between",
        align="center",
        wrap="wrap",
        spacing="3",
        width="100%",
    )
    link = native_form(
        rx.button(
            rx.image(src="/google.svg", width="16px", height="16px", alt=""),
            "Vincular conta Google",
            type="submit",
            variant="outline",
            color_scheme="gray",
            id="google-link",
        ),
        action="/auth/google/link",
    )
    unavailable = muted("O login com Google não está configurado neste servidor.", size="2", id="google-status")
    return section_card(
        "log_in",
        "Login com Google",
        "Entre no painel com a sua conta Google, sem digitar senha.",
        rx.cond(S.google_linked, linked, rx.cond(S.google_available, link, unavailable)),
        id="section-google",
    )


# --- owners and admins ----------------------------------------------------------------------


def _timezone_select() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="100%", id="company-timezone"),
        rx.select.content(
            rx.foreach(
                S.timezones,
                lambda tz: rx.select.item(tz.to(str).replace("America/", "").replace("_", " "), value=tz),
            )
        ),
        name="timezone",
        default_value=S.company_timezone,
        key=S.company_timezone,
        size="3",
    )


def company_section() -> rx.Component:
    name = _text_input(
        "company_name", "company-name", default_value=S.company_name, key=S.company_name, required=True, max_length=120
    )
    return section_card(
        "building_2",
        "Empresa",
        "O nome aparece no painel; o fuso horário vale para o horário de atendimento e os relatórios.",
        form_stack(
            two_columns(labeled("Nome da empresa", name), labeled("Fuso horário", _timezone_select())),
            submit_button("Salvar", S.saving_company, "company-save"),
            on_submit=S.save_company,
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
                rx.text.strong(S.new_key_name),
                " agora: por segurança ela não será mostrada de novo.",
                size="2",
            ),
            align="center",
            spacing="2",
        ),
        responsive_row(
            one_time_secret(NEW_KEY_ID, font_family="var(--code-font-family)"),
            action_button(
                "copy",
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
                on_click=[forget_secret(NEW_KEY_ID), S.hide_key],
                id="new-api-key-done",
            ),
            narrow=None,
            spacing="2",
            width="100%",
        ),
        muted("Use no cabeçalho Authorization: Bearer <chave> da API (/api/v1)."),
        color="amber",
        shown=S.key_shown,
        id_="new-api-key-callout",
    )


def _key_row(k: rx.Var) -> rx.Component:
    revoke = rx.button(
        "Revogar",
        variant="soft",
        color_scheme="red",
        size="2",
        loading=S.revoking_id == k["id"],
        on_click=S.revoke_key(k["id"].to(str)),
        class_name="api-key-revoke",
    )
    return list_row(
        rx.box(
            rx.hstack(
                rx.text(k["name"], weight="medium", size="2"),
                rx.cond(k["revoked"], rx.badge("Revogada", color_scheme="red", size="1")),
                spacing="2",
                align="center",
            ),
            muted(
                rx.code(k["prefix"].to(str) + "…", variant="ghost"),
                " · criada em ",
                k["created"],
                " · último uso: ",
                k["last_used"],
            ),
            min_width="0",
        ),
        rx.cond(~k["revoked"].to(bool), revoke),
        class_name="api-key-row",
        opacity=rx.cond(k["revoked"], "0.6", "1"),
    )


def api_keys_section() -> rx.Component:
    return section_card(
        "key",
        "Chaves de API",
        "Para integrar outros sistemas (CRM, site, planilhas) com a API do PilotoDeVendas.",
        inline_form(
            _text_input(
                "key_name",
                "api-key-name",
                placeholder="Nome da chave (ex.: Integração com o CRM)",
                required=True,
                max_length=120,
                width="100%",
            ),
            action_button("plus", "Criar chave", type="submit", size="3", loading=S.creating_key, id="api-key-create"),
            on_submit=S.create_key,
            reset_on_submit=True,
        ),
        _new_key_callout(),
        rx.cond(
            S.api_keys.length() > 0,
            rx.box(rx.foreach(S.api_keys, _key_row), width="100%", id="api-keys"),
            muted("Nenhuma chave criada.", size="2", id="no-api-keys"),
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
        rx.box(rx.text(item["name"], weight="medium", size="2"), muted(item["detail"]), min_width="0"),
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
        rx.box(rx.foreach(S.integrations, _integration_row), width="100%", id="integrations"),
        id="section-integrations",
    )


def content() -> list[rx.Component]:
    managers = rx.vstack(company_section(), api_keys_section(), integrations_section(), spacing="5", width="100%")
    everyone = rx.vstack(
        account_section(),
        password_section(),
        google_section(),
        rx.cond(S.is_manager, managers),
        spacing="5",
        width="100%",
    )
    return [rx.cond(S.loaded, everyone, skeleton_rows(3, "140px", spacing="4"))]


PAGE = panel_route(
    "/configuracoes",
    "Configurações",
    "Os dados da sua empresa, as chaves de API e a sua conta.",
    content,
    on_load=(S.load,),
)
