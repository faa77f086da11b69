"""UI state for the web panel. Thin on purpose: who is signed in is decided by runtime.auth.

The session lives in the HttpOnly cookie that /auth/login sets; the browser's JavaScript can't
read it, but the websocket handshake carries it, so the server reads it from the handshake
headers and resolves it against the database on every protected page load.

Reflex keys the state tree by the tab's token, which outlives a sign-out: everything a page loads
belongs to the principal it was loaded for. webapp.principal_guard resets the tree whenever the
tab reconnects as someone else (or as nobody), and `_sign_out_locally` when a session ends while
connected. Secrets shown once never enter the state at all (see `reveal`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from runtime.access import NotSignedIn, Principal, UserError, principal_for_token
from runtime.auth.accounts import ACCOUNT_ERRORS
from runtime.config import get_settings

log = logging.getLogger(__name__)

HOME = "/painel"

LOGIN_NOTICES = {"senha_redefinida": "Senha redefinida. Entre com a nova senha."}
LOGIN_ERRORS = {
    "credenciais": "E-mail ou senha incorretos.",
    "bloqueado": "Muitas tentativas de acesso. Aguarde alguns minutos e tente novamente.",
    "sessao": "Sua sessão expirou. Entre novamente.",
    "google": "Não foi possível entrar com o Google. Tente novamente ou use e-mail e senha.",
    "google_outra_conta": ACCOUNT_ERRORS["google_outra_conta"],
    "google_email_nao_verificado": ACCOUNT_ERRORS["google_email_nao_verificado"],
}
GENERIC_LOGIN_ERROR = "Não foi possível entrar. Tente novamente."
GENERIC_SIGNUP_ERROR = "Não foi possível criar a conta. Tente novamente."
SIGNUP_ERRORS = {**ACCOUNT_ERRORS, "bloqueado": LOGIN_ERRORS["bloqueado"]}

ROLE_LABELS = {"owner": "Proprietário", "admin": "Administrador", "seller": "Vendedor"}

# Pages a seller may open; every other panel page is for owners and admins. The pages only hide
# what a seller can't use: the runtime services refuse it (runtime.access).
SELLER_HOME = "/inbox"
SELLER_ROUTES = frozenset({"/inbox", "/configuracoes"})


def cookie_value(cookie_header: str, name: str) -> str | None:
    """One cookie's value from a raw Cookie header; None when absent or empty."""
    if not cookie_header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        jar = SimpleCookie()
    if name in jar:
        return jar[name].value or None
    # SimpleCookie gives up on the whole header at the first cookie it can't parse
    # (other sites' cookies on the same host): fall back to a plain split.
    for part in cookie_header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"') or None
    return None


def safe_next(target: str | None) -> str:
    """Only local paths (the same rule the API applies): never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def _after_login(target: str | None) -> str:
    """Where to go once signed in: a local page, never back to the sign-in pages (a loop)."""
    path = safe_next(target)
    return HOME if path.startswith(("/login", "/cadastro")) else path


def principal_key(user: Any) -> str:
    """Who a state tree is filled for: the session and the role behind the cookie ("" for nobody).
    A new sign-in (anyone's) or a role change is a new principal."""
    return f"{user.session_id}:{user.role}" if user is not None else ""


def reveal(element_id: str, secret: str) -> rx.event.EventSpec:
    """Show a secret once (an API key, an invitation or new-password link): written straight into
    the page's input `element_id` (see components.one_time_secret), never into a state var. So it
    is not kept in the synced state, not replayed on reconnect, not stored server side, and it is
    gone when dismissed, on navigation or reload. The input must stay mounted (hide it, don't
    unmount it) or the write finds no element."""
    return rx.set_value(element_id, secret)


def login_url(next_path: str | None = None, error: str | None = None) -> str:
    query: dict[str, str] = {}
    if error:
        query["erro"] = error
    if next_path and _after_login(next_path) != HOME:
        query["next"] = next_path
    return "/login" + (f"?{urlencode(query)}" if query else "")


class AuthState(rx.State):
    """The signed-in user as the pages show it, and the messages of the sign-in pages."""

    signed_in: bool = False
    user_name: str = ""
    user_email: str = ""
    workspace_name: str = ""
    role: str = ""

    login_error: str = ""
    login_notice: str = ""
    login_next: str = ""
    signup_error: str = ""
    google_enabled: bool = False

    # principal_key() of the person this tree was filled for. Backend-only (leading underscore):
    # never sent to the browser. Kept by webapp.principal_guard.
    _principal_key: str = ""

    @rx.var
    def display_name(self) -> str:
        return self.user_name or self.user_email

    @rx.var
    def initials(self) -> str:
        source = self.user_name or self.user_email
        words = [w for w in source.replace("@", " ").replace(".", " ").split() if w]
        if not words:
            return "?"
        if len(words) == 1:
            return words[0][:2].upper()
        return (words[0][0] + words[1][0]).upper()

    @rx.var
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def _session_token(self) -> str | None:
        return cookie_value(self.router.headers.cookie, get_settings().session_cookie_name)

    def _current_path(self) -> str:
        url = self.router.url
        path = url.path or HOME
        return f"{path}?{url.query}" if url.query else path

    async def _resolve(self):
        """The runtime's answer for this connection's cookie (a database lookup, off the event loop)."""
        token = self._session_token()
        if not token:
            return None, False
        from runtime.auth.sessions import resolve_session

        return await asyncio.to_thread(resolve_session, token), True

    async def _current_principal_key(self) -> str:
        user, _ = await self._resolve()
        return principal_key(user)

    def _auth_state(self) -> AuthState:
        """This tab's AuthState instance (the parent of every page state)."""
        state = self
        while state.get_full_name() != AuthState.get_full_name():
            state = state.parent_state
        return state

    def _forget_everything(self) -> None:
        """Every app state back to its defaults (all of them live under AuthState); the router
        data stays. Also clears `_principal_key`, so the next connection resets again in full
        (with Redis an event loads only part of the tree)."""
        self._auth_state().reset()

    def _sign_out_locally(self) -> None:
        """Nobody is signed in on this tab any more: drop what the pages loaded for the last one."""
        self._forget_everything()

    @rx.event
    async def check_session(self):
        """on_load of every protected page: fill the user or send the browser to /login."""
        user, had_cookie = await self._resolve()
        if user is None:
            self._sign_out_locally()
            return rx.redirect(login_url(self._current_path(), "sessao" if had_cookie else None), replace=True)
        self.signed_in = True
        self.user_name = user.name
        self.user_email = user.email
        self.workspace_name = user.workspace_name
        self.role = str(user.role)
        if self.role == "seller" and (self.router.url.path or HOME).rstrip("/") not in SELLER_ROUTES:
            return rx.redirect(SELLER_HOME, replace=True)
        return None

    @rx.event
    async def load_login(self):
        """on_load of /login: already signed in goes straight in; otherwise show ?erro= and keep ?next=."""
        params = self.router.url.query_parameters
        next_path = _after_login(params.get("next"))
        user, _ = await self._resolve()
        if user is not None:
            self.signed_in = True
            return rx.redirect(next_path, replace=True)
        self._sign_out_locally()
        code = params.get("erro", "")
        self.login_error = LOGIN_ERRORS.get(code, GENERIC_LOGIN_ERROR) if code else ""
        self.login_notice = LOGIN_NOTICES.get(params.get("aviso", ""), "")
        self.login_next = next_path if next_path != HOME else ""
        self.google_enabled = get_settings().google_enabled
        return None

    @rx.event
    async def load_signup(self):
        """on_load of /cadastro: signed-in users go to the panel; otherwise show ?erro=."""
        user, _ = await self._resolve()
        if user is not None:
            self.signed_in = True
            return rx.redirect(HOME, replace=True)
        self._sign_out_locally()
        code = self.router.url.query_parameters.get("erro", "")
        self.signup_error = SIGNUP_ERRORS.get(code, GENERIC_SIGNUP_ERROR) if code else ""
        self.google_enabled = get_settings().google_enabled
        return None

    @rx.event
    async def route_home(self):
        """on_load of /: the panel when signed in, the login page otherwise."""
        user, _ = await self._resolve()
        return rx.redirect(HOME if user is not None else "/login", replace=True)


class PanelState(AuthState):
    """Base of the page states: runs runtime services as the signed-in user.

    The principal is resolved from the cookie on every call (not cached in the state), so a
    revoked session or a deactivated user stops at once, and the runtime checks the role.
    """

    async def _principal(self) -> Principal:
        return await asyncio.to_thread(principal_for_token, self._session_token())

    async def _run(self, fn, *args, **kwargs):
        """`fn(principal, *args, **kwargs)` off the event loop (services do blocking database I/O)."""
        principal = await self._principal()
        return await asyncio.to_thread(fn, principal, *args, **kwargs)

    async def _poll(
        self,
        flag: str,
        refresh: Callable[[], Awaitable[Any]],
        apply: Callable[[Any], bool],
        *,
        seconds: float,
        times: int,
    ) -> None:
        """The body of a background event that watches work done elsewhere (the job worker): every
        `seconds`, `refresh()` outside the state lock, then `apply(result)` under it, until `apply`
        says there is nothing left to watch, a refresh fails, or `times` rounds. The bool attribute
        named `flag` keeps it to one poll per tab."""
        async with self:
            if getattr(self, flag):
                return
            setattr(self, flag, True)
            started_for = self._principal_key
        try:
            for _ in range(times):
                await asyncio.sleep(seconds)
                try:
                    data = await refresh()
                except Exception:
                    return
                async with self:
                    # Someone else on this tab now: what was read may be the last person's.
                    if self._principal_key != started_for or not apply(data):
                        return
        finally:
            async with self:
                if self._principal_key == started_for:
                    setattr(self, flag, False)

    def _fail(self, exc: Exception):
        """The event to return for a failed service call: back to /login when signed out, else a toast."""
        if isinstance(exc, NotSignedIn):
            # The page's own on_load runs beside check_session: answer the same way (no "session
            # expired" message for someone who simply isn't signed in).
            had_cookie = bool(self._session_token())
            self._sign_out_locally()
            return rx.redirect(login_url(self._current_path(), "sessao" if had_cookie else None), replace=True)
        if (
            isinstance(exc, PermissionError)
            and self.role == "seller"
            and (self.router.url.path or HOME).rstrip("/") not in SELLER_ROUTES
        ):
            return None  # a manager page's own load, while check_session sends the seller to the inbox
        if isinstance(exc, UserError | PermissionError):
            return rx.toast.error(str(exc), close_button=True)
        log.exception("panel action failed", exc_info=exc)
        return rx.toast.error("Não foi possível concluir agora. Tente novamente.", close_button=True)
