"""Browser auth: full-page form posts that set or clear the HttpOnly session cookie, and Google sign-in."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from runtime import audit
from runtime.auth import accounts, ratelimit, sessions
from runtime.config import get_settings

from ..deps import OAUTH_NETWORK_ERRORS, client_ip, same_origin

log = logging.getLogger(__name__)
router = APIRouter(prefix="/auth", tags=["auth"], dependencies=[Depends(same_origin)])

HOME = "/painel"


def safe_next(target: str | None) -> str:
    """Only local paths: never an open redirect to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def _signed_in(target: str, token: str) -> RedirectResponse:
    s = get_settings()
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(
        s.session_cookie_name,
        token,
        max_age=s.session_ttl_hours * 3600,
        httponly=True,
        secure=s.secure_cookies,
        samesite="lax",
        path="/",
    )
    return resp


def _login_error(code: str, next_: str | None) -> RedirectResponse:
    query = {"erro": code}
    if next_ and safe_next(next_) != HOME:
        query["next"] = safe_next(next_)
    return RedirectResponse(f"/login?{urlencode(query)}", status_code=303)


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    ip = client_ip(request)
    if not ratelimit.login_allowed(ip, email):
        log.warning("login throttled ip=%s", ip)
        return _login_error("bloqueado", next)
    auth = accounts.authenticate(email, password)
    ratelimit.record_attempt(ip, email, success=auth is not None)
    if auth is None:
        return _login_error("credenciais", next)
    token = sessions.create_session(auth.user_id, auth.workspace_id, ip, request.headers.get("user-agent"))
    audit.record(auth.workspace_id, "auth.login", user_id=auth.user_id, ip=ip, data={"method": "password"})
    return _signed_in(safe_next(next), token)


@router.post("/signup")
def signup(
    request: Request,
    company: Annotated[str, Form(max_length=200)],
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    name: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    ip = client_ip(request)
    if not ratelimit.login_allowed(ip, email):
        return RedirectResponse("/cadastro?erro=bloqueado", status_code=303)
    try:
        new = accounts.create_workspace(company, email, password, owner_name=name)
    except accounts.AccountError as exc:
        ratelimit.record_attempt(ip, email, success=False)
        return RedirectResponse(f"/cadastro?erro={exc.code}", status_code=303)
    token = sessions.create_session(new.user_id, new.workspace_id, ip, request.headers.get("user-agent"))
    audit.record(new.workspace_id, "auth.signup", user_id=new.user_id, ip=ip)
    return _signed_in(HOME, token)


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    s = get_settings()
    sessions.revoke_session(request.cookies.get(s.session_cookie_name))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(s.session_cookie_name, path="/", httponly=True, secure=s.secure_cookies, samesite="lax")
    return resp


# --- Google (OpenID Connect, authorization code + PKCE, state checked by authlib) -----


def _google_client(request: Request):
    oauth = request.app.state.oauth
    return oauth.create_client("google")


@router.get("/google/login")
async def google_login(request: Request) -> RedirectResponse:
    if not get_settings().google_enabled:
        return _login_error("google", None)
    redirect_uri = get_settings().public_url.rstrip("/") + "/auth/google/callback"
    try:
        return await _google_client(request).authorize_redirect(request, redirect_uri)
    except OAUTH_NETWORK_ERRORS as exc:  # discovery document unreachable: Google down or no network
        log.warning("google sign-in unavailable: %s", type(exc).__name__)
        return _login_error("google", None)


@router.get("/google/callback")
async def google_callback(request: Request) -> RedirectResponse:
    from authlib.integrations.base_client.errors import OAuthError

    if not get_settings().google_enabled:
        return _login_error("google", None)
    try:
        token = await _google_client(request).authorize_access_token(request)
    except OAuthError as exc:
        log.warning("google sign-in failed: %s", exc.error)
        return _login_error("google", None)
    except OAUTH_NETWORK_ERRORS as exc:
        log.warning("google sign-in unavailable: %s", type(exc).__name__)
        return _login_error("google", None)
    info = token.get("userinfo") or {}
    if not info.get("sub") or not info.get("email") or not info.get("email_verified"):
        return _login_error("google", None)
    ip = client_ip(request)
    try:
        auth = accounts.google_sign_in(info["sub"], info["email"], info.get("name", ""))
    except accounts.AccountError:
        return _login_error("google", None)
    session_token = sessions.create_session(auth.user_id, auth.workspace_id, ip, request.headers.get("user-agent"))
    audit.record(auth.workspace_id, "auth.login", user_id=auth.user_id, ip=ip, data={"method": "google"})
    return _signed_in(HOME, session_token)
