"""Agentes: list, create, edit and delete the workspace's sales agents (owners and admins).

The editor works on a flat, form-ready dict (strings for what the owner types, booleans for
switches, lists of rows for qualification fields, rules and weekly hours). `save_agent` turns it
into `runtime.agent.settings.AgentSettings` through `runtime.agent.service` (the same validation
the API uses) and reports problems in pt-BR naming the tab and the field. The agent reads its
row at the start of every turn, so a saved change applies from the lead's next message.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import select

from db.models import Agent, Channel, Workspace
from runtime import audit
from runtime.access import Principal, UserError, require_manager
from runtime.agent import hours as hours_mod
from runtime.agent import service
from runtime.agent.settings import AgentSettings, FollowupStep

MODES = {"pilot": "Piloto", "copilot": "Copiloto", "off": "Desligado"}
PROVIDERS = {
    "gemini": "Google Gemini",
    "openai": "OpenAI (ou compatível)",
    "ollama": "Ollama (local)",
    "none": "Nenhum",
}
LANGUAGES = {"pt-BR": "Português (Brasil)", "en": "Inglês", "es": "Espanhol"}
MATCHES = {"keywords": "Palavras-chave", "regex": "Expressão regular", "button": "Botão / opção de menu"}
ACTIONS = {
    "reply": "Responder",
    "handoff": "Passar para a equipe",
    "opt_out": "Descadastrar o contato",
    "price_list": "Enviar tabela de preços",
    "business_hours": "Informar o horário",
}
VOICE_REPLIES = {
    "never": "Nunca (só texto)",
    "when_lead_sent_audio": "Quando o cliente mandar áudio",
    "always": "Sempre",
}
TOOLS = {
    "update_lead": "Registrar dados do lead (qualificação)",
    "handoff_to_human": "Passar para a equipe",
    "send_document": "Enviar documentos do conhecimento",
    "schedule_meeting": "Registrar pedido de reunião/visita",
    "crm_sync": "Marcar para sincronizar com o CRM",
}
WEEKDAYS = ("Segunda", "Terça", "Quarta", "Quinta", "Sexta", "Sábado", "Domingo")

# Tabs of the editor, as the messages name them.
TAB_PERSONA = "Persona"
TAB_QUALIFICATION = "Qualificação"
TAB_RULES = "Comportamento"
TAB_MODEL = "Modelo"
TAB_HANDOFF = "Transferência"
TAB_VOICE = "Voz"
TAB_HOURS = "Horário"
TAB_FOLLOWUP = "Follow-up"
FOLLOWUP_UNITS = {"minutes": "minutos", "hours": "horas", "days": "dias"}
FOLLOWUP_CONTENTS = {"text": "Texto fixo", "llm": "Mensagem escrita pela IA", "template": "Modelo aprovado (template)"}

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


# --- reading ---------------------------------------------------------------------------------


def _agent(session, agent_id: Any) -> Agent:
    try:
        aid = agent_id if isinstance(agent_id, uuid.UUID) else uuid.UUID(str(agent_id))
    except ValueError as exc:
        raise UserError("Agente não encontrado.") from exc
    agent = session.get(Agent, aid)  # RLS: another workspace's agent is simply not there
    if agent is None:
        raise UserError("Agente não encontrado.")
    return agent


def _lines(items: list[str]) -> str:
    return "\n".join(items)


def _num(value: float | int) -> str:
    text = f"{value}"
    return text[:-2] if text.endswith(".0") else text


def _hours_rows(bh: dict[str, Any]) -> list[dict[str, Any]]:
    week = {int(k): v for k, v in (bh.get("week") or {}).items()}
    rows = []
    for day, label in enumerate(WEEKDAYS):
        ranges = week.get(day) or []
        first = ranges[0] if ranges else {}
        second = ranges[1] if len(ranges) > 1 else {}
        rows.append(
            {
                "day": day,
                "label": label,
                "open": bool(ranges),
                "start": first.get("open", "08:00"),
                "end": first.get("close", "18:00"),
                "start2": second.get("open", ""),
                "end2": second.get("close", ""),
            }
        )
    return rows


def blank_form() -> dict[str, Any]:
    """The editor's values for a new agent (AgentSettings' defaults)."""
    return _form(None, AgentSettings())


def _form(agent: Agent | None, cfg: AgentSettings) -> dict[str, Any]:
    c = cfg.model_dump(mode="json")
    return {
        "id": str(agent.id) if agent else "",
        "name": agent.name if agent else "",
        "mode": agent.mode.value if agent else "pilot",
        # Persona
        "persona": c["persona"],
        "company_description": c["company_description"],
        "tone": c["tone"],
        "language": c["language"],
        # Qualificação
        "goals": c["goals"],
        "qualification": [
            {"key": q["key"], "label": q["label"], "question": q["question"], "required": q["required"]}
            for q in c["qualification"]
        ],
        # Comportamento
        "forbidden_topics": _lines(c["forbidden_topics"]),
        "max_reply_chars": str(c["max_reply_chars"]),
        "intents": [
            {
                "name": r["name"],
                "match": r["match"],
                "patterns": _lines(r["patterns"]),
                "response": r["response"],
                "action": r["action"],
            }
            for r in c["intents"]
        ],
        # Modelo
        "llm_provider": c["llm"]["provider"],
        "llm_model": c["llm"]["model"],
        "llm_base_url": c["llm"]["base_url"] or "",
        "llm_temperature": _num(c["llm"]["temperature"]),
        "llm_timeout_seconds": _num(c["llm"]["timeout_seconds"]),
        "llm_max_retries": str(c["llm"]["max_retries"]),
        "llm_api_key": "",  # write-only
        "llm_api_key_set": bool(agent and agent.llm_api_key_encrypted),
        "llm_api_key_clear": False,
        **{f"tool_{k}": bool(v) for k, v in c["tools"].items()},
        # Transferência
        "handoff_min_confidence": _num(c["handoff"]["min_confidence"]),
        "handoff_message": c["handoff"]["message_to_lead"],
        "handoff_notify_phone": c["handoff"]["notify_seller_phone"] or "",
        "learned_enabled": c["learned_answers"]["enabled"],
        "learned_require_approval": c["learned_answers"]["require_approval"],
        "learned_threshold": _num(c["learned_answers"]["threshold"]),
        # Voz
        "voice_replies": c["voice"]["replies"],
        "voice_id": c["voice"]["voice_id"] or "",
        "voice_name": c["voice"]["voice_name"] or "",
        # Horário
        "timezone": c["business_hours"]["timezone"],
        "hours": _hours_rows(c["business_hours"]),
        "closed_dates": _lines(c["business_hours"]["closed_dates"]),
        # Follow-up
        "followup_enabled": c["followups"]["enabled"],
        "followup_steps": [_followup_row(st) for st in c["followups"]["steps"]],
        "followup_stop_stages": _lines(c["followups"]["stop_stages"]),
        "followup_daily_cap": str(c["followups"]["daily_cap_per_channel"]),
        "followup_min_spacing": str(c["followups"]["min_spacing_seconds"]),
    }


def _followup_row(st: dict[str, Any]) -> dict[str, Any]:
    return {
        "delay": str(st["delay"]),
        "unit": st["unit"],
        "content": st["content"],
        "text": st["text"],
        "template_name": st["template_name"],
        "template_language": st["template_language"],
        "template_variables": _lines(st["template_variables"]),
        "business_hours_only": st["business_hours_only"],
        "skip_weekends": st["skip_weekends"],
        "skip_holidays": st["skip_holidays"],
        "stages": _lines(st["stages"]),
    }


def blank_followup_step() -> dict[str, Any]:
    """A new row of the cadence editor."""
    return _followup_row(FollowupStep(delay=1, unit="days").model_dump(mode="json"))


def list_agents(principal: Principal) -> list[dict[str, Any]]:
    """The workspace's agents as cards: name, mode, model, voice and how many channels use it."""
    require_manager(principal)
    with principal.session() as s:
        agents = s.exec(select(Agent).order_by(Agent.created_at)).all()
        workspace = s.get(Workspace, principal.workspace_id)
        tz = hours_mod.zone(workspace.timezone if workspace else "")
        counts = dict(
            s.exec(
                select(Channel.agent_id, func.count()).where(Channel.agent_id.is_not(None)).group_by(Channel.agent_id)
            ).all()
        )
        out = []
        for a in agents:
            cfg = AgentSettings.model_validate(a.config or {})
            summary = (cfg.persona or cfg.company_description or "").strip().replace("\n", " ")
            out.append(
                {
                    "id": str(a.id),
                    "name": a.name,
                    "mode": a.mode.value,
                    "mode_label": MODES[a.mode.value],
                    "summary": summary[:140] + ("…" if len(summary) > 140 else ""),
                    "model": (
                        "Sem modelo de linguagem (regras e conhecimento)"
                        if cfg.llm.provider == "none"
                        else PROVIDERS[cfg.llm.provider] + (f" · {cfg.llm.model}" if cfg.llm.model else "")
                    ),
                    "rules": len(cfg.intents),
                    "qualification": len(cfg.qualification),
                    "voice": cfg.voice.replies != "never",
                    "channels": int(counts.get(a.id, 0)),
                    "updated_at": a.updated_at.astimezone(tz).strftime("%d/%m/%Y %H:%M"),
                }
            )
        return out


def get_agent(principal: Principal, agent_id: str) -> dict[str, Any]:
    """One agent, as the editor's form values (the LLM key is never returned, only whether it is set)."""
    require_manager(principal)
    with principal.session() as s:
        agent = _agent(s, agent_id)
        return _form(agent, AgentSettings.model_validate(agent.config or {}))


# --- validation: form values -> AgentSettings -------------------------------------------------


def _where(tab: str, field: str) -> str:
    return f"Aba {tab} › {field}"


def _text(data: dict, key: str, default: str = "") -> str:
    value = data.get(key, default)
    return default if value is None else str(value).strip()


def _float(data: dict, key: str, tab: str, label: str, lo: float, hi: float) -> float:
    raw = data.get(key)
    try:
        value = float(str(raw).strip().replace(",", "."))
    except (TypeError, ValueError) as exc:
        raise UserError(f"{_where(tab, label)}: informe um número (ex.: {_num(lo)} a {_num(hi)}).") from exc
    if not lo <= value <= hi:
        raise UserError(f"{_where(tab, label)}: deve ficar entre {_num(lo)} e {_num(hi)}.")
    return value


def _int(data: dict, key: str, tab: str, label: str, lo: int, hi: int) -> int:
    raw = data.get(key)
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError) as exc:
        raise UserError(f"{_where(tab, label)}: informe um número inteiro entre {lo} e {hi}.") from exc
    if not lo <= value <= hi:
        raise UserError(f"{_where(tab, label)}: deve ficar entre {lo} e {hi}.")
    return value


def _max(value: str, limit: int, tab: str, label: str) -> str:
    if len(value) > limit:
        raise UserError(f"{_where(tab, label)}: no máximo {limit} caracteres (hoje tem {len(value)}).")
    return value


def _items(value: Any) -> list[str]:
    """A list, or text with one item per line (commas also separate)."""
    raw = [str(v) for v in value] if isinstance(value, list | tuple) else re.split(r"[\n,;]", str(value or ""))
    return [v.strip() for v in raw if v and v.strip()]


def _choice(data: dict, key: str, options: dict, tab: str, label: str, default: str) -> str:
    value = _text(data, key, default) or default
    if value not in options:
        raise UserError(f"{_where(tab, label)}: escolha uma das opções ({', '.join(options.values())}).")
    return value


def _time(value: str, tab_label: str) -> str:
    value = (value or "").strip()
    if len(value) == 4 and value[1] == ":":
        value = "0" + value  # 8:00 -> 08:00
    if not re.fullmatch(r"\d{2}:\d{2}", value) or hours_mod.minutes_of(value) is None:
        raise UserError(f"{tab_label}: horário inválido {value or '(vazio)'!r}; use HH:MM, ex.: 08:30.")
    return value


def _qualification(rows: Any) -> list[dict[str, Any]]:
    out, seen = [], set()
    for i, row in enumerate(rows or [], 1):
        key, label = _text(row, "key").lower(), _text(row, "label")
        question = _text(row, "question")
        if not key and not label and not question:
            continue  # an empty row the owner added and left blank
        where = _where(TAB_QUALIFICATION, f"campo {i}")
        if not label:
            raise UserError(f"{where}: dê um nome ao campo (ex.: Orçamento).")
        if not _KEY_RE.fullmatch(key):
            raise UserError(
                f"{where} ({label}): a chave deve começar com letra e ter só letras minúsculas sem acento, "
                "números e _ (até 40), ex.: orcamento."
            )
        if key in seen:
            raise UserError(f"{where} ({label}): a chave {key!r} já foi usada em outro campo.")
        seen.add(key)
        _max(label, 80, TAB_QUALIFICATION, f"campo {i}, nome")
        _max(question, 300, TAB_QUALIFICATION, f"campo {i}, pergunta")
        out.append({"key": key, "label": label, "question": question, "required": bool(row.get("required", True))})
    if len(out) > 20:
        raise UserError(f"{_where(TAB_QUALIFICATION, 'campos')}: no máximo 20 campos.")
    return out


def _intents(rows: Any) -> list[dict[str, Any]]:
    out = []
    for i, row in enumerate(rows or [], 1):
        name, response = _text(row, "name"), _text(row, "response")
        patterns = _items(row.get("patterns")) if row.get("match") != "regex" else _regexes(row.get("patterns"))
        if not name and not patterns and not response:
            continue
        where = _where(TAB_RULES, f"regra {i}" + (f" ({name})" if name else ""))
        if not name:
            raise UserError(f"{where}: dê um nome à regra (ex.: Promoção).")
        _max(name, 60, TAB_RULES, f"regra {i}, nome")
        match = row.get("match") or "keywords"
        if match not in MATCHES:
            raise UserError(f"{where}: tipo de gatilho inválido.")
        action = row.get("action") or "reply"
        if action not in ACTIONS:
            raise UserError(f"{where}: ação inválida.")
        if not patterns:
            raise UserError(f"{where}: informe pelo menos uma palavra-chave ou padrão que dispara a regra.")
        if len(patterns) > 50:
            raise UserError(f"{where}: no máximo 50 padrões.")
        if match == "regex":
            for p in patterns:
                try:
                    re.compile(p)
                except re.error as exc:
                    raise UserError(f"{where}: a expressão regular {p!r} é inválida ({exc}).") from exc
        if action == "reply" and not response:
            raise UserError(f"{where}: escreva a resposta que o agente deve enviar.")
        _max(response, 2000, TAB_RULES, f"regra {i}, resposta")
        out.append({"name": name, "match": match, "patterns": patterns, "response": response, "action": action})
    if len(out) > 100:
        raise UserError(f"{_where(TAB_RULES, 'regras')}: no máximo 100 regras.")
    return out


def _regexes(value: Any) -> list[str]:
    """Regex patterns: one per line only (commas belong to the expression)."""
    raw = value if isinstance(value, list | tuple) else str(value or "").split("\n")
    return [str(v).strip() for v in raw if str(v).strip()]


def _business_hours(data: dict) -> dict[str, Any]:
    tz = _text(data, "timezone", "America/Sao_Paulo") or "America/Sao_Paulo"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(f"{_where(TAB_HOURS, 'fuso horário')}: {tz!r} não é um fuso conhecido.") from exc
    week: dict[int, list[dict[str, str]]] = {}
    for row in data.get("hours") or []:
        if not row.get("open"):
            continue
        day = int(row["day"])
        label = _where(TAB_HOURS, WEEKDAYS[day])
        ranges = [{"open": _time(row.get("start", ""), label), "close": _time(row.get("end", ""), label)}]
        start2, end2 = _text(row, "start2"), _text(row, "end2")
        if start2 or end2:
            ranges.append({"open": _time(start2, label + " (2º turno)"), "close": _time(end2, label + " (2º turno)")})
        week[day] = ranges
    closed = []
    for raw in _items(data.get("closed_dates")):
        try:
            if len(raw) == 5:
                date(2000, int(raw[:2]), int(raw[3:]))  # MM-DD: every year
            else:
                date.fromisoformat(raw)
        except ValueError as exc:
            raise UserError(
                f"{_where(TAB_HOURS, 'feriados')}: data inválida {raw!r}; use AAAA-MM-DD (ex.: 2026-12-25) "
                "ou MM-DD para todo ano (ex.: 12-25)."
            ) from exc
        closed.append(raw)
    return {"timezone": tz, "week": week, "closed_dates": closed}


def _handoff(data: dict) -> dict[str, Any]:
    phone = _text(data, "handoff_notify_phone")
    if phone:
        from runtime.contacts import ContactError, normalize_phone

        try:
            phone = normalize_phone(phone)
        except ContactError as exc:
            raise UserError(f"{_where(TAB_HANDOFF, 'WhatsApp para avisar o vendedor')}: {exc}") from exc
    message = _text(data, "handoff_message")
    if not message:
        raise UserError(
            f"{_where(TAB_HANDOFF, 'mensagem ao cliente')}: escreva o que o cliente recebe na transferência."
        )
    return {
        "min_confidence": _float(data, "handoff_min_confidence", TAB_HANDOFF, "confiança mínima", 0, 1),
        "message_to_lead": _max(message, 500, TAB_HANDOFF, "mensagem ao cliente"),
        "notify_seller_phone": phone or None,
    }


def _settings(data: dict) -> dict[str, Any]:
    """The form values as AgentSettings fields (only what the form edits; other keys are kept)."""
    base_url = _text(data, "llm_base_url")
    if base_url and not re.match(r"^https?://[^\s/]+", base_url):
        raise UserError(f"{_where(TAB_MODEL, 'URL do servidor')}: use um endereço http:// ou https://.")
    return {
        "persona": _max(_text(data, "persona"), 4000, TAB_PERSONA, "persona"),
        "company_description": _max(_text(data, "company_description"), 8000, TAB_PERSONA, "sobre a empresa"),
        "tone": _max(_text(data, "tone") or "cordial, próximo e objetivo", 300, TAB_PERSONA, "tom de voz"),
        "language": _choice(data, "language", LANGUAGES, TAB_PERSONA, "idioma", "pt-BR"),
        "goals": _max(_text(data, "goals"), 2000, TAB_QUALIFICATION, "objetivo"),
        "qualification": _qualification(data.get("qualification")),
        "forbidden_topics": _forbidden(data.get("forbidden_topics")),
        "max_reply_chars": _int(data, "max_reply_chars", TAB_RULES, "tamanho máximo da resposta", 100, 4096),
        "intents": _intents(data.get("intents")),
        "llm": {
            "provider": _choice(data, "llm_provider", PROVIDERS, TAB_MODEL, "provedor", "gemini"),
            "model": _max(_text(data, "llm_model"), 120, TAB_MODEL, "modelo"),
            "base_url": _max(base_url, 500, TAB_MODEL, "URL do servidor") or None,
            "temperature": _float(data, "llm_temperature", TAB_MODEL, "temperatura", 0, 2),
            "timeout_seconds": _float(data, "llm_timeout_seconds", TAB_MODEL, "tempo limite (segundos)", 1, 300),
            "max_retries": _int(data, "llm_max_retries", TAB_MODEL, "novas tentativas", 0, 6),
        },
        "tools": {k: bool(data.get(f"tool_{k}", True)) for k in TOOLS},
        "handoff": _handoff(data),
        "learned_answers": {
            "enabled": bool(data.get("learned_enabled", True)),
            "require_approval": bool(data.get("learned_require_approval", False)),
            "threshold": _float(data, "learned_threshold", TAB_HANDOFF, "semelhança para reusar respostas", 0.1, 1),
        },
        "voice": {
            "replies": _choice(data, "voice_replies", VOICE_REPLIES, TAB_VOICE, "responder com áudio", "never"),
            "voice_id": _max(_text(data, "voice_id"), 120, TAB_VOICE, "ID da voz") or None,
            "voice_name": _max(_text(data, "voice_name"), 120, TAB_VOICE, "nome da voz") or None,
        },
        "business_hours": _business_hours(data),
    }


def _followups(data: dict) -> dict[str, Any]:
    steps, previous = [], 0
    for i, row in enumerate(data.get("followup_steps") or [], 1):
        label = f"etapa {i}"
        unit = _choice(row, "unit", {**FOLLOWUP_UNITS, "seconds": "segundos"}, TAB_FOLLOWUP, label, "hours")
        delay = _int(row, "delay", TAB_FOLLOWUP, f"{label}, espera", 1, 100_000)
        content = _choice(row, "content", FOLLOWUP_CONTENTS, TAB_FOLLOWUP, f"{label}, conteúdo", "text")
        body = _max(_text(row, "text"), 1000, TAB_FOLLOWUP, f"{label}, mensagem")
        template = _max(_text(row, "template_name"), 200, TAB_FOLLOWUP, f"{label}, modelo aprovado")
        if content == "text" and not body:
            raise UserError(f"{_where(TAB_FOLLOWUP, label)}: escreva a mensagem (pode usar {{nome}}).")
        if content == "template" and not template:
            raise UserError(f"{_where(TAB_FOLLOWUP, label)}: informe o nome do modelo aprovado (ou o ContentSid).")
        seconds = FollowupStep(delay=delay, unit=unit).delay_seconds
        if seconds <= previous:
            raise UserError(f"{_where(TAB_FOLLOWUP, label)}: a espera deve ser maior que a da etapa anterior.")
        previous = seconds
        steps.append(
            {
                "delay": delay,
                "unit": unit,
                "content": content,
                "text": body,
                "template_name": template,
                "template_language": _text(row, "template_language") or "pt_BR",
                "template_variables": _items(row.get("template_variables")),
                "business_hours_only": bool(row.get("business_hours_only")),
                "skip_weekends": bool(row.get("skip_weekends")),
                "skip_holidays": bool(row.get("skip_holidays")),
                "stages": _items(row.get("stages")),
            }
        )
    if len(steps) > 10:
        raise UserError(f"{_where(TAB_FOLLOWUP, 'etapas')}: no máximo 10 etapas.")
    enabled = bool(data.get("followup_enabled"))
    if enabled and not steps:
        raise UserError(f"{_where(TAB_FOLLOWUP, 'etapas')}: adicione ao menos uma etapa para ativar o follow-up.")
    return {
        "enabled": enabled,
        "steps": steps,
        "stop_stages": _items(data.get("followup_stop_stages")),
        "daily_cap_per_channel": _int(data, "followup_daily_cap", TAB_FOLLOWUP, "limite diário por canal", 1, 10_000),
        "min_spacing_seconds": _int(
            data, "followup_min_spacing", TAB_FOLLOWUP, "intervalo mínimo (segundos)", 0, 86_400
        ),
    }


def _forbidden(value: Any) -> list[str]:
    items = [t for t in _items(value) if t]
    if len(items) > 50:
        raise UserError(f"{_where(TAB_RULES, 'assuntos proibidos')}: no máximo 50 assuntos.")
    for t in items:
        _max(t, 200, TAB_RULES, "assuntos proibidos")
    return items


def _llm_needs_key(settings: dict, data: dict, key_set: bool) -> None:
    llm = settings["llm"]
    has_key = bool(_text(data, "llm_api_key")) or (key_set and not data.get("llm_api_key_clear"))
    if llm["provider"] == "openai" and not has_key and not llm["base_url"]:
        raise UserError(
            f"{_where(TAB_MODEL, 'chave de API')}: a OpenAI precisa de uma chave de API "
            "(ou informe a URL de um servidor compatível)."
        )


# --- writing ---------------------------------------------------------------------------------


def save_agent(principal: Principal, agent_id: str | None, data: dict[str, Any]) -> dict[str, Any]:
    """Create (agent_id empty) or update an agent from the editor's values; returns the saved form.
    Settings the form does not show (e.g. knowledge_collection) are kept as they were."""
    require_manager(principal)
    if not isinstance(data, dict):
        raise UserError("Nada para salvar.")
    name = _text(data, "name")
    if not name:
        raise UserError(f"{_where(TAB_PERSONA, 'nome do agente')}: dê um nome ao agente (ex.: Sofia).")
    _max(name, 120, TAB_PERSONA, "nome do agente")
    mode = _choice(data, "mode", MODES, TAB_PERSONA, "modo", "pilot")
    settings = _settings(data)
    if "followup_steps" in data:  # the Follow-up tab's values (callers without them keep the cadence)
        settings["followups"] = _followups(data)
    api_key = _text(data, "llm_api_key") or None
    with principal.session() as s:
        agent = _agent(s, agent_id) if agent_id else None
        _llm_needs_key(settings, data, bool(agent and agent.llm_api_key_encrypted))
        try:
            if agent is None:
                agent = service.create_agent(
                    s, principal.workspace_id, name=name, mode=mode, settings=settings, llm_api_key=api_key
                )
                action = "agent.create"
            else:
                service.update_agent(
                    s,
                    agent,
                    name=name,
                    mode=mode,
                    settings=settings,
                    llm_api_key=api_key,
                    clear_llm_api_key=bool(data.get("llm_api_key_clear")) and not api_key,
                )
                action = "agent.update"
        except service.LLMKeyRequired as exc:
            raise UserError(f"{_where(TAB_MODEL, 'chave de API')}: {exc}") from exc
        except service.LLMServerRefused as exc:
            raise UserError(f"{_where(TAB_MODEL, 'URL do servidor')}: {exc}") from exc
        except service.AgentError as exc:  # anything the checks above did not word better
            raise UserError(f"Não foi possível salvar: {exc}") from exc
        s.commit()
        s.refresh(agent)
        form = _form(agent, AgentSettings.model_validate(agent.config or {}))
    audit.record(principal.workspace_id, action, user_id=principal.user_id, target_type="agent", target_id=form["id"])
    return form


def delete_agent(principal: Principal, agent_id: str) -> dict[str, Any]:
    """Delete an agent; channels that used it stay, without an agent (the bot stops answering there)."""
    require_manager(principal)
    with principal.session() as s:
        agent = _agent(s, agent_id)
        name, aid = agent.name, agent.id
        unbound = s.exec(select(func.count()).select_from(Channel).where(Channel.agent_id == aid)).one()
        s.delete(agent)
        s.commit()
    audit.record(
        principal.workspace_id,
        "agent.delete",
        user_id=principal.user_id,
        target_type="agent",
        target_id=str(aid),
        data={"name": name},
    )
    return {"id": str(aid), "name": name, "channels_unbound": int(unbound)}


def register_voice(
    principal: Principal,
    agent_id: str,
    name: str,
    sample: bytes,
    mime_type: str,
    replies: str = "when_lead_sent_audio",
) -> dict[str, Any]:
    """Clone a voice from a 1-3 minute sample (ElevenLabs) and make it the agent's voice."""
    require_manager(principal)
    from runtime.media.tts import SpeechError, clone_voice

    name = (name or "").strip()
    if not name:
        raise UserError(f"{_where(TAB_VOICE, 'nome da voz')}: dê um nome à voz (ex.: Voz da Ana).")
    if replies not in VOICE_REPLIES:
        raise UserError(f"{_where(TAB_VOICE, 'responder com áudio')}: opção inválida.")
    with principal.session() as s:
        _agent(s, agent_id)  # exists and is ours, before paying for a clone
    try:
        voice_id = clone_voice(name[:120], sample or b"", mime_type or "audio/mpeg")
    except SpeechError as exc:
        raise UserError(f"{_where(TAB_VOICE, 'amostra')}: {exc}") from exc
    with principal.session() as s:
        agent = _agent(s, agent_id)
        service.update_agent(
            s, agent, settings={"voice": {"replies": replies, "voice_id": voice_id, "voice_name": name[:120]}}
        )
        s.commit()
        s.refresh(agent)
        form = _form(agent, AgentSettings.model_validate(agent.config or {}))
    audit.record(
        principal.workspace_id,
        "agent.voice",
        user_id=principal.user_id,
        target_type="agent",
        target_id=form["id"],
        data={"voice_name": name},
    )
    return form
