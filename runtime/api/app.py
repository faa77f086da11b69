"""The FastAPI application factory. A factory, not a module-level app: Reflex mounts a fresh
instance (api_transformer) and tests build their own."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from starlette.middleware.sessions import SessionMiddleware

from runtime.config import get_settings

from .inputs import refuse_unstorable_text
from .routes import agents, auth, channels, conversations, drive, health, inbox_media, knowledge, tasks, v1, webhooks

# Routes whose text input comes from people and integrations: one check refuses what PostgreSQL
# can't store (422). Webhooks and /tasks take raw provider bytes; the pipeline cleans those.
_TEXT_INPUT_ROUTERS = (
    auth.router,
    v1.router,
    agents.router,
    channels.router,
    conversations.router,
    inbox_media.router,
    knowledge.router,
    drive.router,
    drive.api_router,
)

log = logging.getLogger(__name__)


def _oauth():
    from authlib.integrations.starlette_client import OAuth

    s = get_settings()
    oauth = OAuth()
    if s.google_enabled:
        oauth.register(
            "google",
            client_id=s.google_client_id,
            client_secret=s.google_client_secret.get_secret_value(),
            server_metadata_url=s.google_discovery_url,
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
        )
    return oauth


def _oauth_state_secret() -> str:
    from runtime.crypto import key_material

    return "oauth-state:" + key_material().decode()


def create_app(*, with_worker: bool = False) -> FastAPI:
    """Build the service. with_worker=True also runs the job worker in this process (`serve`)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not with_worker:
            yield
            return
        from runtime.jobs import worker_running

        async with worker_running():
            yield

    from runtime import logredact

    logredact.install()  # webhook secrets and link tokens in URLs never reach the access log
    s = get_settings()
    app = FastAPI(
        title="PilotoDeVendas API",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    # Only carries OAuth state + PKCE verifier between /auth/google/login and its callback.
    app.add_middleware(
        SessionMiddleware,
        secret_key=_oauth_state_secret(),
        session_cookie="pv_oauth",
        max_age=600,
        same_site="lax",
        https_only=s.secure_cookies,
    )
    app.state.oauth = _oauth()
    app.include_router(health.router)
    for router in _TEXT_INPUT_ROUTERS:
        app.include_router(router, dependencies=[Depends(refuse_unstorable_text)])
    app.include_router(webhooks.router)
    app.include_router(tasks.router)
    return app


def create_service() -> FastAPI:
    """The standalone webhook/API service (`python -m runtime serve`): worker per WORKER_ENABLED."""
    return create_app(with_worker=get_settings().worker_enabled)
