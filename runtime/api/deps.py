"""Request dependencies: client address, API-key principal, tenant-scoped DB session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from db.tenancy import tenant_session
from runtime.auth.api_keys import ApiKeyPrincipal, authenticate_api_key
from runtime.config import get_settings

try:  # authlib's client runs on httpx2 when it is installed (openai and langsmith bring it)
    import httpx as _httpx
    import httpx2 as _httpx2

    OAUTH_NETWORK_ERRORS: tuple[type[Exception], ...] = (_httpx.HTTPError, _httpx2.HTTPError)
except ImportError:  # pragma: no cover
    OAUTH_NETWORK_ERRORS = (_httpx.HTTPError,)

_bearer = HTTPBearer(auto_error=False, description="Workspace API key: `Authorization: Bearer pv_...`")


def client_ip(request: Request) -> str:
    """The client's address for rate limits. Behind N trusted proxies it is the N-th entry from the
    right of X-Forwarded-For: entries further left were written by the client and can be forged."""
    hops = get_settings().trusted_proxy_hops
    forwarded = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()]
    if hops and forwarded:
        return forwarded[-min(hops, len(forwarded))]
    return request.client.host if request.client else "unknown"


def require_api_key(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKeyPrincipal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Missing API key", headers={"WWW-Authenticate": "Bearer"})
    principal = authenticate_api_key(credentials.credentials)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


ApiPrincipal = Annotated[ApiKeyPrincipal, Depends(require_api_key)]


def api_session(principal: ApiPrincipal) -> Iterator[Session]:
    with tenant_session(principal.workspace_id) as s:
        yield s


TenantDB = Annotated[Session, Depends(api_session)]


def same_origin(request: Request) -> None:
    """Refuse cross-site form posts to /auth/* (login CSRF); browsers always send Origin on POST."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Cross-site request refused")
