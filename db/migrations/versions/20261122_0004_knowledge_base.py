"""knowledge base

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:29:21.305221
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from db.tenancy import rls_sql

# Portuguese stemming that ignores accents: "sabado" finds "sábado", "cartao" finds "cartão".
TEXT_SEARCH_SQL = """
CREATE TEXT SEARCH CONFIGURATION pt_unaccent (COPY = portuguese);
ALTER TEXT SEARCH CONFIGURATION pt_unaccent
  ALTER MAPPING FOR hword, hword_part, word WITH unaccent, portuguese_stem;
"""

# Chunks: the title (A) and heading (B) weigh more than the body (C) in full-text rank. The
# embedding column has no fixed dimension (providers differ); one partial HNSW index per
# supported dimension, queried as embedding::vector(N) with embedding_dim = N.
CHUNK_SQL = """
CREATE TABLE knowledge_chunk (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
  document_id uuid NOT NULL REFERENCES knowledge_document(id) ON DELETE CASCADE,
  collection varchar(80),
  ord integer NOT NULL,
  title varchar(300) NOT NULL DEFAULT '',
  heading varchar(300),
  page integer,
  content text NOT NULL,
  tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('pt_unaccent', coalesce(title, '')), 'A') ||
    setweight(to_tsvector('pt_unaccent', coalesce(heading, '')), 'B') ||
    setweight(to_tsvector('pt_unaccent', content), 'C')
  ) STORED,
  embedding vector,
  embedding_dim smallint,
  embedding_model varchar(120),
  CHECK ((embedding IS NULL) = (embedding_dim IS NULL))
);
CREATE INDEX ix_knowledge_chunk_document ON knowledge_chunk (document_id, ord);
CREATE INDEX ix_knowledge_chunk_workspace ON knowledge_chunk (workspace_id);
CREATE INDEX ix_knowledge_chunk_tsv ON knowledge_chunk USING gin (tsv);
"""
VECTOR_DIMS = (384, 768, 1024, 1536)
"""Dimensions with an HNSW index; other dimensions still work, by exact scan."""


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_document",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("collection", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("source_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("mime_type", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("source_ref", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("external_modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("progress", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("pages", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("chunk_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("embedding_model", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "content_hash"),
    )
    op.create_index(op.f("ix_knowledge_document_workspace_id"), "knowledge_document", ["workspace_id"], unique=False)
    op.create_index(op.f("ix_knowledge_document_source_ref"), "knowledge_document", ["source_ref"], unique=False)
    op.create_index(
        "ix_knowledge_document_ws_created", "knowledge_document", ["workspace_id", "created_at"], unique=False
    )
    op.create_table(
        "knowledge_blob",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["knowledge_document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_index(op.f("ix_knowledge_blob_workspace_id"), "knowledge_blob", ["workspace_id"], unique=False)
    op.execute(TEXT_SEARCH_SQL)
    op.execute(CHUNK_SQL)
    for dim in VECTOR_DIMS:
        op.execute(
            f"CREATE INDEX ix_knowledge_chunk_hnsw_{dim} ON knowledge_chunk "
            f"USING hnsw ((embedding::vector({dim})) vector_cosine_ops) WHERE embedding_dim = {dim}"
        )
    for table in ("knowledge_document", "knowledge_blob", "knowledge_chunk"):
        op.execute(rls_sql(table))


def downgrade() -> None:
    op.execute("DROP TABLE knowledge_chunk")
    op.execute("DROP TEXT SEARCH CONFIGURATION pt_unaccent")
    op.drop_index(op.f("ix_knowledge_blob_workspace_id"), table_name="knowledge_blob")
    op.drop_table("knowledge_blob")
    op.drop_index("ix_knowledge_document_ws_created", table_name="knowledge_document")
    op.drop_index(op.f("ix_knowledge_document_source_ref"), table_name="knowledge_document")
    op.drop_index(op.f("ix_knowledge_document_workspace_id"), table_name="knowledge_document")
    op.drop_table("knowledge_document")
