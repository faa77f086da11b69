"""Google Drive as a knowledge source.

``router``: the browser flow an owner/admin signed in to the panel follows once per folder,
``/integrations/google-drive/connect?folder=<id or link>`` -> Google consent (Drive read-only,
offline access, PKCE) -> ``/integrations/google-drive/callback`` -> ``/conhecimento``. Failures
redirect to ``/conhecimento?erro=<code>`` (codes and messages: ``drive.CONNECT_ERRORS``).

``api_router``: ``/api/v1/knowledge/drive`` (API key): list connections (never a token), sync
on demand, disconnect (removes the documents the folder brought).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from db.models import DriveConnection, Role
from runtime import audit
from runtime.auth import sessions
from runtime.config import get_settings
from runtime.knowledge import drive

from ..deps import OAUTH_NETWORK_ERRORS as NETWORK_ERRORS
from ..deps import ApiPrincipal, TenantDB, client_ip, require_api_key

log = logging.getLogger(__name__)


router = APIRouter(prefix="/integrations/google-drive", tags=["integrations"], include_in_schema=False)
api_router = APIRouter(prefix="/api/v1/knowledge/drive", tags=["knowledge"], dependencies=[Depends(require_api_key)])

CLIENT_NAME = "google_drive"
DONE = "/conhecimento"
_PENDING = "drive_connect"  # the session key (pv_oauth cookie) that carries the flow's context


def _back(error: str | None = None) -> RedirectResponse:
    query = {"erro": error} if error else {"drive": "conectado"}
    return RedirectResponse(f"{DONE}?{urlencode(query)}", status_code=303)


def _drive_client(request: Request):
    """authlib's Starlette client for the Drive grant, registered beside the sign-in one."""
    oauth = request.app.state.oauth
    client = oauth.create_client(CLIENT_NAME)
    if client is None:
        oauth.register(CLIENT_NAME, **drive.client_registration())
        client = oauth.create_client(CLIENT_NAME)
    return client


async def _signed_in(request: Request) -> sessions.CurrentUser | None:
    token = request.cookies.get(get_settings().session_cookie_name)
    return await run_in_threadpool(sessions.resolve_session, token) if token else None


def _require_manager(user: sessions.CurrentUser) -> None:
    if user.role not in (Role.owner, Role.admin):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Apenas donos e administradores podem conectar o Google Drive.")


@router.get("/connect")
async def connect(request: Request, folder: str = "") -> RedirectResponse:
    user = await _signed_in(request)
    if user is None:
        here = f"{request.url.path}?{urlencode({'folder': folder})}"
        return RedirectResponse(f"/login?{urlencode({'next': here})}", status_code=303)
    _require_manager(user)
    if not get_settings().google_enabled:
        return _back("drive_desativado")
    folder_id = drive.parse_folder_ref(folder)
    if folder_id is None:
        return _back("drive_pasta_invalida")
    request.session[_PENDING] = {
        "folder_id": folder_id,
        "workspace_id": str(user.workspace_id),
        "user_id": str(user.user_id),
    }
    redirect_uri = get_settings().absolute_url("/integrations/google-drive/callback")
    try:
        return await _drive_client(request).authorize_redirect(request, redirect_uri)
    except NETWORK_ERRORS as exc:  # discovery document unreachable
        log.warning("google drive connect unavailable: %s", type(exc).__name__)
        return _back("drive_indisponivel")
    except Exception:
        log.exception("google drive connect could not start")
        return _back("drive_falhou")


@router.get("/callback")
async def callback(request: Request) -> RedirectResponse:
    from authlib.integrations.base_client.errors import OAuthError

    user = await _signed_in(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    _require_manager(user)
    if not get_settings().google_enabled:
        return _back("drive_desativado")
    pending = request.session.pop(_PENDING, None)
    if (
        not isinstance(pending, dict)
        or pending.get("workspace_id") != str(user.workspace_id)
        or pending.get("user_id") != str(user.user_id)
    ):
        return _back("drive_sessao")
    try:
        token = await _drive_client(request).authorize_access_token(request)
    except OAuthError as exc:
        log.warning("google drive connect refused: %s", exc.error)
        return _back("drive_negado" if exc.error == "access_denied" else "drive_falhou")
    except NETWORK_ERRORS as exc:
        log.warning("google drive connect unavailable: %s", type(exc).__name__)
        return _back("drive_indisponivel")
    except Exception:
        log.exception("google drive token exchange failed")
        return _back("drive_falhou")
    granted = token.get("scope")
    if granted and drive.DRIVE_SCOPE not in str(granted).split():
        return _back("drive_sem_permissao")
    refresh_token = token.get("refresh_token")
    if not refresh_token:
        return _back("drive_sem_refresh_token")
    folder_id = pending["folder_id"]
    try:
        meta = await run_in_threadpool(_read_folder, token["access_token"], folder_id)
    except drive.DriveNotFound:
        return _back("drive_pasta_nao_encontrada")
    except drive.DriveNotAFolder:
        return _back("drive_nao_e_pasta")
    except drive.DriveAuthError:
        return _back("drive_sem_permissao")
    except drive.DriveError:
        return _back("drive_indisponivel")
    email = (token.get("userinfo") or {}).get("email")
    try:
        conn = await run_in_threadpool(
            drive.save_connection,
            user.workspace_id,
            folder_id=folder_id,
            folder_name=meta.get("name") or folder_id,
            refresh_token=refresh_token,
            user_id=user.user_id,
            account_email=email,
        )
    except Exception:
        log.exception("google drive connection could not be stored")
        return _back("drive_falhou")
    await run_in_threadpool(
        audit.record,
        user.workspace_id,
        "knowledge.drive.connect",
        user_id=user.user_id,
        target_type="drive_connection",
        target_id=str(conn.id),
        data={"folder_id": folder_id, "folder_name": conn.folder_name},
        ip=client_ip(request),
    )
    return _back()


def _read_folder(access_token: str, folder_id: str) -> dict:
    with httpx.Client(timeout=drive.HTTP_TIMEOUT) as http:
        return drive.DriveApi(http, access_token).get_folder(folder_id)


# --- REST ----------------------------------------------------------------------------------


class DriveConnectionPublic(BaseModel):
    id: uuid.UUID
    folder_id: str
    folder_name: str
    folder_url: str
    account_email: str | None
    connected_by_user_id: uuid.UUID | None
    status: str
    syncing: bool
    last_sync_at: datetime | None
    next_sync_at: datetime | None
    last_error: str | None
    files_synced: int
    last_report: dict[str, Any] | None = Field(
        default=None,
        description="Last successful sync: counts of added/updated/deleted/unchanged files, and "
        "[name, reason] of the files not imported (failed, skipped)",
    )
    created_at: datetime


class SyncQueued(BaseModel):
    id: uuid.UUID
    queued: bool = True


def _public(conn: DriveConnection) -> dict:
    return {
        "id": conn.id,
        "folder_id": conn.folder_id,
        "folder_name": conn.folder_name,
        "folder_url": drive.folder_url(conn.folder_id),
        "account_email": conn.account_email,
        "connected_by_user_id": conn.connected_by_user_id,
        "status": conn.status,
        "syncing": drive.is_syncing(conn),
        "last_sync_at": conn.last_sync_at,
        "next_sync_at": conn.next_sync_at,
        "last_error": conn.last_error,
        "files_synced": conn.files_synced,
        "last_report": drive.last_report(conn),
        "created_at": conn.created_at,
    }


@api_router.get("", response_model=list[DriveConnectionPublic])
def list_connections(db: TenantDB) -> list[dict]:
    return [_public(c) for c in drive.list_connections(db)]


@api_router.post("/{connection_id}/sync", response_model=SyncQueued, status_code=status.HTTP_202_ACCEPTED)
def sync_now(connection_id: uuid.UUID, db: TenantDB) -> dict:
    conn = drive.get_connection(db, connection_id)
    if conn is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Drive connection not found")
    drive.request_sync(db, conn)
    db.commit()
    return {"id": connection_id, "queued": True}


@api_router.delete("/{connection_id}", status_code=status.HTTP_204_NO_CONTENT)
def disconnect(connection_id: uuid.UUID, principal: ApiPrincipal, db: TenantDB) -> None:
    removed = drive.disconnect(db, connection_id)
    if removed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Drive connection not found")
    db.commit()
    audit.record(
        principal.workspace_id,
        "knowledge.drive.disconnect",
        api_key_id=principal.api_key_id,
        target_type="drive_connection",
        target_id=str(connection_id),
        data={"documents_removed": removed},
    )
