"""Chunk storage. The app role is subject to RLS, and PostgreSQL refuses COPY FROM into a table
with RLS for such a role, so chunks are COPYed into a transaction-local staging table and moved
with one INSERT ... SELECT (RLS checks every row). Old chunks are replaced in the same
transaction: searches see the old version or the new one, never a mix."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from db.engine import app_engine
from db.models import utcnow
from runtime.pgtext import pg_text

from .chunking import ChunkDraft

if TYPE_CHECKING:
    from .embeddings import Embedder

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS chunk_stage (
  ord integer, heading varchar(300), page integer, content text, embedding vector
) ON COMMIT DELETE ROWS
"""


def vector_literal(values: list[float]) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in values) + "]"


def replace_chunks(
    workspace_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    expected_hash: str,
    title: str,
    drafts: list[ChunkDraft],
    vectors: list[list[float]] | None,
    embedder: Embedder | None,
) -> bool:
    """Swap the document's chunks and mark it ready, atomically. False if the document changed
    (or vanished) since this ingestion started: then nothing is written. Text is cleaned of what
    PostgreSQL refuses (NUL, lone surrogates) here, the one write path of chunks."""
    title = pg_text(title)
    raw = app_engine().raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('app.workspace_id', %s, true)", (str(workspace_id),))
            cur.execute(
                "SELECT collection FROM knowledge_document WHERE id = %s AND content_hash = %s FOR UPDATE",
                (document_id, expected_hash),
            )
            row = cur.fetchone()
            if row is None:
                conn.rollback()
                return False
            collection = row[0]
            cur.execute(_STAGE)
            with cur.copy("COPY chunk_stage (ord, heading, page, content, embedding) FROM STDIN") as copy:
                for i, d in enumerate(drafts):
                    vec = vector_literal(vectors[i]) if vectors is not None else None
                    heading = pg_text(d.heading or "")[:300] or None
                    copy.write_row((i, heading, d.page, pg_text(d.content), vec))
            cur.execute("DELETE FROM knowledge_chunk WHERE document_id = %s", (document_id,))
            cur.execute(
                """
                INSERT INTO knowledge_chunk (workspace_id, document_id, collection, ord, title, heading, page,
                                             content, embedding, embedding_dim, embedding_model)
                SELECT %s, %s, %s, ord, %s, heading, page, content, embedding,
                       CASE WHEN embedding IS NULL THEN NULL ELSE vector_dims(embedding) END, %s
                FROM chunk_stage ORDER BY ord
                """,
                (workspace_id, document_id, collection, title[:300], embedder.model_id if embedder else None),
            )
            cur.execute(
                """
                UPDATE knowledge_document SET status = 'ready', progress = 100, error = NULL, chunk_count = %s,
                       title = %s, embedding_model = %s, updated_at = %s
                WHERE id = %s
                """,
                (len(drafts), title[:300], embedder.model_id if embedder else None, utcnow(), document_id),
            )
        conn.commit()
        return True
    except BaseException:
        raw.driver_connection.rollback()
        raise
    finally:
        raw.close()
