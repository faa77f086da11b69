"""Canais: connect WhatsApp numbers (one form per provider), copy the webhook URL and verify token,
send a test message, and see each channel's status (last event, last error)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime.panel.channels import PROVIDER_FORMS, SETUP_HINTS

from ..components import (
    BadgeLook,
    action_button,
    callout,
    confirm_dialog,
    dialog_buttons,
    empty_state,
    form_dialog,
    form_stack,
    icon_tile,
    muted,
    responsive_row,
    state_badge,
)
from ..states.channels import ChannelRow, ChannelsState, CredentialRow
from .panel import panel_route

STATUS_ICONS = {"green": "circle_check", "red": "circle_alert", "amber": "clock"}
SELECT_STYLE = {
    "width": "100%",
    "height": "40px",
    "padding": "0 10px",
    "border_radius": "var(--radius-2)",
    "border": "1px solid var(--gray-a7)",
    "background": "var(--color-surface)",
    "color": "var(--gray-12)",
    "font_size": "var(--font-size-2)",
}


# --- small widgets ---------------------------------------------------------------------------


def _stacked(caption: rx.Component, control: rx.Component, *below: rx.Component) -> rx.Component:
    """The connect and edit forms' field: caption, control and help in a column."""
    return rx.el.label(caption, control, *below, display="flex", flex_direction="column", gap="6px", width="100%")


def form_field(
    label: str, name: str, *, help_text: str = "", type_: str = "text", required: bool = False, **props
) -> rx.Component:
    return _stacked(
        rx.hstack(
            rx.text(label, size="2", weight="medium"),
            rx.text("*", size="2", color="var(--red-10)") if required else rx.fragment(),
            spacing="1",
        ),
        rx.input(name=name, type=type_, size="2", width="100%", required=required, **props),
        muted(help_text) if help_text else rx.fragment(),
    )


def agent_select(default: Any = None) -> rx.Component:
    first = rx.cond(ChannelsState.agents.length() > 0, ChannelsState.agents[0].id, "none")
    return _stacked(
        rx.text("Agente que atende este número", size="2", weight="medium"),
        rx.el.select(
            rx.el.option("Nenhum (o canal só recebe mensagens)", value="none"),
            rx.foreach(ChannelsState.agents, lambda a: rx.el.option(a.name, value=a.id)),
            name="agent_id",
            default_value=default if default is not None else first,
            style=SELECT_STYLE,
        ),
    )


def copy_field(label: str, shown: rx.Var[str], channel_id: rx.Var[str], what: str, kind: str) -> rx.Component:
    """A setup value printed with its secret masked; the button copies it whole (from the server)."""
    return rx.vstack(
        muted(label, weight="medium"),
        rx.hstack(
            rx.code(
                shown,
                size="2",
                variant="soft",
                color_scheme="gray",
                word_break="break_all",
                padding="8px 10px",
                flex="1",
                min_width="0",
                data_copy=kind,
            ),
            rx.tooltip(
                rx.icon_button(
                    rx.icon("copy", size=16),
                    on_click=ChannelsState.copy_setup(channel_id, kind),
                    variant="soft",
                    size="2",
                    aria_label=f"Copiar {what.lower()}",
                    data_copy_button=kind,
                ),
                content="Copiar",
            ),
            align="center",
            spacing="2",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def status_badge(status: rx.Var[str], color: rx.Var[str]) -> rx.Component:
    """The service's status text, in the colour (and with the icon) the service chose."""
    looks = {c: BadgeLook(c, status, icon) for c, icon in STATUS_ICONS.items()}
    return state_badge(color, looks, BadgeLook("gray", status, "circle_pause"), variant="soft", size="2", radius="full")


# --- connect dialog ----------------------------------------------------------------------------


def provider_form(form: dict[str, Any]) -> rx.Component:
    provider = form["provider"]
    fields: list[rx.Component] = [
        form_field("Nome do canal", "name", required=True, placeholder="Ex.: WhatsApp da loja", max_length=120),
    ]
    if form["asks_phone"]:
        fields.append(
            form_field(
                "Número do WhatsApp",
                "phone_number",
                type_="tel",
                placeholder="+55 11 99999-8888",
                help_text="Opcional: só para você reconhecer o canal na lista.",
            )
        )
    for f in form["fields"]:
        fields.append(
            form_field(
                f["label"],
                f["key"],
                type_="password" if f["secret"] else "text",
                required=f["required"],
                help_text=f["help"],
                auto_complete="off",
            )
        )
    if form["api_base_url_required"]:
        fields.append(
            form_field(
                "Endereço do servidor Evolution",
                "api_base_url",
                type_="url",
                required=True,
                placeholder="https://evolution.suaempresa.com.br",
            )
        )
    else:
        fields.append(
            form_field(
                "Endereço da API (avançado)",
                "api_base_url",
                type_="url",
                placeholder=form["default_api_base_url"],
                help_text="Deixe em branco para usar o endereço oficial do provedor.",
            )
        )
    fields.append(agent_select())
    return rx.el.form(
        rx.el.input(type="hidden", name="provider", value=provider),
        rx.vstack(
            callout("info", form["description"], color="teal", variant="surface"),
            *fields,
            dialog_buttons(
                action_button(
                    "plug", "Conectar", type="submit", loading=ChannelsState.saving, id=f"connect-submit-{provider}"
                ),
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=ChannelsState.connect,
        id=f"connect-form-{provider}",
        width="100%",
    )


def connect_dialog() -> rx.Component:
    return form_dialog(
        "Conectar um número de WhatsApp",
        (
            "Escolha o provedor que você usa e preencha os dados de acesso. Eles ficam guardados "
            "criptografados e nunca são mostrados de volta."
        ),
        rx.tabs.root(
            rx.tabs.list(
                *[
                    rx.tabs.trigger(f["label"], value=f["provider"], id=f"provider-tab-{f['provider']}")
                    for f in PROVIDER_FORMS
                ],
                overflow_x="auto",
            ),
            *[rx.tabs.content(provider_form(f), value=f["provider"], padding_top="16px") for f in PROVIDER_FORMS],
            value=ChannelsState.connect_provider,
            on_change=ChannelsState.set_connect_provider,
            width="100%",
        ),
        open=ChannelsState.connect_open,
        on_open_change=ChannelsState.set_connect_open,
        max_width="560px",
        id="connect-dialog",
    )


# --- edit, test, delete dialogs ------------------------------------------------------------------


def _edit_credentials(form: dict[str, Any]) -> rx.Component:
    return rx.vstack(
        *[
            form_field(
                f["label"],
                f["key"],
                type_="password" if f["secret"] else "text",
                placeholder="configurado — deixe em branco para manter",
                auto_complete="off",
            )
            for f in form["fields"]
        ],
        spacing="4",
        width="100%",
    )


def edit_dialog() -> rx.Component:
    e = ChannelsState.editing
    return form_dialog(
        "Editar canal",
        (
            "Campos de acesso em branco mantêm o valor guardado, menos quando o endereço da API muda: "
            "aí digite as credenciais de novo."
        ),
        form_stack(
            form_field("Nome do canal", "name", required=True, default_value=e.name, max_length=120),
            rx.cond(
                e.asks_phone,
                form_field("Número do WhatsApp", "phone_number", type_="tel", default_value=e.phone),
            ),
            rx.match(
                e.provider,
                *[(f["provider"], _edit_credentials(f)) for f in PROVIDER_FORMS],
                rx.fragment(),
            ),
            form_field(
                "Endereço da API",
                "api_base_url",
                type_="url",
                default_value=e.custom_api_base_url,
                placeholder=e.api_base_url,
                help_text=(
                    "Em branco: o endereço oficial do provedor. Mudou de servidor? Digite também as "
                    "credenciais de acesso: as salvas só vão para o servidor onde foram cadastradas."
                ),
            ),
            agent_select(rx.cond(e.agent_id != "", e.agent_id, "none")),
            dialog_buttons(rx.button("Salvar", type="submit", loading=ChannelsState.saving, id="edit-submit")),
            on_submit=ChannelsState.save_edit,
            id="edit-form",
            key=e.id,
        ),
        open=ChannelsState.edit_open,
        on_open_change=ChannelsState.set_edit_open,
        max_width="520px",
    )


def test_dialog() -> rx.Component:
    return form_dialog(
        "Enviar mensagem de teste",
        rx.fragment(
            rx.text.span("Pelo canal "),
            rx.text.strong(ChannelsState.test_channel_name),
            rx.text.span(". Use um número seu para conferir se chegou."),
        ),
        form_stack(
            form_field(
                "Enviar para",
                "to",
                type_="tel",
                required=True,
                placeholder="+55 11 99999-8888",
                auto_focus=True,
            ),
            _stacked(
                rx.text("Mensagem", size="2", weight="medium"),
                rx.text_area(
                    name="text",
                    placeholder="Mensagem de teste do PilotoDeVendas: seu canal está funcionando. ✅",
                    rows="3",
                    max_length=1000,
                    width="100%",
                ),
            ),
            rx.cond(
                ChannelsState.test_window_note,
                callout(
                    "info",
                    "Na API oficial, texto livre só é entregue a quem falou com a empresa nas "
                    "últimas 24 horas. Mande um “oi” do seu celular antes.",
                    color="amber",
                ),
            ),
            dialog_buttons(
                action_button("send", "Enviar teste", type="submit", loading=ChannelsState.sending, id="test-send"),
            ),
            on_submit=ChannelsState.send_test,
            id="test-form",
        ),
        open=ChannelsState.test_open,
        on_open_change=ChannelsState.set_test_open,
        max_width="480px",
    )


def delete_dialog() -> rx.Component:
    return confirm_dialog(
        "Excluir canal?",
        rx.fragment(
            rx.text.span("O canal "),
            rx.text.strong(ChannelsState.delete_channel_name),
            rx.text.span(
                " deixa de receber e enviar mensagens. As conversas continuam no Inbox. Isso não pode ser desfeito."
            ),
        ),
        rx.button("Excluir", color_scheme="red", on_click=ChannelsState.confirm_delete, id="delete-confirm"),
        closes=False,
        open=ChannelsState.delete_open,
        on_open_change=ChannelsState.set_delete_open,
    )


# --- the list ------------------------------------------------------------------------------------


def credential_chip(c: CredentialRow) -> rx.Component:
    return rx.hstack(
        muted(c.label),
        rx.text(c.value, size="1", weight="medium"),
        spacing="1",
        padding="4px 8px",
        border_radius="6px",
        background="var(--gray-a3)",
        data_credential=c.key,
    )


def channel_card(c: ChannelRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            responsive_row(
                rx.hstack(
                    icon_tile("message_circle", large=True),
                    rx.box(
                        rx.text(c.name, size="4", weight="bold", class_name="channel-name"),
                        rx.hstack(
                            rx.badge(c.provider_label, variant="outline", color_scheme="gray"),
                            rx.cond(c.phone != "", muted(c.phone, size="2")),
                            spacing="2",
                            align="center",
                            wrap="wrap",
                        ),
                        min_width="0",
                    ),
                    spacing="3",
                    align="center",
                ),
                rx.spacer(),
                rx.hstack(
                    status_badge(c.status, c.status_color),
                    rx.tooltip(
                        rx.switch(
                            checked=c.is_active,
                            on_change=lambda value: ChannelsState.toggle_active(c.id, value),
                            aria_label="Canal ativo",
                            class_name="channel-active",
                        ),
                        content=rx.cond(c.is_active, "Desativar canal", "Ativar canal"),
                    ),
                    spacing="3",
                    align="center",
                ),
                spacing="3",
                width="100%",
            ),
            rx.flex(
                rx.hstack(
                    rx.icon("activity", size=14, color="var(--gray-10)"),
                    muted("Último evento recebido: ", size="2"),
                    rx.text(c.last_event_ago, size="2", weight="medium", class_name="channel-last-event"),
                    spacing="1",
                    align="center",
                ),
                rx.hstack(
                    rx.icon("bot", size=14, color="var(--gray-10)"),
                    muted("Agente: ", size="2"),
                    rx.text(rx.cond(c.agent_name != "", c.agent_name, "nenhum"), size="2", weight="medium"),
                    spacing="1",
                    align="center",
                ),
                spacing="5",
                wrap="wrap",
                row_gap="8px",
            ),
            rx.cond(
                c.last_error != "",
                callout(
                    "triangle_alert",
                    rx.text.strong("Último erro: "),
                    c.last_error,
                    color="red",
                    class_name="channel-last-error",
                ),
            ),
            rx.box(
                rx.vstack(
                    copy_field("Endereço do webhook", c.webhook_url_shown, c.id, "Endereço do webhook", "webhook"),
                    rx.cond(
                        c.verify_token_shown != "",
                        copy_field(
                            "Token de verificação", c.verify_token_shown, c.id, "Token de verificação", "verify-token"
                        ),
                    ),
                    rx.cond(
                        c.offers_webhook_header,
                        rx.vstack(
                            muted("Ou, para o segredo ficar fora dos logs: o endereço sem o segredo e este cabeçalho."),
                            copy_field("Endereço sem o segredo", c.webhook_base_url, c.id, "Endereço", "webhook-base"),
                            copy_field(
                                "Cabeçalho " + c.webhook_header_name,
                                c.webhook_header_value_shown,
                                c.id,
                                "Valor do cabeçalho",
                                "webhook-header",
                            ),
                            spacing="2",
                            width="100%",
                        ),
                    ),
                    muted(
                        rx.match(c.provider, *SETUP_HINTS.items(), ""),
                        rx.cond(
                            (c.verify_token_shown != "") | c.webhook_url_shown.contains("•"),
                            " O segredo aparece mascarado: use o botão de copiar, que leva o valor completo.",
                            "",
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
                padding="12px",
                border="1px dashed var(--gray-a6)",
                border_radius="10px",
                width="100%",
            ),
            rx.flex(rx.foreach(c.credentials, credential_chip), spacing="2", wrap="wrap"),
            rx.separator(size="4"),
            rx.flex(
                action_button(
                    "send",
                    "Enviar mensagem de teste",
                    on_click=ChannelsState.open_test(c.id),
                    disabled=~c.is_active,
                    class_name="channel-test",
                ),
                action_button(
                    "pencil",
                    "Editar",
                    variant="soft",
                    color_scheme="gray",
                    on_click=ChannelsState.open_edit(c.id),
                    class_name="channel-edit",
                ),
                rx.spacer(),
                action_button(
                    "trash_2",
                    "Excluir",
                    variant="ghost",
                    color_scheme="red",
                    on_click=ChannelsState.open_delete(c.id),
                    class_name="channel-delete",
                ),
                spacing="3",
                wrap="wrap",
                width="100%",
                align="center",
            ),
            spacing="4",
            width="100%",
        ),
        size="3",
        width="100%",
        class_name="channel-card",
        data_channel_id=c.id,
        border=rx.cond(c.id == ChannelsState.just_connected, "1px solid var(--teal-8)", "none"),
    )


def connect_button(id_: str = "connect-open") -> rx.Component:
    return action_button("plus", "Conectar canal", on_click=ChannelsState.open_connect, id=id_, size="3")


def loading() -> rx.Component:
    return rx.vstack(
        *[rx.skeleton(rx.box(height="220px", width="100%"), loading=True, width="100%") for _ in range(2)],
        spacing="4",
        width="100%",
    )


def content() -> list[rx.Component]:
    return [
        rx.cond(
            ChannelsState.loaded,
            rx.cond(
                ChannelsState.channels.length() > 0,
                rx.vstack(
                    rx.flex(
                        muted(
                            rx.cond(
                                ChannelsState.channels.length() == 1,
                                "1 canal conectado",
                                ChannelsState.channels.length().to_string() + " canais conectados",
                            ),
                            size="2",
                        ),
                        rx.spacer(),
                        connect_button(),
                        align="center",
                        width="100%",
                        spacing="3",
                    ),
                    rx.foreach(ChannelsState.channels, channel_card),
                    spacing="4",
                    width="100%",
                    id="channel-list",
                ),
                empty_state(
                    "radio_tower",
                    "Nenhum canal conectado",
                    "Conecte o número de WhatsApp da empresa pela API oficial da Meta, Evolution, Z-API ou "
                    "Twilio para o seu vendedor de IA começar a atender.",
                    connect_button("connect-open-empty"),
                ),
            ),
            loading(),
        ),
        connect_dialog(),
        edit_dialog(),
        test_dialog(),
        delete_dialog(),
    ]


PAGE = panel_route(
    "/canais",
    "Canais",
    "Por onde os clientes falam com a sua empresa.",
    content,
    on_load=(ChannelsState.load,),
)
