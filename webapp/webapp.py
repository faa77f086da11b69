"""The Reflex app: the panel's pages, with the FastAPI service (runtime.api) mounted beside them.

In production (`reflex run --env prod`) one port serves the compiled pages, the state websocket,
/auth/*, /api/*, /webhooks/* and /healthz. The API's routes match before Reflex's own.
"""

from __future__ import annotations

import reflex as rx
from starlette.types import ASGIApp, Receive, Scope, Send

from runtime.api.app import create_app
from runtime.config import get_settings
from runtime.jobs import worker_running

from .pages import ROUTES
from .principal_guard import PrincipalGuard

STYLE = {
    "font_family": "var(--default-font-family)",
    "::selection": {"background": "var(--teal-a5)"},
}

HEAD = [
    rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
    rx.el.meta(name="theme-color", content="#0d9488"),
]

# Pages served as a folder's index.html (all but "/").
PAGE_ROUTES = frozenset(route.path for route in ROUTES if route.path != "/")


class ServePagesWithoutSlash:
    """Serve GET /painel as /painel/ (the exported page is painel/index.html) in place.

    Without it the static files server answers 307 to an absolute URL built from the request's
    scheme, which behind a TLS-terminating proxy (Cloud Run) is http://: an extra hop and a
    downgrade after every sign-in redirect.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and scope["path"] in PAGE_ROUTES:
            scope = {**scope, "path": scope["path"] + "/", "raw_path": scope["path"].encode() + b"/"}
        await self.app(scope, receive, send)


# A factory call, never a shared module-level FastAPI instance: a second app instance (another
# test harness, a worker) would otherwise add middleware to an already started application.
app = rx.App(
    api_transformer=[create_app(), ServePagesWithoutSlash],
    html_lang="pt-BR",
    style=STYLE,
    head_components=HEAD,
)

# Before a (re)connecting tab gets its state: reset it when the person behind the cookie changed.
app.add_middleware(PrincipalGuard())

if get_settings().worker_enabled:
    # `make run` and the production image run the job worker inside the web process.
    app.register_lifespan_task(worker_running)

for _route in ROUTES:
    app.add_page(_route.component, route=_route.path, title=_route.page_title, on_load=list(_route.on_load) or None)
