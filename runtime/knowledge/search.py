"""Hybrid search: Portuguese full-text (accent-insensitive, any word may match) and, when an
embedding provider is set, pgvector similarity, fused by reciprocal rank — in ONE statement. RLS
keeps every query inside the caller's workspace."""

from __future__ import annotations

import time
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
# Below this many chunks in a workspace an exact vector scan beats a filtered HNSW walk, which
# must skip every other workspace's neighbours before it finds enough of this one's.
EXACT_SCAN_MAX_CHUNKS = 20_000


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


# Any word may match (chat questions rarely share all their words with a document); the lead's
# own words weigh twice the related words the query expansion added.
_FTS = """
fts AS (
  SELECT c.id, row_number() OVER (ORDER BY 2 * ts_rank(c.tsv, q.own) + ts_rank(c.tsv, q.extra) DESC, c.id) AS r
  FROM knowledge_chunk c, q
  WHERE (q.own || q.extra) <> ''::tsquery AND c.tsv @@ (q.own || q.extra)
    AND c.workspace_id = app_current_workspace()
    AND (CAST(:collection AS text) IS NULL OR c.collection = :collection)
  ORDER BY r LIMIT :n
)"""

_NO_VEC = "vec AS (SELECT NULL::bigint AS id, NULL::bigint AS r WHERE false)"


def _vec(dim: int, exact: bool) -> str:
    distance = f"c.embedding::vector({dim}) <=> CAST(:qv AS vector({dim}))"
    order = f"({distance}) + 0" if exact else distance  # "+ 0": not the indexed expression -> exact scan
    return f"""
vec AS (
  SELECT id, row_number() OVER (ORDER BY d, id) AS r FROM (
    SELECT c.id, {distance} AS d FROM knowledge_chunk c
    WHERE c.embedding_dim = {int(dim)} AND c.embedding_model = :model
      AND c.workspace_id = app_current_workspace()
      AND (CAST(:collection AS text) IS NULL OR c.collection = :collection)
    ORDER BY {order} LIMIT :n
  ) nearest
)"""


_FUSE = """
fused AS (
  SELECT id, sum(1.0 / (:rrf + r)) AS score, array_agg(DISTINCT src) AS srcs
  FROM (SELECT id, r, 'text' AS src FROM fts UNION ALL SELECT id, r, 'vector' FROM vec) u
  GROUP BY id ORDER BY score DESC, id LIMIT :k
)
SELECT f.id, f.score, f.srcs, c.document_id, c.heading, c.page, c.content, c.title, d.filename, d.source_type
FROM fused f JOIN knowledge_chunk c ON c.id = f.id JOIN knowledge_document d ON d.id = c.document_id
ORDER BY f.score DESC, f.id
"""

_Q = """
WITH q AS (
  SELECT replace(plainto_tsquery('pt_unaccent', :own)::text, ' & ', ' | ')::tsquery AS own,
         replace(plainto_tsquery('pt_unaccent', :extra)::text, ' & ', ' | ')::tsquery AS extra
),"""

# Chunks per workspace and model, remembered briefly: choosing the vector plan costs no query.
_sizes: dict[tuple[str, str], tuple[float, int]] = {}
_SIZE_TTL = 60.0


def _chunks_with_model(session: Session, model: str) -> int:
    ws = str(session.info.get("workspace_id"))
    hit = _sizes.get((ws, model))
    if hit and time.monotonic() - hit[0] < _SIZE_TTL:
        return hit[1]
    n = session.execute(
        text("SELECT coalesce(sum(chunk_count), 0) FROM knowledge_document WHERE embedding_model = :m"), {"m": model}
    ).scalar()
    if len(_sizes) > 50_000:
        _sizes.clear()
    _sizes[(ws, model)] = (time.monotonic(), int(n))
    return int(n)


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
    own, extra = expand_query(query)
    params: dict = {"own": own, "extra": extra, "collection": collection, "n": CANDIDATES, "k": k, "rrf": RRF_K}
    if embedder is not None:
        params["qv"] = vector_literal(embedder.embed_query(query))
        params["model"] = embedder.model_id
        exact = _chunks_with_model(session, embedder.model_id) <= EXACT_SCAN_MAX_CHUNKS
        vec = _vec(embedder.dim, exact)
    else:
        vec = _NO_VEC
    sql = _Q + _FTS + "," + vec + "," + _FUSE
    return [
        SearchHit(
            chunk_id=r.id,
            document_id=r.document_id,
            filename=r.filename,
            title=r.title,
            heading=r.heading,
            page=r.page,
            content=r.content,
            score=round(float(r.score), 6),
            source_type=r.source_type,
            matched_by=tuple(sorted(r.srcs)),
        )
        for r in session.execute(text(sql), params)
    ]
