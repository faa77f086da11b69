"""One tab, one person: the UI state tree is reset before any of it reaches a different principal.

Reflex keys the state tree by the tab's token (sessionStorage), which survives /auth/logout and a
sign-in as someone else: on a shared shop computer the next person's first frame would carry the
last person's leads, or whatever a page left in its state. Signing in and out are full page loads
(the HttpOnly cookie changes), so every change of principal arrives on a new websocket, and the
first event of a websocket, hydrate_and_load, sends the whole tree. This middleware runs before
that event: when the cookie's principal is not the one the tree was filled for, or nobody is
signed in (an expired or revoked session too), every app state goes back to its defaults first.
"""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx

from .state import AuthState

log = logging.getLogger(__name__)

# The events a (re)connecting page sends first; they answer with the full state tree.
CONNECT_EVENTS = frozenset(f"{rx.State.get_name()}.{name}" for name in ("hydrate_and_load", "hydrate"))


class PrincipalGuard(rx.Middleware):
    async def preprocess(self, app: Any, state: rx.State, event: Any) -> None:
        if event.name not in CONNECT_EVENTS:
            return None
        auth = await state.get_state(AuthState)
        try:
            key = await auth._current_principal_key()
        except Exception:
            # Can't tell who is there (database down): treat it as nobody, the safe side.
            log.exception("could not resolve the session of a connecting tab")
            key = ""
        if not key or key != auth._principal_key:
            auth._forget_everything()
            auth._principal_key = key
        return None
