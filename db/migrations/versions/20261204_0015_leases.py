"""leases: turns and sends are claimed by a worker until an expiry it renews (owner + expiry), so a
dead worker's work is taken over by the job the queue delivers again

Revision ID: 0015_leases
Revises: 0014_password_reset
Create Date: 2026-12-04 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_leases"
down_revision: str | None = "0014_password_reset"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The periodic sweep settles sends whose lease ended long ago and whose job is gone (held as failed
# after its attempts): the app role sees one workspace at a time, so it gets their ids from here.
STALE_SENDS_SQL = """
CREATE FUNCTION app_stale_sends(p_older interval, p_limit int)
  RETURNS TABLE (workspace_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
  $$ SELECT m.workspace_id, m.id FROM message m
     WHERE m.status = 'sending' AND (m.lease_expires_at IS NULL OR m.lease_expires_at < now() - p_older)
     ORDER BY m.lease_expires_at NULLS FIRST LIMIT p_limit $$;
REVOKE ALL ON FUNCTION app_stale_sends(interval, int) FROM PUBLIC;
"""


def upgrade() -> None:
    for table in ("conversation_turn", "message"):
        op.add_column(table, sa.Column("lease_owner", sa.String(length=100), nullable=True))
        op.add_column(table, sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
    # True while a request to the provider may be under way: a send taken over then is 'unknown'
    # (it may have reached the lead), never sent a second time.
    op.add_column("message", sa.Column("in_flight", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Sends claimed by the old code (claimed_at in details): whether they went out is unknown.
    op.execute("UPDATE message SET in_flight = true, lease_expires_at = now() WHERE status = 'sending'")
    op.create_index(
        "ix_message_sending_lease",
        "message",
        ["lease_expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.execute(STALE_SENDS_SQL)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_stale_sends(interval, int)")
    op.drop_index("ix_message_sending_lease", table_name="message", postgresql_where=sa.text("status = 'sending'"))
    op.drop_column("message", "in_flight")
    for table in ("conversation_turn", "message"):
        op.drop_column(table, "lease_expires_at")
        op.drop_column(table, "lease_owner")
