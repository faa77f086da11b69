"""An agent's configuration, stored in agent.config (JSONB) and validated here. The LLM API key is
not part of it: it lives encrypted in agent.llm_api_key_encrypted and is never returned."""

from __future__ import annotations

import itertools
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import text
from sqlmodel import Session

from db.models import Agent, Conversation

LeadType = Literal["lead", "customer", "supplier", "other"]


class QualificationField(BaseModel):
    """Something the agent should find out about a lead (BANT-style or the owner's own)."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="e.g. budget, need, timing, decision_maker")
    label: str = Field(min_length=1, max_length=80)
    question: str = Field(default="", max_length=300, description="how the agent may ask for it")
    required: bool = True


class IntentRule(BaseModel):
    """A fixed flow: when a message matches, answer with `response` (and run `action`) without the LLM."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60)
    match: Literal["keywords", "regex", "button"] = "keywords"
    patterns: list[str] = Field(min_length=1, max_length=50)
    response: str = Field(default="", max_length=2000)
    action: Literal["reply", "handoff", "opt_out", "price_list", "business_hours"] = "reply"

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, value: list[str], info) -> list[str]:
        cleaned = [p.strip() for p in value if p.strip()]
        if not cleaned:
            raise ValueError("at least one non-empty pattern")
        if info.data.get("match") == "regex":
            for p in cleaned:
                try:
                    re.compile(p)
                except re.error as exc:
                    raise ValueError(f"invalid regex {p!r}: {exc}") from exc
        return cleaned


class DayHours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    open: str = Field(pattern=r"^\d{2}:\d{2}$")
    close: str = Field(pattern=r"^\d{2}:\d{2}$")


class BusinessHours(BaseModel):
    """Weekly opening hours (0 = Monday ... 6 = Sunday) in the workspace's timezone."""

    model_config = ConfigDict(extra="forbid")
    timezone: str = "America/Sao_Paulo"
    week: dict[int, list[DayHours]] = Field(default_factory=dict)
    closed_dates: list[str] = Field(default_factory=list, description="YYYY-MM-DD holidays")


class HandoffPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_confidence: float = Field(default=0.55, ge=0, le=1)
    message_to_lead: str = Field(
        default="Vou chamar uma pessoa da nossa equipe para te responder. Só um instante! 🙂", max_length=500
    )
    notify_seller_phone: str | None = Field(default=None, max_length=32)


class LearnedAnswers(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    require_approval: bool = False  # automatic by default
    threshold: float = Field(default=0.6, ge=0.1, le=1.0, description="question similarity to reuse an answer")


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: Literal["gemini", "openai", "ollama", "none"] = "gemini"
    model: str = Field(default="", max_length=120)  # empty = the provider's default
    base_url: str | None = Field(default=None, max_length=500)
    temperature: float = Field(default=0.3, ge=0, le=2)
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    max_retries: int = Field(default=2, ge=0, le=6)


class Tools(BaseModel):
    model_config = ConfigDict(extra="forbid")
    update_lead: bool = True
    handoff_to_human: bool = True
    send_document: bool = True
    schedule_meeting: bool = False
    crm_sync: bool = False


class VoiceSettings(BaseModel):
    """Answering with a voice note (in a cloned voice with ElevenLabs)."""

    model_config = ConfigDict(extra="forbid")
    replies: Literal["never", "when_lead_sent_audio", "always"] = "never"
    voice_id: str | None = Field(default=None, max_length=120, description="the TTS provider's voice")
    voice_name: str | None = Field(default=None, max_length=120)


class FollowupStep(BaseModel):
    """One step of the follow-up cadence ("régua de follow-up"): sent `delay` after the lead's last
    message if the lead is still silent. Content: fixed `text`, an LLM-written nudge (`text` holds
    the owner's instructions) or an approved template. Outside WhatsApp's 24-hour window a text or
    LLM step falls back to its template, or is skipped with a recorded reason."""

    model_config = ConfigDict(extra="forbid")
    delay: int = Field(default=1, ge=1, le=100_000)
    unit: Literal["seconds", "minutes", "hours", "days"] = "hours"
    content: Literal["text", "llm", "template"] = "text"
    text: str = Field(default="", max_length=1000, description="the message ({nome} = lead's name) or LLM instructions")
    template_name: str = Field(default="", max_length=200, description="Cloud API template name or Twilio ContentSid")
    template_language: str = Field(default="pt_BR", max_length=20)
    template_variables: list[str] = Field(default_factory=list, max_length=10)
    business_hours_only: bool = False
    skip_weekends: bool = False
    skip_holidays: bool = False
    stages: list[str] = Field(default_factory=list, max_length=20, description="only for leads at these stages")

    @property
    def delay_seconds(self) -> int:
        return self.delay * {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}[self.unit]

    @field_validator("template_variables", "stages")
    @classmethod
    def _strip(cls, value: list[str]) -> list[str]:
        return [v.strip() for v in value if v.strip()]


class FollowupCadence(BaseModel):
    """The agent's follow-up cadence. Limits for unofficial providers (Evolution, Z-API: no window,
    but a risk of bans): at most `daily_cap_per_channel` follow-ups a day per channel, at least
    `min_spacing_seconds` apart."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    steps: list[FollowupStep] = Field(default_factory=list, max_length=10)
    stop_stages: list[str] = Field(
        default_factory=lambda: ["qualificado", "perdido", "ganho", "qualified", "lost", "won"], max_length=20
    )
    daily_cap_per_channel: int = Field(default=100, ge=1, le=10_000)
    min_spacing_seconds: int = Field(default=30, ge=0, le=86_400)

    @field_validator("steps")
    @classmethod
    def _increasing(cls, steps: list[FollowupStep]) -> list[FollowupStep]:
        for a, b in itertools.pairwise(steps):
            if b.delay_seconds <= a.delay_seconds:
                raise ValueError("cada etapa deve vir depois da anterior (atrasos crescentes)")
        for i, step in enumerate(steps, 1):
            if step.content == "template" and not step.template_name.strip():
                raise ValueError(f"a etapa {i} usa modelo aprovado mas não diz qual")
            if step.content == "text" and not step.text.strip():
                raise ValueError(f"a etapa {i} não tem texto")
        return steps


class AgentSettings(BaseModel):
    """Everything an owner configures about an agent (the panel's Agentes page edits this)."""

    model_config = ConfigDict(extra="forbid")
    persona: str = Field(default="", max_length=4000)
    company_description: str = Field(default="", max_length=8000)
    goals: str = Field(default="", max_length=2000)
    tone: str = Field(default="cordial, próximo e objetivo", max_length=300)
    language: str = Field(default="pt-BR", max_length=10)
    forbidden_topics: list[str] = Field(default_factory=list, max_length=50)
    qualification: list[QualificationField] = Field(default_factory=list, max_length=20)
    intents: list[IntentRule] = Field(default_factory=list, max_length=100)
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    handoff: HandoffPolicy = Field(default_factory=HandoffPolicy)
    learned_answers: LearnedAnswers = Field(default_factory=LearnedAnswers)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    tools: Tools = Field(default_factory=Tools)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    followups: FollowupCadence = Field(default_factory=FollowupCadence)
    knowledge_collection: str | None = Field(default=None, max_length=80)
    max_reply_chars: int = Field(default=700, ge=100, le=4096, description="WhatsApp-sized replies")


def conversation_agent_settings(session: Session, conversation: Conversation) -> tuple[Agent | None, AgentSettings]:
    """The agent answering a conversation (its own, else its channel's) and its settings; the
    defaults when there is none."""
    agent = None
    if conversation.agent_id:
        agent = session.get(Agent, conversation.agent_id)
    if agent is None and conversation.channel_id:
        agent_id = session.execute(
            text("SELECT agent_id FROM channel WHERE id = :c"), {"c": conversation.channel_id}
        ).scalar()
        agent = session.get(Agent, agent_id) if agent_id else None
    return agent, AgentSettings.model_validate(agent.config if agent else {})
