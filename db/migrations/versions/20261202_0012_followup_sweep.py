"""follow-up sweep: find steps still scheduled long after their due time, across workspaces

Revision ID: 0012_followup_sweep
Revises: 0011_followups
Create Date: 2026-12-02 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_followup_sweep"
down_revision: str | None = "0011_followups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The app role sees one workspace at a time (RLS); the sweep needs the overdue steps of all of
# them, and gets only their ids (then works on each inside its own workspace).
OVERDUE_SQL = """
CREATE FUNCTION app_overdue_followups(p_older interval, p_limit int)
  RETURNS TABLE (workspace_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
  $$ SELECT f.workspace_id, f.id FROM followup f
     WHERE f.status = 'scheduled' AND f.due_at < now() - p_older
     ORDER BY f.due_at LIMIT p_limit $$;
REVOKE ALL ON FUNCTION app_overdue_followups(interval, int) FROM PUBLIC;
"""


def upgrade() -> None:
    op.create_index(
        "ix_followup_scheduled_due",
        "followup",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("status = 'scheduled'"),
    )
    op.execute(OVERDUE_SQL)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_overdue_followups(interval, int)")
    op.drop_index("ix_followup_scheduled_due", table_name="followup", postgresql_where=sa.text("status = 'scheduled'"))
