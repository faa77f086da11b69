"""Canais page state: the list, the connect / edit / test-message / delete dialogs. Thin: every
rule is runtime.panel.channels'."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from runtime.panel import channels as svc

from ..state import PanelState
from .service_call import service_call


@dataclass
class CredentialRow:
    key: str = ""
    label: str = ""
    value: str = ""  # "configurado" / a shortened identifier; never a secret


@dataclass
class ChannelRow:
    id: str = ""
    provider: str = ""
    provider_label: str = ""
    name: str = ""
    phone: str = ""
    is_active: bool = True
    status: str = ""
    status_color: str = "gray"
    last_event_ago: str = ""
    last_error: str = ""
    webhook_url_shown: str = ""  # secrets masked: the whole values stay in ChannelsState._setup
    verify_token_shown: str = ""
    webhook_base_url: str = ""  # the address without the secret (it travels in the header instead)
    webhook_header_name: str = ""
    webhook_header_value_shown: str = ""
    api_base_url: str = ""
    custom_api_base_url: str = ""
    agent_id: str = ""
    agent_name: str = ""
    has_service_window: bool = False
    asks_phone: bool = True  # the number shown is typed in (Twilio's is its sender credential)
    offers_webhook_header: bool = False  # the provider itself can send the secret as a header
    credentials: list[CredentialRow] = field(default_factory=list)


@dataclass
class AgentChoice:
    id: str = ""
    name: str = ""


# What the card's copy buttons copy: the view's key and the toast's name for it.
SETUP_VALUES = {
    "webhook": ("webhook_url", "Endereço do webhook"),
    "verify-token": ("verify_token", "Token de verificação"),
    "webhook-base": ("webhook_base_url", "Endereço"),
    "webhook-header": ("webhook_header_value", "Valor do cabeçalho"),
}


def _row(view: dict[str, Any]) -> ChannelRow:
    fields = {k: v for k, v in view.items() if k in ChannelRow.__dataclass_fields__ and k != "credentials"}
    return ChannelRow(**fields, credentials=[CredentialRow(**c) for c in view["credentials"]])


class ChannelsState(PanelState):
    channels: list[ChannelRow] = rx.field(default_factory=list)
    agents: list[AgentChoice] = rx.field(default_factory=list)
    loaded: bool = False

    connect_open: bool = False
    connect_provider: str = "cloud_api"
    saving: bool = False

    editing: ChannelRow = ChannelRow()
    edit_open: bool = False

    test_open: bool = False
    test_channel_id: str = ""
    test_channel_name: str = ""
    test_window_note: bool = False
    sending: bool = False

    delete_open: bool = False
    delete_channel_id: str = ""
    delete_channel_name: str = ""

    just_connected: str = ""  # id of the channel created in this visit: its card is highlighted

    # channel id -> the whole webhook URL and verify token (they carry secrets). Backend-only:
    # the page gets them only when the person copies one (copy_setup).
    _setup: dict[str, dict[str, str]] = {}

    async def _reload(self) -> None:
        views = await self._run(svc.list_channels)
        self.channels = [_row(v) for v in views]
        self._setup = {v["id"]: {key: v[key] for key, _ in SETUP_VALUES.values()} for v in views}
        self.agents = [AgentChoice(**a) for a in await self._run(svc.agent_choices)]
        self.loaded = True

    @rx.event
    @service_call
    async def load(self):
        await self._reload()

    @rx.event
    def copy_setup(self, channel_id: str, what: str):
        """Copy a channel's webhook URL or verify token: the one frame that carries it whole."""
        key, label = SETUP_VALUES.get(what, ("", ""))
        value = self._setup.get(channel_id, {}).get(key, "")
        if not value:
            return rx.toast.error("Não foi possível copiar. Recarregue a página e tente de novo.", close_button=True)
        return [rx.set_clipboard(value), rx.toast.success(f"{label} copiado.", duration=2000)]

    # -- connect -----------------------------------------------------------------------------

    @rx.event
    def open_connect(self):
        self.connect_open = True

    @rx.event
    def set_connect_open(self, value: bool):
        self.connect_open = value

    @rx.event
    def set_connect_provider(self, value: str):
        self.connect_provider = value

    @rx.event
    @service_call(busy="saving")
    async def connect(self, form: dict[str, Any]):
        provider = str(form.pop("provider", ""))
        yield
        view = await self._run(svc.connect_channel, provider, form)
        await self._reload()
        self.connect_open = False
        self.just_connected = view["id"]
        yield rx.toast.success("Canal conectado. Agora cole o endereço do webhook no provedor.", close_button=True)

    # -- edit ----------------------------------------------------------------------------------

    @rx.event
    def open_edit(self, channel_id: str):
        row = next((c for c in self.channels if c.id == channel_id), None)
        if row is not None:
            self.editing = row
            self.edit_open = True

    @rx.event
    def set_edit_open(self, value: bool):
        self.edit_open = value

    @rx.event
    @service_call(busy="saving")
    async def save_edit(self, form: dict[str, Any]):
        yield
        await self._run(svc.update_channel, self.editing.id, form)
        await self._reload()
        self.edit_open = False
        yield rx.toast.success("Canal atualizado.", close_button=True)

    @rx.event
    @service_call
    async def toggle_active(self, channel_id: str, active: bool):
        await self._run(svc.set_channel_active, channel_id, active)
        await self._reload()
        return rx.toast.success("Canal ativado." if active else "Canal desativado.", close_button=True)

    # -- test message -------------------------------------------------------------------------

    @rx.event
    def open_test(self, channel_id: str):
        row = next((c for c in self.channels if c.id == channel_id), None)
        if row is not None:
            self.test_channel_id, self.test_channel_name = row.id, row.name
            self.test_window_note = row.has_service_window
            self.test_open = True

    @rx.event
    def set_test_open(self, value: bool):
        self.test_open = value

    async def _show_last_error(self, exc: Exception) -> None:
        with contextlib.suppress(Exception):  # a refusal is now the channel's last error
            await self._reload()

    @rx.event
    @service_call(busy="sending", on_error=_show_last_error)
    async def send_test(self, form: dict[str, Any]):
        yield
        result = await self._run(
            svc.send_test_message, self.test_channel_id, str(form.get("to", "")), str(form.get("text", ""))
        )
        await self._reload()
        self.test_open = False
        yield rx.toast.success(f"Mensagem de teste enviada para {result['to']}.", close_button=True)

    # -- delete --------------------------------------------------------------------------------

    @rx.event
    def open_delete(self, channel_id: str):
        row = next((c for c in self.channels if c.id == channel_id), None)
        if row is not None:
            self.delete_channel_id, self.delete_channel_name = row.id, row.name
            self.delete_open = True

    @rx.event
    def set_delete_open(self, value: bool):
        self.delete_open = value

    @rx.event
    @service_call
    async def confirm_delete(self):
        await self._run(svc.delete_channel, self.delete_channel_id)
        await self._reload()
        self.delete_open = False
        return rx.toast.success("Canal excluído.", close_button=True)
