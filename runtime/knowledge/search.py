"""Hybrid search: Portuguese full-text (accent-insensitive, any word may match) and, when an
embedding provider is set, pgvector similarity, fused by reciprocal rank. RLS keeps every query
inside the caller's workspace."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlmodel import Session

from .query import expand_query
from .store import vector_literal

if TYPE_CHECKING:
    from .embeddings import Embedder

RRF_K = 60  # the usual constant: rank 1 scores 1/61, rank 10 scores 1/70
CANDIDATES = 40  # per method, before fusion


@dataclass(frozen=True)
class SearchHit:
    chunk_id: int
    document_id: uuid.UUID
    filename: str  # the original file name of the source
    title: str
    heading: str | None
    page: int | None
    content: str
    score: float
    source_type: str
    matched_by: tuple[str, ...]  # "text", "vector"


# Any word may match (chat questions rarely share all their words with a document), the lead's
# own words weigh twice the related words the query expansion added.
_FTS = text("""
WITH q AS (
  SELECT replace(plainto_tsquery('pt_unaccent', :own)::text, ' & ', ' | ')::tsquery AS own,
         replace(plainto_tsquery('pt_unaccent', :extra)::text, ' & ', ' | ')::tsquery AS extra
)
SELECT c.id,
       2 * ts_rank_cd(c.tsv, q.own, 1) + ts_rank_cd(c.tsv, q.extra, 1) AS rank
FROM knowledge_chunk c, q
WHERE (q.own || q.extra) <> ''::tsquery AND c.tsv @@ (q.own || q.extra)
  AND (CAST(:collection AS text) IS NULL OR c.collection = :collection)
ORDER BY rank DESC, c.id
LIMIT :n
""")


def _vector_sql(dim: int) -> str:
    return f"""
SELECT c.id FROM knowledge_chunk c
WHERE c.embedding_dim = {int(dim)} AND c.embedding_model = :model
  AND (CAST(:collection AS text) IS NULL OR c.collection = :collection)
ORDER BY c.embedding::vector({int(dim)}) <=> CAST(:qv AS vector({int(dim)}))
LIMIT :n
"""


_FETCH = text("""
SELECT c.id, c.document_id, c.heading, c.page, c.content, c.title, d.filename, d.source_type
FROM knowledge_chunk c JOIN knowledge_document d ON d.id = c.document_id
WHERE c.id = ANY(:ids)
""")


def search(
    session: Session,
    query: str,
    *,
    k: int = 5,
    collection: str | None = None,
    embedder: Embedder | None = None,
) -> list[SearchHit]:
    """Top-k chunks for a question, best first. The session must be tenant-scoped."""
    query = (query or "").strip()
    if not query:
        return []
    ranked: dict[int, float] = {}
    matched: dict[int, set[str]] = {}

    own, extra = expand_query(query)
    params = {"own": own, "extra": extra, "collection": collection, "n": CANDIDATES}
    fts_ids = [r.id for r in session.execute(_FTS, params)]
    for rank, cid in enumerate(fts_ids, start=1):
        ranked[cid] = ranked.get(cid, 0.0) + 1.0 / (RRF_K + rank)
        matched.setdefault(cid, set()).add("text")

    if embedder is not None:
        qv = embedder.embed_query(query)
        # With a workspace filter (RLS) the plain HNSW scan can return too few rows: keep scanning.
        session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
        session.execute(text("SET LOCAL hnsw.ef_search = 100"))
        rows = session.execute(
            text(_vector_sql(embedder.dim)),
            {"model": embedder.model_id, "collection": collection, "qv": vector_literal(qv), "n": CANDIDATES},
        )
        for rank, r in enumerate(rows, start=1):
            ranked[r.id] = ranked.get(r.id, 0.0) + 1.0 / (RRF_K + rank)
            matched.setdefault(r.id, set()).add("vector")

    top = sorted(ranked, key=lambda cid: (-ranked[cid], cid))[:k]
    if not top:
        return []
    rows = {r.id: r for r in session.execute(_FETCH, {"ids": top})}
    return [
        SearchHit(
            chunk_id=cid,
            document_id=rows[cid].document_id,
            filename=rows[cid].filename,
            title=rows[cid].title,
            heading=rows[cid].heading,
            page=rows[cid].page,
            content=rows[cid].content,
            score=round(ranked[cid], 6),
            source_type=rows[cid].source_type,
            matched_by=tuple(sorted(matched[cid])),
        )
        for cid in top
        if cid in rows
    ]
