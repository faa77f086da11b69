"""Changing the embedding provider (or model) re-embeds stored chunks in the background, from their
text: no re-extraction. Until a document is done, search keeps finding it by full text."""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy import text
from sqlmodel import select

from db.models import DocumentStatus, KnowledgeDocument, utcnow
from db.tenancy import global_session, tenant_session
from runtime.jobs import get_queue, job
from runtime.jobs.base import on_worker_start
from runtime.jobs.names import REEMBED as REEMBED_JOB

from .embeddings import EmbeddingError, get_embedder
from .store import vector_literal

log = logging.getLogger(__name__)

_BATCH = 64

_UPDATE = text("""
UPDATE knowledge_chunk c
SET embedding = CAST(u.v AS vector), embedding_dim = :dim, embedding_model = :model
FROM unnest(CAST(:ids AS bigint[]), CAST(:vecs AS text[])) AS u(id, v)
WHERE c.id = u.id
""")
_CLEAR = text(
    "UPDATE knowledge_chunk SET embedding = NULL, embedding_dim = NULL, embedding_model = NULL WHERE document_id = :d"
)


def reembed_workspace(workspace_id: uuid.UUID) -> int:
    """Bring every ready document of the workspace to the configured model. Returns how many."""
    embedder = get_embedder()
    model = embedder.model_id if embedder else None
    with tenant_session(workspace_id) as s:
        docs = s.exec(
            select(KnowledgeDocument.id).where(
                KnowledgeDocument.status == DocumentStatus.ready,
                KnowledgeDocument.embedding_model.is_distinct_from(model),
            )
        ).all()
    done = 0
    for doc_id in docs:
        with tenant_session(workspace_id) as s:
            rows = s.execute(
                text("SELECT id, content FROM knowledge_chunk WHERE document_id = :d ORDER BY ord"), {"d": doc_id}
            ).all()
            try:
                if embedder is None:
                    s.execute(_CLEAR, {"d": doc_id})
                else:
                    for i in range(0, len(rows), _BATCH):
                        part = rows[i : i + _BATCH]
                        vectors = embedder.embed_documents([r.content for r in part])
                        s.execute(
                            _UPDATE,
                            {
                                "ids": [r.id for r in part],
                                "vecs": [vector_literal(v) for v in vectors],
                                "dim": embedder.dim,
                                "model": model,
                            },
                        )
            except EmbeddingError as exc:
                s.rollback()
                log.warning("re-embedding document %s failed: %s", doc_id, exc)
                continue
            doc = s.get(KnowledgeDocument, doc_id)
            doc.embedding_model, doc.updated_at = model, utcnow()
            s.add(doc)
            s.commit()
            done += 1
    if done:
        log.info("re-embedded %d document(s) of workspace %s with %s", done, workspace_id, model or "no embeddings")
    return done


@job(REEMBED_JOB)
async def reembed_job(payload: dict) -> None:
    await asyncio.to_thread(reembed_workspace, uuid.UUID(payload["workspace_id"]))


@on_worker_start
def enqueue_reembeds() -> int:
    """Queue a re-embedding for each workspace whose knowledge uses another model than configured."""
    try:
        embedder = get_embedder()
    except EmbeddingError as exc:
        log.warning("embedding provider misconfigured, no re-embedding: %s", exc)
        return 0
    model = embedder.model_id if embedder else None
    with global_session() as s:
        ids = [r[0] for r in s.execute(text("SELECT * FROM app_workspaces_to_reembed(:m)"), {"m": model})]
    for ws in ids:
        get_queue().enqueue(REEMBED_JOB, {"workspace_id": ws})
    return len(ids)
