"""The notice above every panel page: confirm your e-mail ("reenviar"), and, after a Google sign-in
took over an account whose e-mail was never confirmed, what that ended. Thin state over
runtime.panel.settings.email_confirmation."""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime.access import NotSignedIn
from runtime.panel import settings

from ..state import PanelState
from .service_call import service_call

# ?aviso=conta_protegida after /auth/google/callback (runtime.auth.takeover says what it ends)
TAKEOVER_NOTICE = (
    "Este e-mail já tinha um cadastro com senha que nunca foi confirmado; ao entrar com o Google, ele passou "
    "a ser seu. Para protegê-lo, "
    "encerramos as sessões abertas e removemos a senha desse cadastro; as chaves de API e os convites criados "
    "por ele foram revogados e quem entrou por esses convites foi desativado. Confira a Equipe (reative quem "
    "você conhece), os Canais e os Agentes. Para entrar também com senha, crie uma em Configurações."
)


class EmailConfirmationState(PanelState):
    confirm_needed: bool = False
    confirm_text: str = ""
    confirm_button: str = ""  # "" = nothing to send (no e-mail on this server)
    confirm_href: str = ""  # where to go instead (Configurações, to link Google)
    confirm_sending: bool = False
    takeover_notice: str = ""

    def _apply(self, view: dict[str, Any]) -> None:
        self.confirm_needed = bool(view["needed"])
        self.confirm_text, self.confirm_button, self.confirm_href = view["text"], view["button"], view["href"]

    @rx.event
    async def load(self):
        """on_load of every panel page, beside the session check (which handles a signed-out browser)."""
        aviso = self.router.url.query_parameters.get("aviso", "")
        self.takeover_notice = TAKEOVER_NOTICE if aviso == "conta_protegida" else ""
        try:
            self._apply(await self._run(settings.email_confirmation))
        except NotSignedIn:
            self.confirm_needed = False
        except Exception as exc:
            self.confirm_needed = False
            return self._fail(exc)
        return None

    @rx.event
    @service_call(busy="confirm_sending")
    async def resend(self):
        yield
        self._apply(await self._run(settings.resend_email_confirmation))
        yield rx.toast.success("Enviamos um novo link de confirmação. Confira a sua caixa de entrada.")
