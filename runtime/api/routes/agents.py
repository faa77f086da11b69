"""/api/v1/agents (configure the sales agent) and /api/v1/learned-answers (what it learned)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile, status
from pydantic import BaseModel, Field
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from db.models import Agent, LearnedAnswer, LearnedStatus
from runtime import audit
from runtime.agent import learned, service
from runtime.agent.settings import LLMSettings

from ..deps import ApiPrincipal, TenantDB, require_api_key

router = APIRouter(prefix="/api/v1", tags=["agents"], dependencies=[Depends(require_api_key)])


def _as_in_settings(name: str) -> Any:
    """The type of LLMSettings.<name> with its bounds: the agent's settings own the limits, the
    schema shows them."""
    field = LLMSettings.model_fields[name]
    return Annotated[field.annotation, *field.metadata]


Temperature = _as_in_settings("temperature")
TimeoutSeconds = _as_in_settings("timeout_seconds")
MaxRetries = _as_in_settings("max_retries")


class LLMIn(BaseModel):
    provider: Literal["gemini", "openai", "ollama", "none"] = "gemini"
    model: str = ""
    base_url: str | None = None
    api_key: str | None = Field(
        default=None,
        description=(
            'write-only; stored encrypted. "" removes the saved key. A saved key is sent only to the server '
            "(scheme, host, port) it was given for: changing provider or base_url to another server needs "
            "the key again in the same request (422 otherwise)."
        ),
    )
    temperature: Temperature | None = None
    timeout_seconds: TimeoutSeconds | None = None
    max_retries: MaxRetries | None = None


class AgentIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    mode: Literal["pilot", "copilot", "off"] = "pilot"
    llm: LLMIn | None = None
    persona: str | None = None
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="runtime.agent.settings.AgentSettings: company_description, goals, tone, forbidden_topics, "
        "qualification, intents, business_hours, handoff, learned_answers, tools, knowledge_collection ...",
    )


class AgentPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    mode: Literal["pilot", "copilot", "off"] | None = None
    llm: LLMIn | None = None
    persona: str | None = None
    settings: dict[str, Any] | None = None


class AgentPublic(BaseModel):
    id: uuid.UUID
    name: str
    mode: str
    settings: dict[str, Any]
    llm: dict[str, Any]
    created_at: datetime
    updated_at: datetime


def _settings(settings: dict | None, persona: str | None, llm: LLMIn | None) -> dict | None:
    if settings is None and persona is None and llm is None:
        return None
    out = dict(settings or {})
    if persona is not None:
        out["persona"] = persona
    if llm is not None:
        out["llm"] = {k: v for k, v in llm.model_dump(exclude={"api_key"}).items() if v is not None}
    return out


def _agent(db, agent_id: uuid.UUID) -> Agent:
    agent = db.get(Agent, agent_id)
    if agent is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Agent not found")
    return agent


@router.post("/agents", response_model=AgentPublic, status_code=status.HTTP_201_CREATED)
def create_agent(body: AgentIn, principal: ApiPrincipal, db: TenantDB) -> dict:
    try:
        agent = service.create_agent(
            db,
            principal.workspace_id,
            name=body.name,
            mode=body.mode,
            settings=_settings(body.settings, body.persona, body.llm),
            llm_api_key=body.llm.api_key if body.llm else None,
        )
    except service.AgentError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    db.commit()
    audit.record(
        principal.workspace_id,
        "agent.create",
        api_key_id=principal.api_key_id,
        target_type="agent",
        target_id=str(agent.id),
    )
    return service.public_agent(agent)


@router.get("/agents", response_model=list[AgentPublic])
def list_agents(db: TenantDB) -> list[dict]:
    return [service.public_agent(a) for a in db.exec(select(Agent).order_by(Agent.created_at)).all()]


@router.get("/agents/{agent_id}", response_model=AgentPublic)
def get_agent(agent_id: uuid.UUID, db: TenantDB) -> dict:
    return service.public_agent(_agent(db, agent_id))


@router.patch("/agents/{agent_id}", response_model=AgentPublic)
def update_agent(agent_id: uuid.UUID, body: AgentPatch, principal: ApiPrincipal, db: TenantDB) -> dict:
    agent = _agent(db, agent_id)
    try:
        service.update_agent(
            db,
            agent,
            name=body.name,
            mode=body.mode,
            settings=_settings(body.settings, body.persona, body.llm),
            llm_api_key=body.llm.api_key if body.llm else None,
            clear_llm_api_key=body.llm is not None and body.llm.api_key == "",
        )
    except service.AgentError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    db.commit()
    audit.record(
        principal.workspace_id,
        "agent.update",
        api_key_id=principal.api_key_id,
        target_type="agent",
        target_id=str(agent.id),
    )
    return service.public_agent(agent)


@router.delete("/agents/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_agent(agent_id: uuid.UUID, principal: ApiPrincipal, db: TenantDB) -> None:
    db.delete(_agent(db, agent_id))
    db.commit()
    audit.record(
        principal.workspace_id,
        "agent.delete",
        api_key_id=principal.api_key_id,
        target_type="agent",
        target_id=str(agent_id),
    )


class LearnedPublic(BaseModel):
    id: uuid.UUID
    agent_id: uuid.UUID | None
    question: str
    original_question: str
    answer: str
    status: str
    uses: int
    source_conversation_id: uuid.UUID | None
    created_at: datetime


class LearnedPatch(BaseModel):
    status: Literal["approved", "rejected"] | None = None
    question: str | None = Field(default=None, min_length=3, max_length=2000)
    answer: str | None = Field(default=None, min_length=1, max_length=4000)


def _learned(db, learned_id: uuid.UUID) -> LearnedAnswer:
    row = db.get(LearnedAnswer, learned_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Learned answer not found")
    return row


@router.get("/learned-answers", response_model=list[LearnedPublic])
def list_learned(db: TenantDB, status_filter: str | None = None) -> list[LearnedAnswer]:
    return learned.list_learned(db, status_filter)


@router.patch("/learned-answers/{learned_id}", response_model=LearnedPublic)
def update_learned(learned_id: uuid.UUID, body: LearnedPatch, db: TenantDB) -> LearnedAnswer:
    row = _learned(db, learned_id)
    if body.status == LearnedStatus.rejected:
        learned.reject(db, row)
    else:
        learned.approve(db, row, question=body.question, answer=body.answer)
    db.commit()
    return row


@router.delete("/learned-answers/{learned_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_learned(learned_id: uuid.UUID, db: TenantDB) -> None:
    learned.remove(db, _learned(db, learned_id))
    db.commit()


@router.post("/agents/{agent_id}/voice", response_model=AgentPublic)
async def register_voice(
    agent_id: uuid.UUID,
    principal: ApiPrincipal,
    db: TenantDB,
    sample: Annotated[UploadFile, File(description="1 to 3 minutes of the partner's or seller's voice")],
    name: Annotated[str, Form(min_length=1, max_length=120)],
    replies: Annotated[Literal["never", "when_lead_sent_audio", "always"], Form()] = "when_lead_sent_audio",
) -> dict:
    """Clone a voice (ElevenLabs) from a sample; the agent then answers voice notes with it."""
    from runtime.media.tts import SpeechError, clone_voice

    agent = _agent(db, agent_id)
    data = await sample.read()
    try:
        voice_id = await run_in_threadpool(clone_voice, name, data, sample.content_type or "audio/mpeg")
    except SpeechError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    service.update_agent(db, agent, settings={"voice": {"replies": replies, "voice_id": voice_id, "voice_name": name}})
    db.commit()
    audit.record(
        principal.workspace_id,
        "agent.voice",
        api_key_id=principal.api_key_id,
        target_type="agent",
        target_id=str(agent.id),
        data={"voice_name": name},
    )
    return service.public_agent(agent)
