"""Public API shapes (Base / Create / Public, as in the FastAPI full-stack template)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class WorkspacePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    timezone: str
    created_at: datetime


class ContactBase(BaseModel):
    name: str = Field(default="", max_length=200)
    email: EmailStr | None = None


class ContactCreate(ContactBase):
    phone: str = Field(min_length=8, max_length=32, examples=["+55 11 99999-8888"])


class ContactPublic(ContactBase):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    phone: str
    lead_type: str
    stage: str
    score: int
    created_at: datetime


class AgentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    mode: str
    created_at: datetime
