"""Reflex configuration for the web panel (app "webapp").

The FastAPI service is mounted inside the app (see webapp/webapp.py), so in production one
port serves the pages, the websocket, /auth/* and /api/*.

Reflex keeps UI state per browser tab. One worker: in memory (the default here). More than
one worker or instance: set REDIS_URL and the state lives in Redis.
"""

import os

import reflex as rx

_redis_url = os.environ.get("REDIS_URL") or None
# Voice notes recorded in the inbox travel over the websocket as WAV (about 128 KB a second once
# base64-encoded); Reflex's default 1 MB message limit would cut them at ~8 s. 24 MB ~ 3 minutes.
os.environ.setdefault("REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE", str(24 * 1000 * 1000))
# In production the page and its websocket come from PUBLIC_URL only; elsewhere any origin.
_public_url = os.environ.get("PUBLIC_URL", "").rstrip("/")
_cors = [_public_url] if os.environ.get("APP_ENV") == "production" and _public_url else ["*"]

config = rx.Config(
    app_name="webapp",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    state_manager_mode="redis" if _redis_url else "memory",
    redis_url=_redis_url,
    cors_allowed_origins=_cors,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(
                appearance="light",
                accent_color="teal",
                gray_color="slate",
                radius="large",
                scaling="100%",
                has_background=True,
            )
        ),
    ],
    # A private panel: no sitemap.xml advertising its routes.
    disable_plugins=[rx.plugins.SitemapPlugin],
)
