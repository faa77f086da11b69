"""pt-BR words for follow-up steps as the inbox shows them (the stored reasons are English, for logs)."""

from __future__ import annotations

import re

STATUS_LABELS = {
    "scheduled": "Agendado",
    "sent": "Enviado",
    "cancelled": "Cancelado",
    "skipped": "Pulado",
}
CONTENT_LABELS = {"text": "texto", "llm": "mensagem escrita pela IA", "template": "modelo aprovado"}

_EXACT = {
    "lead replied": "o lead respondeu",
    "lead opted out": "o lead pediu para não receber mensagens",
    "conversation closed": "conversa encerrada",
    "human takeover": "um vendedor assumiu a conversa",
    "waiting for a human": "aguardando um vendedor",
    "agent off": "agente desligado",
    "cadence disabled or changed": "régua desligada ou alterada",
    "channel inactive": "canal inativo",
    "outside the 24-hour window": "fora da janela de 24 horas",
    "outside the 24-hour window and the step has no approved template": (
        "fora da janela de 24 horas e a etapa não tem modelo aprovado"
    ),
    "no allowed time (business hours, weekends, holidays) within a year": (
        "nenhum horário permitido (expediente, fins de semana, feriados) no próximo ano"
    ),
}
_PATTERNS = [
    (re.compile(r"^lead stage '(.*)' stops the cadence$"), "a etapa do lead ({0}) encerra a régua"),
    (re.compile(r"^lead stage '(.*)' is not among this step's stages$"), "a etapa do lead ({0}) não é desta mensagem"),
    (re.compile(r"^LLM nudge failed: (.*)$", re.S), "a IA não conseguiu escrever a mensagem ({0})"),
    (re.compile(r"^cancelled by (.*)$"), "cancelado por {0}"),
]


def describe_reason(reason: str | None) -> str:
    """The stored reason in pt-BR (unknown ones as they are)."""
    if not reason:
        return ""
    if reason in _EXACT:
        return _EXACT[reason]
    for pattern, words in _PATTERNS:
        found = pattern.match(reason)
        if found:
            return words.format(*found.groups())
    return reason
