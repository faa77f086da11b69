"""The agent's tools. During the model's turn they only record what the agent decided (pure, no
database); the turn applies the effects afterwards in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from .settings import AgentSettings


@dataclass
class TurnEffects:
    lead_fields: dict[str, Any] = field(default_factory=dict)
    lead_stage: str | None = None  # the stage the agent found; written by runtime.contacts.set_stage
    score: int | None = None
    lead_type: str | None = None
    handoff: tuple[str, str] | None = None  # (reason, question)
    documents: list[str] = field(default_factory=list)  # knowledge file names to send
    meeting: dict[str, Any] | None = None
    crm_sync: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)


class UpdateLeadArgs(BaseModel):
    fields: dict[str, str] = Field(default_factory=dict, description="qualification answers by key")
    stage: str | None = Field(default=None, description="one of: new, qualifying, qualified, proposal, won, lost")
    score: int | None = Field(default=None, ge=0, le=100, description="how likely to buy, 0-100")
    lead_type: Literal["lead", "customer", "supplier", "other"] | None = None


class HandoffArgs(BaseModel):
    reason: str = Field(description="why a human is needed")
    question: str = Field(description="the customer's question, as they asked it")


class SendDocumentArgs(BaseModel):
    filename: str = Field(description="the knowledge file to send, by its name")


class MeetingArgs(BaseModel):
    when: str = Field(description="the date/time the customer proposed")
    notes: str = ""


def build_tools(settings: AgentSettings, effects: TurnEffects, known_files: set[str]) -> list[BaseTool]:
    allowed = {q.key for q in settings.qualification}
    tools: list[BaseTool] = []

    def record(name: str, args: dict) -> None:
        effects.calls.append({"name": name, "args": args})

    if settings.tools.update_lead:

        def update_lead(
            fields: dict[str, str] | None = None,
            stage: str | None = None,
            score: int | None = None,
            lead_type: str | None = None,
        ) -> str:
            record("update_lead", {"fields": fields, "stage": stage, "score": score, "lead_type": lead_type})
            unknown = [k for k in (fields or {}) if allowed and k not in allowed]
            for key, value in (fields or {}).items():
                if not allowed or key in allowed:
                    effects.lead_fields[key] = str(value)[:500]
            effects.lead_stage = stage or effects.lead_stage
            effects.score = score if score is not None else effects.score
            effects.lead_type = lead_type or effects.lead_type
            return "ok" if not unknown else f"ok (ignorado, chaves desconhecidas: {', '.join(unknown)})"

        tools.append(
            StructuredTool.from_function(
                update_lead,
                name="update_lead",
                description="Registra o que você descobriu do cliente (qualificação, etapa, nota, tipo).",
                args_schema=UpdateLeadArgs,
            )
        )
    if settings.tools.handoff_to_human:

        def handoff_to_human(reason: str, question: str) -> str:
            record("handoff_to_human", {"reason": reason, "question": question})
            effects.handoff = (reason[:500], question[:2000])
            return "Um vendedor humano vai assumir. Avise o cliente com uma frase curta."

        tools.append(
            StructuredTool.from_function(
                handoff_to_human,
                name="handoff_to_human",
                description="Passa a conversa para um vendedor humano (sem resposta no conhecimento, ou pedido).",
                args_schema=HandoffArgs,
            )
        )
    if settings.tools.send_document:

        def send_document(filename: str) -> str:
            record("send_document", {"filename": filename})
            if filename not in known_files:
                return f"Arquivo {filename!r} não encontrado no conhecimento."
            effects.documents.append(filename)
            return "Documento será enviado."

        tools.append(
            StructuredTool.from_function(
                send_document,
                name="send_document",
                description="Envia ao cliente um arquivo do conhecimento (catálogo, tabela de preços...).",
                args_schema=SendDocumentArgs,
            )
        )
    if settings.tools.schedule_meeting:

        def schedule_meeting(when: str, notes: str = "") -> str:
            record("schedule_meeting", {"when": when, "notes": notes})
            effects.meeting = {"when": when, "notes": notes}
            return "Pedido de agendamento registrado; um vendedor confirma o horário."

        tools.append(
            StructuredTool.from_function(
                schedule_meeting,
                name="schedule_meeting",
                description="Registra um pedido de reunião/visita no horário que o cliente sugeriu.",
                args_schema=MeetingArgs,
            )
        )
    if settings.tools.crm_sync:

        def crm_sync() -> str:
            record("crm_sync", {})
            effects.crm_sync = True
            return "ok"

        tools.append(
            StructuredTool.from_function(
                crm_sync, name="crm_sync", description="Marca o lead para sincronizar com o CRM da empresa."
            )
        )
    return tools
