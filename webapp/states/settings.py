"""Configurações: thin state over runtime.panel.settings."""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime.panel import settings

from ..state import PanelState, reveal

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
    async def load(self):
        self.key_shown = False
        try:
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
        except Exception as exc:
            return self._fail(exc)
        result = GOOGLE_RESULTS.get(self.router.url.query_parameters.get("google", ""))
        if result:
            ok, message = result
            return rx.toast.success(message) if ok else rx.toast.error(message, close_button=True)
        return None

    # --- own account ---------------------------------------------------------------------

    @rx.event
    async def save_account(self, form: dict[str, Any]):
        self.saving_account = True
        yield
        try:
            self._apply_account(await self._run(settings.update_my_account, {"name": form.get("name", "")}))
            self.user_name = self.my_name  # the sidebar
            yield rx.toast.success("Seus dados foram salvos.")
        except Exception as exc:
            yield self._fail(exc)
        finally:
            self.saving_account = False

    @rx.event
    async def save_password(self, form: dict[str, Any]):
        new = form.get("new_password", "")
        if new != form.get("confirm_password", ""):
            yield rx.toast.error("A confirmação não é igual à nova senha.", close_button=True)
            return
        self.saving_password = True
        yield
        try:
            out = await self._run(
                settings.change_password,
                form.get("current_password") or None,
                new,
                keep_session=self._session_token(),
            )
            self.has_password = True
            others = out["sessions_revoked"]
            extra = f" {others} outra(s) sessão(ões) foram encerradas." if others else ""
            yield rx.toast.success("Senha alterada." + extra)
            yield rx.call_script("document.getElementById('password-form').reset()")
        except Exception as exc:
            yield self._fail(exc)
        finally:
            self.saving_password = False

    @rx.event
    async def unlink_google(self):
        self.unlinking = True
        yield
        try:
            self._apply_account(await self._run(settings.unlink_google))
            yield rx.toast.success("Conta Google desvinculada.")
        except Exception as exc:
            yield self._fail(exc)
        finally:
            self.unlinking = False

    # --- managers ------------------------------------------------------------------------

    @rx.event
    async def save_company(self, form: dict[str, Any]):
        self.saving_company = True
        yield
        try:
            profile = await self._run(
                settings.update_workspace_profile,
                {"name": form.get("company_name", ""), "timezone": form.get("timezone", "")},
            )
            self.company_name, self.company_timezone = profile["name"], profile["timezone"]
            self.workspace_name = profile["name"]  # the sidebar
            yield rx.toast.success("Dados da empresa salvos.")
        except Exception as exc:
            yield self._fail(exc)
        finally:
            self.saving_company = False

    @rx.event
    async def create_key(self, form: dict[str, Any]):
        self.creating_key = True
        yield
        try:
            out = await self._run(settings.create_api_key, form.get("key_name", ""))
            self.new_key_name, self.key_shown = out["name"], True
            self.api_keys = await self._run(settings.list_api_keys)
            yield [
                reveal(NEW_KEY_ID, out["key"]),
                rx.toast.success("Chave criada. Copie agora: ela não será mostrada de novo."),
            ]
        except Exception as exc:
            yield self._fail(exc)
        finally:
            self.creating_key = False

    @rx.event
    def hide_key(self):
        self.key_shown = False

    @rx.event
    async def revoke_key(self, key_id: str):
        self.revoking_id = key_id
        yield
        try:
            await self._run(settings.revoke_api_key, key_id)
            self.api_keys = await self._run(settings.list_api_keys)
            yield rx.toast.success("Chave revogada. Ela para de funcionar agora.")
        except Exception as exc:
            yield self._fail(exc)
        finally:
            self.revoking_id = ""
