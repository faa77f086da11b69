"""Configurações: thin state over runtime.panel.settings."""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime.panel import settings

from ..state import PanelState, reveal
from .service_call import service_call

NEW_KEY_ID = "new-api-key"  # the input the new key is revealed in (pages.settings)

GOOGLE_RESULTS = {
    "vinculado": (True, "Conta Google vinculada. Você já pode entrar com o Google."),
    "em_uso": (False, "Esta conta Google já está vinculada a outro usuário."),
    "ja_vinculado": (False, "Você já tem uma conta Google vinculada. Desvincule-a antes de vincular outra."),
    "erro": (False, "Não foi possível vincular a conta Google. Tente novamente."),
    "indisponivel": (False, "O login com Google não está configurado neste servidor."),
}


class SettingsState(PanelState):
    loaded: bool = False
    # own account
    my_name: str = ""
    my_email: str = ""
    has_password: bool = True
    google_linked: bool = False
    google_available: bool = False
    saving_account: bool = False
    saving_password: bool = False
    unlinking: bool = False
    # managers
    is_manager: bool = False
    company_name: str = ""
    company_timezone: str = ""
    timezones: list[str] = rx.field(default_factory=list)
    saving_company: bool = False
    api_keys: list[dict[str, Any]] = rx.field(default_factory=list)
    creating_key: bool = False
    key_shown: bool = False  # the new key's callout; the key itself is never a state var (reveal)
    new_key_name: str = ""
    revoking_id: str = ""
    integrations: list[dict[str, Any]] = rx.field(default_factory=list)

    def _apply_account(self, me: dict[str, Any]) -> None:
        self.my_name, self.my_email = me["name"], me["email"]
        self.has_password, self.google_linked = me["has_password"], me["google_linked"]
        self.google_available = me["google_enabled"]
        self.is_manager = me["role"] in ("owner", "admin")

    @rx.event
    @service_call
    async def load(self):
        self.key_shown = False
        self._apply_account(await self._run(settings.my_account))
        if self.is_manager:
            profile = await self._run(settings.workspace_profile)
            self.company_name, self.company_timezone = profile["name"], profile["timezone"]
            self.timezones = profile["timezones"]
            if self.company_timezone not in self.timezones:
                self.timezones = [self.company_timezone, *self.timezones]
            self.api_keys = await self._run(settings.list_api_keys)
            self.integrations = await self._run(settings.integrations)
        self.loaded = True
        result = GOOGLE_RESULTS.get(self.router.url.query_parameters.get("google", ""))
        if result:
            ok, message = result
            return rx.toast.success(message) if ok else rx.toast.error(message, close_button=True)
        return None

    # --- own account ---------------------------------------------------------------------

    @rx.event
    @service_call(busy="saving_account")
    async def save_account(self, form: dict[str, Any]):
        yield
        self._apply_account(await self._run(settings.update_my_account, {"name": form.get("name", "")}))
        self.user_name = self.my_name  # the sidebar
        yield rx.toast.success("Seus dados foram salvos.")

    @rx.event
    async def save_password(self, form: dict[str, Any]):
        new = form.get("new_password", "")
        if new != form.get("confirm_password", ""):
            yield rx.toast.error("A confirmação não é igual à nova senha.", close_button=True)
            return
        async for event in self._change_password(form.get("current_password") or None, new):
            yield event

    @service_call(busy="saving_password")
    async def _change_password(self, current: str | None, new: str):
        yield
        out = await self._run(settings.change_password, current, new, keep_session=self._session_token())
        self.has_password = True
        others = out["sessions_revoked"]
        extra = f" {others} outra(s) sessão(ões) foram encerradas." if others else ""
        yield rx.toast.success("Senha alterada." + extra)
        yield rx.call_script("document.getElementById('password-form').reset()")

    @rx.event
    @service_call(busy="unlinking")
    async def unlink_google(self):
        yield
        self._apply_account(await self._run(settings.unlink_google))
        yield rx.toast.success("Conta Google desvinculada.")

    # --- managers ------------------------------------------------------------------------

    @rx.event
    @service_call(busy="saving_company")
    async def save_company(self, form: dict[str, Any]):
        yield
        profile = await self._run(
            settings.update_workspace_profile,
            {"name": form.get("company_name", ""), "timezone": form.get("timezone", "")},
        )
        self.company_name, self.company_timezone = profile["name"], profile["timezone"]
        self.workspace_name = profile["name"]  # the sidebar
        yield rx.toast.success("Dados da empresa salvos.")

    @rx.event
    @service_call(busy="creating_key")
    async def create_key(self, form: dict[str, Any]):
        yield
        out = await self._run(settings.create_api_key, form.get("key_name", ""))
        self.new_key_name, self.key_shown = out["name"], True
        self.api_keys = await self._run(settings.list_api_keys)
        yield [
            reveal(NEW_KEY_ID, out["key"]),
            rx.toast.success("Chave criada. Copie agora: ela não será mostrada de novo."),
        ]

    @rx.event
    def hide_key(self):
        self.key_shown = False

    @rx.event
    @service_call(busy="revoking_id", busy_with="key_id")
    async def revoke_key(self, key_id: str):
        yield
        await self._run(settings.revoke_api_key, key_id)
        self.api_keys = await self._run(settings.list_api_keys)
        yield rx.toast.success("Chave revogada. Ela para de funcionar agora.")
