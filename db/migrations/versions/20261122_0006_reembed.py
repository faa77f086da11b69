"""knowledge search tuning; workspaces whose knowledge needs re-embedding

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The worker asks this at start: which workspaces hold documents embedded with another model
# than the configured one (NULL: none configured). Runs as the owner across workspaces and
# returns ids only.
FUNCTION_SQL = """
CREATE FUNCTION app_workspaces_to_reembed(p_model text)
  RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
  $$ SELECT DISTINCT workspace_id FROM knowledge_document
     WHERE status = 'ready' AND embedding_model IS DISTINCT FROM p_model $$;
REVOKE ALL ON FUNCTION app_workspaces_to_reembed(text) FROM PUBLIC;
"""


# Full text filtered by workspace in one GIN index (btree_gin), and the HNSW settings every
# session needs (a filtered HNSW scan must keep scanning until it has enough rows of this
# workspace), set on the database so no query pays a round trip for them.
SEARCH_SQL = """
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX ix_knowledge_chunk_ws_tsv ON knowledge_chunk USING gin (workspace_id, tsv);
DROP INDEX ix_knowledge_chunk_tsv;
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I SET hnsw.iterative_scan = relaxed_order', current_database());
  EXECUTE format('ALTER DATABASE %I SET hnsw.ef_search = 100', current_database());
END $$;
"""


def upgrade() -> None:
    op.execute(FUNCTION_SQL)
    op.execute(SEARCH_SQL)


def downgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_knowledge_chunk_tsv ON knowledge_chunk USING gin (tsv)")
    op.execute("DROP INDEX IF EXISTS ix_knowledge_chunk_ws_tsv")
    op.execute(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET hnsw.iterative_scan', current_database()); "
        "EXECUTE format('ALTER DATABASE %I RESET hnsw.ef_search', current_database()); END $$"
    )
    op.execute("DROP FUNCTION IF EXISTS app_workspaces_to_reembed(text)")
