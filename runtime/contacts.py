"""Leads (contacts): phone normalization and creation, shared by the API, the pipeline and the UI."""

from __future__ import annotations

import re
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from db.models import Contact

_NON_DIGITS = re.compile(r"[^\d]")


class ContactError(ValueError):
    pass


# The lead stages the panel shows (inbox sidebar, Leads page). The agent's tool and people write
# them in Portuguese or English; they are stored as these keys.
STAGES = ("new", "qualifying", "qualified", "proposal", "won", "lost")
_STAGE_WORDS = {
    "new": "new",
    "novo": "new",
    "nova": "new",
    "qualifying": "qualifying",
    "qualificando": "qualifying",
    "em qualificacao": "qualifying",
    "em qualificação": "qualifying",
    "qualified": "qualified",
    "qualificado": "qualified",
    "qualificada": "qualified",
    "proposal": "proposal",
    "proposta": "proposal",
    "negociacao": "proposal",
    "negociação": "proposal",
    "won": "won",
    "ganho": "won",
    "fechado": "won",
    "venda": "won",
    "lost": "lost",
    "perdido": "lost",
    "perdida": "lost",
}


def normalize_stage(value: str | None) -> str | None:
    """One of STAGES for a known word in either language; None for anything else."""
    return _STAGE_WORDS.get((value or "").strip().lower())


LEAD_TYPES = ("lead", "customer", "supplier", "other")


def set_stage(contact: Contact, value: str | None, *, allow_custom: bool = False) -> bool:
    """The one writer of a lead's stage: stored as the panel's key whatever the language it came in.
    A word that is no known stage is refused (ContactError), or kept as written, lower case, when
    `allow_custom` (the agent's tool may name a stage of the company's own). Returns whether it
    changed."""
    stage = normalize_stage(value)
    if stage is None:
        if not allow_custom or not (value or "").strip():
            raise ContactError("Etapa desconhecida.")
        stage = value.strip().lower()[:40]
    changed = contact.stage != stage
    contact.stage = stage
    return changed


def normalize_phone(raw: str) -> str:
    """E.164 ('+5511999998888'). WhatsApp numbers are 8-15 digits with country code."""
    digits = _NON_DIGITS.sub("", raw or "")
    if not 8 <= len(digits) <= 15:
        raise ContactError("Telefone inválido: use o formato internacional, ex. +55 11 99999-8888.")
    return "+" + digits


def create_contact(
    session: Session, workspace_id: uuid.UUID, phone: str, name: str = "", email: str | None = None
) -> Contact:
    contact = Contact(workspace_id=workspace_id, phone=normalize_phone(phone), name=name.strip()[:200], email=email)
    session.add(contact)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise ContactError("Já existe um contato com este telefone.") from exc
    return contact


def list_contacts(session: Session, limit: int = 50, offset: int = 0) -> list[Contact]:
    stmt = select(Contact).order_by(Contact.created_at.desc()).limit(limit).offset(offset)
    return list(session.exec(stmt).all())
