"""Configurações: the workspace's profile, API keys and integrations (owners and admins), and the
signed-in user's own account (everyone, sellers included).

Only `my_account`, `update_my_account`, `change_password`, `unlink_google`, `email_confirmation` and
`resend_email_confirmation` are open to sellers; they act on the caller's own user and nothing else.
"""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import select

from db.models import Agent, User, Workspace
from db.tenancy import global_session
from runtime import audit, mail
from runtime.access import NotSignedIn, Principal, UserError, require_manager
from runtime.auth import accounts, api_keys, email_verification, sessions
from runtime.config import get_settings

# The zones a Brazilian business is in (any valid IANA name is accepted).
TIMEZONES = (
    "America/Sao_Paulo",
    "America/Manaus",
    "America/Cuiaba",
    "America/Campo_Grande",
    "America/Porto_Velho",
    "America/Boa_Vista",
    "America/Rio_Branco",
    "America/Belem",
    "America/Fortaleza",
    "America/Recife",
    "America/Maceio",
    "America/Bahia",
    "America/Araguaina",
    "America/Noronha",
)


def _date_br(dt) -> str:
    return dt.strftime("%d/%m/%Y %H:%M") if dt else ""


# --- workspace profile (managers) -----------------------------------------------------------


def workspace_profile(principal: Principal) -> dict[str, Any]:
    require_manager(principal)
    with principal.session() as s:
        ws = s.get(Workspace, principal.workspace_id)
        return {"name": ws.name, "timezone": ws.timezone, "timezones": list(TIMEZONES)}


def update_workspace_profile(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    require_manager(principal)
    data = data or {}
    name = str(data.get("name") or "").strip()
    tz = str(data.get("timezone") or "").strip()
    if not name:
        raise UserError("Informe o nome da empresa.")
    if len(name) > 120:
        raise UserError("O nome da empresa pode ter no máximo 120 caracteres.")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError("Fuso horário inválido.") from exc
    with principal.session() as s:
        ws = s.get(Workspace, principal.workspace_id)
        ws.name, ws.timezone = name, tz
        s.add(ws)
        s.commit()
    audit.record(principal.workspace_id, "settings.workspace", user_id=principal.user_id, data={"timezone": tz})
    return workspace_profile(principal)


# --- API keys (managers) --------------------------------------------------------------------


def list_api_keys(principal: Principal) -> list[dict[str, Any]]:
    require_manager(principal)
    return [
        {
            "id": str(k.id),
            "name": k.name,
            "prefix": k.prefix,
            "created": _date_br(k.created_at),
            "last_used": _date_br(k.last_used_at) or "Nunca usada",
            "revoked": k.revoked_at is not None,
        }
        for k in api_keys.list_api_keys(principal.workspace_id)
    ]


def create_api_key(principal: Principal, name: str) -> dict[str, Any]:
    """A new key; `key` is the secret, returned this once and never again."""
    require_manager(principal)
    name = (name or "").strip()
    if not name:
        raise UserError("Dê um nome à chave (ex.: Integração com o CRM).")
    if len(name) > 120:
        raise UserError("O nome pode ter no máximo 120 caracteres.")
    new = api_keys.create_api_key(principal.workspace_id, name, created_by=principal.user_id)
    audit.record(
        principal.workspace_id,
        "settings.api_key_create",
        user_id=principal.user_id,
        target_type="api_key",
        target_id=str(new.id),
    )
    return {"id": str(new.id), "name": name, "key": new.key}


def revoke_api_key(principal: Principal, key_id: str) -> dict[str, Any]:
    require_manager(principal)
    try:
        kid = uuid.UUID(str(key_id))
    except ValueError as exc:
        raise UserError("Chave não encontrada.") from exc
    if not api_keys.revoke_api_key(principal.workspace_id, kid):
        raise UserError("Esta chave não existe ou já foi revogada.")
    audit.record(
        principal.workspace_id,
        "settings.api_key_revoke",
        user_id=principal.user_id,
        target_type="api_key",
        target_id=str(kid),
    )
    return {"ok": True}


# --- integrations (managers) ----------------------------------------------------------------


def integrations(principal: Principal) -> list[dict[str, Any]]:
    """What is configured, from the server's settings and the agents' model settings. Never a secret."""
    require_manager(principal)
    cfg = get_settings()
    items = [
        {
            "id": "google",
            "name": "Login com Google",
            "ok": cfg.google_enabled,
            "detail": "Ativo: a equipe pode entrar com a conta Google."
            if cfg.google_enabled
            else "Não configurado no servidor (GOOGLE_CLIENT_ID e GOOGLE_CLIENT_SECRET).",
        },
        _email_item(cfg),
        {
            "id": "stripe",
            "name": "Stripe (cobrança)",
            "ok": False,
            "detail": "Ainda não disponível nesta versão.",
        },
    ]
    with principal.session() as s:
        agents = s.exec(select(Agent).order_by(Agent.created_at)).all()
    for agent in agents:
        llm = (agent.config or {}).get("llm") or {}
        provider = llm.get("provider", "gemini")
        keyless = provider in ("none", "ollama")
        has_key = bool(agent.llm_api_key_encrypted)
        if provider == "none":
            detail = "Sem modelo de IA: responde com fluxos fixos e a base de conhecimento."
        elif keyless or has_key:
            detail = f"Modelo {provider}: chave configurada." if has_key else f"Modelo {provider} (sem chave)."
        else:
            detail = f"Modelo {provider}: falta a chave de API do modelo (configure em Agentes)."
        items.append(
            {
                "id": f"llm-{agent.id}",
                "name": f"IA do agente {agent.name}",
                "ok": provider != "none" and (keyless or has_key),
                "detail": detail,
            }
        )
    if not agents:
        items.append(
            {
                "id": "llm",
                "name": "Modelo de IA",
                "ok": False,
                "detail": "Nenhum agente criado ainda: a chave do modelo é configurada em cada agente.",
            }
        )
    return items


def _email_item(cfg) -> dict[str, Any]:
    try:
        server = mail.configured_server(cfg)
    except mail.MailError as exc:
        return {"id": "email", "name": "E-mail (convites)", "ok": False, "detail": str(exc)}
    if server is None:
        detail = "Não configurado (SMTP_URL): os convites da equipe são enviados por link."
    else:
        detail = f"Convites enviados por {server.label} como {cfg.mail_from}."
    return {"id": "email", "name": "E-mail (convites)", "ok": server is not None, "detail": detail}


# --- the signed-in user's own account (everyone) --------------------------------------------


def my_account(principal: Principal) -> dict[str, Any]:
    with global_session() as s:
        user = s.get(User, principal.user_id)
        if user is None:
            raise NotSignedIn()
        return {
            "name": user.name,
            "email": user.email,
            "role": principal.role.value,
            "has_password": user.password_hash is not None,
            "google_linked": user.google_sub is not None,
            "google_enabled": get_settings().google_enabled,
        }


def update_my_account(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """The caller's own display name (the e-mail is the sign-in and does not change here)."""
    try:
        accounts.set_user_name(principal.user_id, str((data or {}).get("name") or ""))
    except accounts.AccountError as exc:
        raise UserError(str(exc)) from exc
    return my_account(principal)


def change_password(
    principal: Principal, current: str | None, new: str | None, *, keep_session: str | None = None
) -> dict[str, Any]:
    """Change the caller's password and sign out their other sessions (all but `keep_session`,
    the caller's own session token)."""
    try:
        accounts.change_password(principal.user_id, current, new)
    except accounts.AccountError as exc:
        raise UserError(str(exc)) from exc
    signed_out = sessions.revoke_user_sessions(principal.user_id, keep_token=keep_session)
    audit.record(principal.workspace_id, "auth.password_change", user_id=principal.user_id)
    return {"ok": True, "sessions_revoked": signed_out}


def unlink_google(principal: Principal) -> dict[str, Any]:
    try:
        accounts.unlink_google(principal.user_id)
    except accounts.AccountError as exc:
        raise UserError(str(exc)) from exc
    audit.record(principal.workspace_id, "auth.google_unlink", user_id=principal.user_id)
    return my_account(principal)


# --- the panel's e-mail confirmation notice (everyone; runtime.auth.email_verification) ----


def email_confirmation(principal: Principal) -> dict[str, Any]:
    """Whether the caller's address still needs confirming, what the notice says and what it offers.
    An unconfirmed account may do everything; it only isn't joined by a Google sign-in (one takes
    it over), so with neither e-mail nor Google on this server there is nothing to ask."""
    try:
        st = email_verification.status(principal.user_id)
    except email_verification.VerificationError as exc:
        raise NotSignedIn() from exc
    google = get_settings().google_enabled
    view: dict[str, Any] = {"needed": False, "text": "", "button": "", "href": ""}
    if st.verified or not (st.can_email or google):
        return view
    view["needed"] = True
    if st.can_email and st.last_sent_at is not None:
        view["text"] = (
            f"Confirme o seu e-mail: enviamos um link para {st.email}. Não chegou? Confira o spam ou peça outro."
        )
        view["button"] = "Reenviar link"
    elif st.can_email:
        view["text"] = f"Confirme o seu e-mail {st.email}: peça o link de confirmação."
        view["button"] = "Enviar link"
    else:
        view["text"] = f"Confirme o seu e-mail: em Configurações, vincule a conta Google de {st.email}."
        view["href"] = "/configuracoes"
    return view


def resend_email_confirmation(principal: Principal) -> dict[str, Any]:
    """A new confirmation link by e-mail (at most three an hour, the sign-up's included)."""
    try:
        email_verification.send_link(principal.user_id)
    except email_verification.VerificationError as exc:
        raise UserError(str(exc)) from exc
    return {**email_confirmation(principal), "sent": True}
