"""Status: the health of what this workspace depends on, for the owner's "is it working?" page.

* Banco de dados: a real query and its latency.
* Fila de tarefas: this workspace's jobs in pgqueuer's table (runtime.jobs.postgres): pending,
  scheduled, running, failed (held for inspection), the oldest pending one, and whether a
  worker is connected. Jobs carry their workspace in the payload; other tenants' jobs are
  never counted or shown.
* Canais: last event received and last error of each channel (runtime.panel.channels).
* IA: each agent's model configuration (runtime.agent.llm.build_chat_model decides whether it
  can work, without calling the provider: no paid request per page load), the last reply the
  model wrote and the last time it was unavailable (recorded by the agent as a handoff reason).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text
from sqlmodel import select

from db.models import Agent, Conversation, ConversationTurn, Workspace
from runtime import crypto
from runtime.access import Principal, require_manager
from runtime.jobs import names as job_names
from runtime.jobs.postgres import APPLICATION_NAME
from runtime.panel.channels import ago, list_channels

JOB_LABELS = {
    job_names.PROCESS_TURN: "Resposta do agente",
    job_names.SEND_MESSAGE: "Envio de mensagem",
    job_names.INGEST_DOCUMENT: "Leitura de documento",
    job_names.DRIVE_SYNC: "Sincronização do Google Drive",
    job_names.REEMBED: "Reindexação do conhecimento",
}
LLM_UNAVAILABLE = "modelo de linguagem indisponível"  # runtime.agent.graph's handoff reason prefix
PROVIDER_LABELS = {"gemini": "Google Gemini", "openai": "OpenAI (ou compatível)", "ollama": "Ollama", "none": "Nenhum"}
STUCK_AFTER_SECONDS = 300  # a ready job waiting longer than this means the worker is behind or down
DEFAULT_TZ = "America/Sao_Paulo"
LEVELS = ("ok", "warn", "error")

_JOBS = text("""
SELECT
  count(*) FILTER (WHERE status = 'queued' AND execute_after <= now()) AS pending,
  count(*) FILTER (WHERE status = 'queued' AND execute_after > now()) AS scheduled,
  count(*) FILTER (WHERE status = 'picked') AS running,
  count(*) FILTER (WHERE status = 'failed') AS failed,
  extract(epoch FROM now() - min(execute_after) FILTER (WHERE status = 'queued' AND execute_after <= now()))
    AS oldest_seconds
FROM pgqueuer
WHERE position(CAST(:needle AS bytea) IN payload) > 0
""")
_FAILURES = text("""
SELECT q.entrypoint, q.updated,
  (SELECT l.traceback FROM pgqueuer_log l WHERE l.job_id = q.id AND l.status = 'failed'
   ORDER BY l.created DESC LIMIT 1) AS traceback
FROM pgqueuer q
WHERE q.status = 'failed' AND position(CAST(:needle AS bytea) IN q.payload) > 0
ORDER BY q.updated DESC
LIMIT 5
""")
_WORKERS = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")


def _worst(*levels: str) -> str:
    return max(levels, key=LEVELS.index) if levels else "ok"


def _database(session) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        version = session.execute(text("SELECT current_setting('server_version')")).scalar_one()
    except Exception as exc:  # the page must still render to say the database is the problem
        return {"ok": False, "level": "error", "latency_ms": 0, "version": "", "error": type(exc).__name__}
    latency = round((time.perf_counter() - started) * 1000, 1)
    return {
        "ok": True,
        "level": "ok" if latency < 500 else "warn",
        "latency_ms": latency,
        "version": f"PostgreSQL {version.split()[0]}",
        "error": "",
    }


def _jobs(session, workspace_id) -> dict[str, Any]:
    needle = f'"workspace_id":"{workspace_id}"'.encode()  # runtime.jobs.base.encode_payload's JSON
    row = session.execute(_JOBS, {"needle": needle}).one()
    failures = []
    for entrypoint, updated, tb in session.execute(_FAILURES, {"needle": needle}).all():
        tb = tb or {}
        error = tb.get("exception_type") or "erro"
        if tb.get("exception_message"):
            error += f": {str(tb['exception_message'])[:200]}"
        failures.append({"job": JOB_LABELS.get(entrypoint, entrypoint), "when": ago(updated), "error": error})
    # each worker process: two lanes, each with a query and a LISTEN connection
    workers = session.execute(_WORKERS, {"name": APPLICATION_NAME}).scalar_one() // 4
    oldest = float(row.oldest_seconds) if row.oldest_seconds is not None else None
    level = "ok"
    if row.failed or (oldest is not None and oldest > STUCK_AFTER_SECONDS):
        level = "warn"
    if oldest is not None and oldest > STUCK_AFTER_SECONDS and not workers:
        level = "error"
    return {
        "pending": row.pending,
        "scheduled": row.scheduled,
        "running": row.running,
        "failed": row.failed,
        "oldest_pending_seconds": round(oldest, 1) if oldest is not None else None,
        "oldest_pending": _duration(oldest) if oldest is not None else "—",
        "workers": workers,
        "recent_failures": failures,
        "level": level,
    }


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


def _agent_llm(agent: Agent) -> dict[str, Any]:
    from runtime.agent.llm import LLMUnavailable, build_chat_model
    from runtime.agent.settings import AgentSettings

    llm = AgentSettings.model_validate(agent.config or {}).llm
    problem = ""
    try:
        key = crypto.decrypt(agent.llm_api_key_encrypted) if agent.llm_api_key_encrypted else None
        build_chat_model(llm, key)  # builds a client object; makes no request
    except LLMUnavailable as exc:
        problem = str(exc)
    except ValueError:
        problem = "a chave de API salva não pôde ser lida (SECRET_KEY mudou?)"
    if llm.provider == "none":
        level, state = "warn", "Sem modelo: responde só com fluxos fixos e o conhecimento"
    elif problem:
        level, state = "error", "Configuração incompleta"
    else:
        level, state = "ok", "Configurado"
    return {
        "name": agent.name,
        "provider": PROVIDER_LABELS.get(llm.provider, llm.provider),
        "model": llm.model or ("—" if llm.provider == "none" else "padrão do provedor"),
        "key": "configurada" if agent.llm_api_key_encrypted else "não configurada",
        "state": state,
        "problem": problem,
        "level": level,
    }


def _llm(session) -> dict[str, Any]:
    agents = [_agent_llm(a) for a in session.exec(select(Agent).order_by(Agent.created_at)).all()]
    last_reply = session.exec(
        select(ConversationTurn.created_at)
        .where(ConversationTurn.route == "llm")
        .order_by(ConversationTurn.created_at.desc())
        .limit(1)
    ).first()
    failed = session.exec(
        select(Conversation.handoff_reason, Conversation.handoff_requested_at)
        .where(Conversation.handoff_reason.startswith(LLM_UNAVAILABLE))
        .order_by(Conversation.handoff_requested_at.desc())
        .limit(1)
    ).first()
    last_error, last_error_at = (failed[0], failed[1]) if failed else ("", None)
    level = _worst(*(a["level"] for a in agents)) if agents else "warn"
    if last_error_at is not None and (last_reply is None or last_error_at > last_reply):
        level = _worst(level, "warn")  # the model failed more recently than it last answered
    return {
        "agents": agents,
        "last_reply_ago": ago(last_reply),
        "last_error": last_error.removeprefix(LLM_UNAVAILABLE).lstrip(": ") if last_error else "",
        "last_error_ago": ago(last_error_at) if last_error_at else "",
        "level": level,
    }


def _timezone(session, workspace_id) -> ZoneInfo:
    workspace = session.get(Workspace, workspace_id)
    try:
        return ZoneInfo(workspace.timezone if workspace else DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def system_status(principal: Principal) -> dict[str, Any]:
    """Everything the Status page shows, checked now."""
    require_manager(principal)
    now = datetime.now(UTC)
    with principal.session() as s:
        database = _database(s)
        tz = _timezone(s, principal.workspace_id) if database["ok"] else ZoneInfo(DEFAULT_TZ)
        jobs = _jobs(s, principal.workspace_id) if database["ok"] else None
        llm = _llm(s) if database["ok"] else None
    channels = list_channels(principal) if database["ok"] else []
    active = [c for c in channels if c["is_active"]]
    channels_level = "warn" if not active else _worst(*("error" if c["last_error"] else "ok" for c in active))
    overall = _worst(
        database["level"], jobs["level"] if jobs else "error", channels_level, llm["level"] if llm else "ok"
    )
    labels = {"ok": "Tudo funcionando", "warn": "Requer atenção", "error": "Há problemas"}
    return {
        "checked_at": now.isoformat(),
        "checked_time": now.astimezone(tz).strftime("%H:%M:%S"),
        "overall": overall,
        "overall_label": labels[overall],
        "database": database,
        "jobs": jobs,
        "channels": [
            {
                k: c[k]
                for k in ("id", "name", "provider_label", "status", "status_color", "last_event_ago", "last_error")
            }
            for c in channels
        ],
        "channels_level": channels_level,
        "llm": llm,
    }
