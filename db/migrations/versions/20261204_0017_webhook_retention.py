"""webhook retention: raw webhook bodies deleted after WEBHOOK_EVENT_RETENTION_DAYS, across workspaces

Revision ID: 0017_webhook_retention
Revises: 0016_email_verification
Create Date: 2026-12-10 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017_webhook_retention"
down_revision: str | None = "0016_email_verification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The app role sees one workspace at a time (RLS); the purge deletes old raw bodies of all of them,
# oldest first, at most p_limit per call, and says how many went.
PURGE_SQL = """
CREATE FUNCTION app_purge_webhook_events(p_days int, p_limit int) RETURNS int
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS
  $$ WITH gone AS (
       DELETE FROM webhook_event WHERE id IN (
         SELECT id FROM webhook_event WHERE received_at < now() - make_interval(days => p_days)
         ORDER BY received_at LIMIT p_limit)
       RETURNING 1)
     SELECT count(*)::int FROM gone $$;
REVOKE ALL ON FUNCTION app_purge_webhook_events(int, int) FROM PUBLIC;
"""


def upgrade() -> None:
    op.create_index("ix_webhook_event_received_at", "webhook_event", ["received_at"], unique=False)
    op.execute(PURGE_SQL)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_purge_webhook_events(int, int)")
    op.drop_index("ix_webhook_event_received_at", table_name="webhook_event")
