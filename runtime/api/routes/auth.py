"""Browser auth: full-page form posts that set or clear the HttpOnly session cookie, and Google sign-in."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from db.models import Role
from runtime import audit
from runtime.auth import accounts, email_verification, invitations, password_reset, ratelimit, sessions
from runtime.config import get_settings

from ..deps import OAUTH_NETWORK_ERRORS, client_ip, same_origin

log = logging.getLogger(__name__)
router = APIRouter(prefix="/auth", tags=["auth"], dependencies=[Depends(same_origin)])

HOME = "/painel"
SELLER_HOME = "/inbox"
SETTINGS = "/configuracoes"


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
    target = safe_next(next)
    if target == HOME and auth.role == Role.seller:
        target = SELLER_HOME  # sellers work in the inbox; the Painel is for owners and admins
    return _signed_in(target, token)


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
    email_verification.after_sign_up(new.user_id)
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


# --- accepting a team invitation (runtime.auth.invitations) ----------------------------------


def _invite_error(token: str, code: str) -> RedirectResponse:
    return RedirectResponse(f"/convite?{urlencode({'token': token, 'erro': code})}", status_code=303)


@router.post("/invite/accept")
def invite_accept(
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    """Join the invitation's workspace (new account, or an existing one proving its password) and
    sign in there: sellers land on the inbox, managers on the panel."""
    ip = client_ip(request)
    try:
        email = invitations.describe(token).email
    except invitations.InvitationError as exc:
        return _invite_error(token, exc.code)
    if not ratelimit.login_allowed(ip, email):
        return _invite_error(token, "bloqueado")
    current = sessions.resolve_session(request.cookies.get(get_settings().session_cookie_name))
    try:
        done = invitations.accept(token, name, password, signed_in_user_id=current.user_id if current else None)
    except invitations.InvitationError as exc:
        if exc.code == "senha_incorreta":
            ratelimit.record_attempt(ip, email, success=False)
        return _invite_error(token, exc.code)
    ratelimit.record_attempt(ip, email, success=True)
    if done.created_user:
        email_verification.after_sign_up(done.user_id)  # the invitation's link proves nothing: see the module
    session_token = sessions.create_session(done.user_id, done.workspace_id, ip, request.headers.get("user-agent"))
    audit.record(
        done.workspace_id,
        "team.invite_accept",
        user_id=done.user_id,
        ip=ip,
        data={"role": done.role.value, "new_account": done.created_user},
    )
    if current is not None:
        sessions.revoke_session(request.cookies.get(get_settings().session_cookie_name))
    return _signed_in(SELLER_HOME if done.role.value == "seller" else HOME, session_token)


# --- forgotten password (runtime.auth.password_reset) ---------------------------------------


@router.post("/password/forgot")
def password_forgot(request: Request, email: Annotated[str, Form(max_length=320)]) -> RedirectResponse:
    """E-mail a reset link if the account exists; the answer is the same either way."""
    ip = client_ip(request)
    if not ratelimit.login_allowed(ip, email):
        return RedirectResponse("/esqueci-senha?erro=bloqueado", status_code=303)
    ratelimit.record_attempt(ip, email, success=True)  # counts toward the address's attempts, not a failure
    queued = password_reset.request_reset(email)
    log.info("password reset asked from ip=%s (queued=%s)", ip, queued)
    return RedirectResponse("/esqueci-senha?enviado=1", status_code=303)


@router.post("/password/reset")
def password_reset_submit(
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
) -> RedirectResponse:
    """Set the new password (signs the person out everywhere), then to the login page."""
    try:
        user_id = password_reset.complete(token, password, confirm)
    except password_reset.ResetError as exc:
        return RedirectResponse(f"/redefinir-senha?{urlencode({'token': token, 'erro': exc.code})}", status_code=303)
    log.info("password reset done for user %s from ip=%s", user_id, client_ip(request))
    return RedirectResponse("/login?aviso=senha_redefinida", status_code=303)


# --- e-mail confirmation (runtime.auth.email_verification) -----------------------------------


@router.post("/email/verify")
def email_verify(request: Request, token: Annotated[str, Form(max_length=200)]) -> RedirectResponse:
    """The button on /verificar-email: a POST, so a mail scanner opening the link confirms nothing."""
    try:
        user_id = email_verification.confirm(token)
    except email_verification.VerificationError as exc:
        return RedirectResponse(f"/verificar-email?{urlencode({'token': token, 'erro': exc.code})}", status_code=303)
    log.info("e-mail confirmed for user %s from ip=%s", user_id, client_ip(request))
    return RedirectResponse("/verificar-email?confirmado=1", status_code=303)


# --- Google (OpenID Connect, authorization code + PKCE, state checked by authlib) -----


def _google_client(request: Request):
    oauth = request.app.state.oauth
    return oauth.create_client("google")


@router.get("/google/login")
async def google_login(request: Request) -> RedirectResponse:
    request.session.pop(LINK_KEY, None)  # a link started and abandoned earlier is not this sign-in
    if not get_settings().google_enabled:
        return _login_error("google", None)
    redirect_uri = get_settings().absolute_url("/auth/google/callback")
    try:
        return await _google_client(request).authorize_redirect(request, redirect_uri)
    except OAUTH_NETWORK_ERRORS as exc:  # discovery document unreachable: Google down or no network
        log.warning("google sign-in unavailable: %s", type(exc).__name__)
        return _login_error("google", None)


LINK_KEY = "pv_google_link"  # in the signed OAuth-state cookie: this round trip links, not signs in


def _link_result(code: str) -> RedirectResponse:
    return RedirectResponse(f"{SETTINGS}?{urlencode({'google': code})}", status_code=303)


@router.post("/google/link")
async def google_link(request: Request) -> RedirectResponse:
    """Configurações > "Vincular conta Google": the signed-in user goes through Google's consent and
    the callback links that Google account to them (same redirect URI as the sign-in)."""
    current = sessions.resolve_session(request.cookies.get(get_settings().session_cookie_name))
    if current is None:
        return _login_error("sessao", SETTINGS)
    if not get_settings().google_enabled:
        return _link_result("indisponivel")
    request.session[LINK_KEY] = str(current.user_id)
    redirect_uri = get_settings().absolute_url("/auth/google/callback")
    try:
        return await _google_client(request).authorize_redirect(request, redirect_uri)
    except OAUTH_NETWORK_ERRORS as exc:
        log.warning("google link unavailable: %s", type(exc).__name__)
        request.session.pop(LINK_KEY, None)
        return _link_result("erro")


def _finish_link(request: Request, link_user: str, info: dict | None) -> RedirectResponse:
    current = sessions.resolve_session(request.cookies.get(get_settings().session_cookie_name))
    if current is None or str(current.user_id) != link_user:
        return _login_error("sessao", SETTINGS)
    if info is None:
        return _link_result("erro")
    try:
        accounts.link_google(current.user_id, info["sub"], info.get("email"))
    except accounts.AccountError as exc:
        return _link_result({"google_em_uso": "em_uso", "google_ja_vinculado": "ja_vinculado"}.get(exc.code, "erro"))
    audit.record(current.workspace_id, "auth.google_link", user_id=current.user_id, ip=client_ip(request))
    return _link_result("vinculado")


@router.get("/google/callback")
async def google_callback(request: Request) -> RedirectResponse:
    from authlib.integrations.base_client.errors import OAuthError

    link_user = request.session.pop(LINK_KEY, None)
    if not get_settings().google_enabled:
        return _login_error("google", None)
    try:
        token = await _google_client(request).authorize_access_token(request)
    except OAuthError as exc:
        log.warning("google sign-in failed: %s", exc.error)
        return _finish_link(request, link_user, None) if link_user else _login_error("google", None)
    except OAUTH_NETWORK_ERRORS as exc:
        log.warning("google sign-in unavailable: %s", type(exc).__name__)
        return _finish_link(request, link_user, None) if link_user else _login_error("google", None)
    info = token.get("userinfo") or {}
    if not info.get("sub") or not info.get("email"):
        return _finish_link(request, link_user, None) if link_user else _login_error("google", None)
    if link_user:
        return _finish_link(request, link_user, info if info.get("email_verified") else None)
    ip = client_ip(request)
    try:
        auth = accounts.google_sign_in(
            info["sub"], info["email"], info.get("name", ""), email_verified=bool(info.get("email_verified")), ip=ip
        )
    except accounts.AccountError as exc:
        shown = exc.code if exc.code in GOOGLE_LOGIN_ERRORS else "google"
        return _login_error(shown, None)
    session_token = sessions.create_session(auth.user_id, auth.workspace_id, ip, request.headers.get("user-agent"))
    audit.record(auth.workspace_id, "auth.login", user_id=auth.user_id, ip=ip, data={"method": "google"})
    target = SELLER_HOME if auth.role == Role.seller else HOME
    if auth.took_over:
        target += "?" + urlencode({"aviso": TAKEOVER_NOTICE})  # the panel explains what was ended
    return _signed_in(target, session_token)


# Account errors of a Google sign-in the login page explains (webapp.state.LOGIN_ERRORS); others: "google".
GOOGLE_LOGIN_ERRORS = frozenset({"google_outra_conta", "google_email_nao_verificado"})
TAKEOVER_NOTICE = "conta_protegida"
