"""The Google grant behind a Drive connection: what the connect flow asks Google for (read-only
Drive, offline access, PKCE) and turning the stored refresh token into access tokens.

The browser half of the flow (consent redirect, callback, the pv_oauth session) is HTTP and lives
in ``runtime.api.routes.drive``; it registers its authlib client with ``client_registration()``
so the scope and the offline/PKCE choice are decided here, once.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from runtime.config import get_settings

from .errors import REAUTH_MESSAGE, SCOPE_MESSAGE, DriveAuthError, DriveError
from .transport import send

SCOPES = "openid email https://www.googleapis.com/auth/drive.readonly"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.readonly"
DISCOVERY_TTL_S = 3600.0

# Codes of the ?erro= the connect flow redirects with, and what the panel should say.
CONNECT_ERRORS = {
    "drive_desativado": "A integração com o Google não está configurada neste servidor.",
    "drive_pasta_invalida": "Link de pasta inválido. Cole o link da pasta do Google Drive (ou o ID dela).",
    "drive_negado": "Você não autorizou o acesso ao Google Drive.",
    "drive_sem_permissao": "A permissão de leitura do Google Drive não foi concedida. Tente de novo e marque-a.",
    "drive_sem_refresh_token": (
        "O Google não enviou o acesso permanente (refresh token). Remova o acesso do PilotoDeVendas em "
        "myaccount.google.com/permissions e conecte de novo."
    ),
    "drive_pasta_nao_encontrada": "Pasta não encontrada, ou a conta Google escolhida não tem acesso a ela.",
    "drive_nao_e_pasta": "O link informado é de um arquivo, não de uma pasta.",
    "drive_sessao": "A conexão expirou ou foi iniciada em outra sessão. Tente de novo.",
    "drive_indisponivel": "Não foi possível falar com o Google agora. Tente de novo em instantes.",
    "drive_falhou": "Não foi possível conectar o Google Drive. Tente de novo.",
}


def client_registration() -> dict[str, Any]:
    """Arguments of authlib's ``OAuth.register`` for the Drive grant."""
    s = get_settings()
    return {
        "client_id": s.google_client_id,
        "client_secret": s.google_client_secret.get_secret_value(),
        "server_metadata_url": s.google_discovery_url,
        "client_kwargs": {"scope": SCOPES, "code_challenge_method": "S256"},
        # offline + consent: Google sends a refresh token every time, also on a reconnect.
        "authorize_params": {"access_type": "offline", "prompt": "consent"},
    }


_discovery: dict[str, tuple[float, dict[str, Any]]] = {}


def _metadata(http: httpx.Client) -> dict[str, Any]:
    url = get_settings().google_discovery_url
    cached = _discovery.get(url)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_S:
        return cached[1]
    try:
        response = http.get(url)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DriveError("Não foi possível falar com o Google agora; a sincronização será tentada de novo.") from exc
    _discovery[url] = (time.monotonic(), data)
    return data


def refresh_access_token(http: httpx.Client, refresh_token: str) -> str:
    """A fresh access token for the stored refresh token (RFC 6749 §6)."""
    s = get_settings()
    if not s.google_enabled:
        raise DriveError("A integração com o Google não está configurada neste servidor.")
    endpoint = _metadata(http).get("token_endpoint")
    if not endpoint:
        raise DriveError("O documento de descoberta do Google não informa o endpoint de tokens.")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": s.google_client_id,
        "client_secret": s.google_client_secret.get_secret_value(),
    }
    response = send(http, "POST", endpoint, data=form)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200 and body.get("access_token"):
        granted = body.get("scope")
        if granted and DRIVE_SCOPE not in granted.split():
            raise DriveAuthError(SCOPE_MESSAGE)
        return body["access_token"]
    error = body.get("error") if isinstance(body, dict) else None
    if error == "invalid_grant":
        raise DriveAuthError(REAUTH_MESSAGE)
    if error in ("invalid_client", "unauthorized_client"):
        raise DriveError("As credenciais do Google deste servidor foram recusadas (GOOGLE_CLIENT_ID/SECRET).")
    raise DriveError(f"O Google recusou a renovação do acesso (HTTP {response.status_code}); será tentado de novo.")
