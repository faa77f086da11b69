"""team invitations

Revision ID: 0008_invitations
Revises: 0007
Create Date: 2026-11-22 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from db.tenancy import drop_rls_sql, rls_sql

# Finds an invitation by its token's hash before the invitee has a session (no tenant yet); runs
# as the owner, so it bypasses RLS and returns only the one row whose hash matches. Everything
# else about the invitation is then read and written under RLS for the workspace it names.
INVITATION_LOOKUP_SQL = """
CREATE FUNCTION app_invitation_lookup(p_hash text)
  RETURNS TABLE (id uuid, workspace_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
  $$ SELECT id, workspace_id FROM invitation WHERE token_hash = p_hash $$;
REVOKE ALL ON FUNCTION app_invitation_lookup(text) FROM PUBLIC;
"""

revision: str = "0008_invitations"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column(
            "role", sa.Enum("owner", "admin", "seller", name="role", native_enum=False, length=20), nullable=False
        ),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("invited_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_user_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["accepted_user_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["invited_by_user_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_invitation_workspace_id"), "invitation", ["workspace_id"], unique=False)
    op.execute(rls_sql("invitation"))
    op.execute(INVITATION_LOOKUP_SQL)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_invitation_lookup(text)")
    op.execute(drop_rls_sql("invitation"))
    op.drop_index(op.f("ix_invitation_workspace_id"), table_name="invitation")
    op.drop_table("invitation")
