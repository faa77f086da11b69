"""workspaces whose knowledge needs re-embedding

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


def upgrade() -> None:
    op.execute(FUNCTION_SQL)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_workspaces_to_reembed(text)")
