"""Handoff that learns: a seller's answer to a question the agent could not answer is kept, and
the next lead asking the same thing gets it without a human. Matching is by trigram similarity of
the normalized questions (accents, case and punctuation ignored), threshold per agent."""

from __future__ import annotations

import re
import unicodedata
import uuid

from sqlalchemy import text
from sqlmodel import Session, select

from db.models import Conversation, LearnedAnswer, LearnedStatus, utcnow
from runtime.knowledge.documents import add_document, delete_document

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def normalize_question(question: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFD", question.lower()) if unicodedata.category(c) != "Mn")
    return " ".join(_PUNCT.sub(" ", plain).split())


_GREETING = re.compile(
    r"^\s*(?:(?:oi+|ol[aá]|opa|e\s*a[ií]|bom\s+dia|boa\s+tarde|boa\s+noite|tudo\s+bem|td\s+bem|blz|beleza)"
    r"[\s,.!?;:-]*)+",
    re.IGNORECASE,
)
_THANKS = re.compile(r"[\s,.!]*(?:obrigad[oa]|obg|valeu|vlw)[\s.!]*$", re.IGNORECASE)


def generalize_question(question: str, contact_name: str = "") -> str:
    """The question without what only this lead said: greetings, their name, thanks."""
    q = _THANKS.sub("", _GREETING.sub("", question.strip()))
    for part in (contact_name or "").split():
        if len(part) > 2:
            q = re.sub(rf"\b(?:aqui\s+[ée]\s+(?:[oa]\s+)?)?{re.escape(part)}\b(?:\s+aqui)?[,\s]*", "", q, flags=re.I)
    q = q.strip(" ,;:-")
    return (q[:1].upper() + q[1:]) if q else question.strip()


_MATCH = text("""
SELECT id, answer, question,
       similarity(lower(unaccent(question)), :q) AS sim
FROM learned_answer
WHERE status = 'approved' AND (agent_id IS NULL OR agent_id = :agent)
ORDER BY sim DESC, created_at DESC
LIMIT 1
""")


def find_answer(
    session: Session, question: str, *, agent_id: uuid.UUID | None, threshold: float
) -> tuple[LearnedAnswer, float] | None:
    q = normalize_question(question)
    if len(q) < 3:
        return None
    row = session.execute(_MATCH, {"q": q, "agent": agent_id}).first()
    if row is None or row.sim < threshold:
        return None
    learned = session.get(LearnedAnswer, row.id)
    learned.uses += 1
    session.add(learned)
    return learned, float(row.sim)


def learn(
    session: Session,
    conversation: Conversation,
    *,
    question: str,
    answer: str,
    seller_user_id: uuid.UUID | None,
    require_approval: bool,
    generalized: str | None = None,
) -> LearnedAnswer:
    """Keep a seller's answer (approved at once unless the agent requires the owner's approval)."""
    learned = LearnedAnswer(
        workspace_id=conversation.workspace_id,
        agent_id=conversation.agent_id,
        question=(generalized or question).strip()[:2000],
        original_question=question.strip()[:2000],
        answer=answer.strip(),
        status=LearnedStatus.pending if require_approval else LearnedStatus.approved,
        source_conversation_id=conversation.id,
        created_by_user_id=seller_user_id,
    )
    session.add(learned)
    session.flush()
    if learned.status == LearnedStatus.approved:
        _mirror(session, learned)
    return learned


def approve(
    session: Session, learned: LearnedAnswer, *, question: str | None = None, answer: str | None = None
) -> None:
    if question is not None:
        learned.question = question.strip()[:2000]
    if answer is not None:
        learned.answer = answer.strip()
    learned.status, learned.updated_at = "approved", utcnow()
    session.add(learned)
    session.flush()
    _mirror(session, learned)


def reject(session: Session, learned: LearnedAnswer) -> None:
    learned.status, learned.updated_at = "rejected", utcnow()
    _unmirror(session, learned)
    session.add(learned)


def remove(session: Session, learned: LearnedAnswer) -> None:
    _unmirror(session, learned)
    session.delete(learned)


def _mirror(session: Session, learned: LearnedAnswer) -> None:
    """The answer becomes knowledge too (same tables, same search) — replacing an older version."""
    _unmirror(session, learned)
    body = f"# {learned.question}\n\n{learned.answer}\n".encode()
    added = add_document(
        session,
        learned.workspace_id,
        filename=f"resposta-aprendida-{learned.id.hex[:8]}.md",
        data=body,
        mime_type="text/markdown",
        source_type="learned",
        external_id=str(learned.id),
        title=learned.question[:300],
    )
    learned.knowledge_document_id = added.document.id
    session.add(learned)


def _unmirror(session: Session, learned: LearnedAnswer) -> None:
    if learned.knowledge_document_id:
        delete_document(session, learned.knowledge_document_id)
        learned.knowledge_document_id = None


def list_learned(session: Session, status: str | None = None) -> list[LearnedAnswer]:
    stmt = select(LearnedAnswer).order_by(LearnedAnswer.created_at.desc())
    if status:
        stmt = stmt.where(LearnedAnswer.status == status)
    return list(session.exec(stmt).all())
