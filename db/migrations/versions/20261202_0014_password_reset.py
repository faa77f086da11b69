"""password reset: one-use links to set a new password (by e-mail, or made by a manager)

Revision ID: 0014_password_reset
Revises: 0013_invitation_email
Create Date: 2026-12-02 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_password_reset"
down_revision: str | None = "0013_invitation_email"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A manager may make a reset link only for someone who belongs to no other workspace (else an
# admin here could take over the account there); the app role sees one workspace's memberships.
MEMBERSHIPS_SQL = """
CREATE FUNCTION app_user_workspace_count(p_user uuid) RETURNS int
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
  $$ SELECT count(*)::int FROM membership WHERE user_id = p_user $$;
REVOKE ALL ON FUNCTION app_user_workspace_count(uuid) FROM PUBLIC;
"""


def upgrade() -> None:
    # A global table like user_session (people are global; no workspace_id, so no RLS).
    op.create_table(
        "password_reset",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_user_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_password_reset_user_id"), "password_reset", ["user_id"], unique=False)
    op.execute(MEMBERSHIPS_SQL)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_user_workspace_count(uuid)")
    op.drop_index(op.f("ix_password_reset_user_id"), table_name="password_reset")
    op.drop_table("password_reset")
