"""e-mail verification, manager reset links bound to their workspace, invitation e-mail allowance

Revision ID: 0016_email_verification
Revises: 0015_leases
Create Date: 2026-12-18 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.tenancy import drop_rls_sql, rls_sql

revision: str = "0016_email_verification"
down_revision: str | None = "0015_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
    # Accounts that only ever signed in with Google got their address from Google, which verified it.
    # Password accounts start unverified (nothing proved the address): they get the banner to confirm.
    op.execute(
        "UPDATE app_user SET email_verified_at = created_at WHERE google_sub IS NOT NULL AND password_hash IS NULL"
    )

    # A global table like password_reset (no workspace_id, no RLS).
    op.create_table(
        "email_verification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_email_verification_user_id"), "email_verification", ["user_id"], unique=False)

    # Manager-made links remember their workspace (checked again when the link is used). Links made
    # before this column existed have none and are treated as bound to no workspace: refused if the
    # person belongs to any, which only ends links at most 24 hours old.
    op.add_column("password_reset", sa.Column("workspace_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "password_reset_workspace_id_fkey", "password_reset", "workspace", ["workspace_id"], ["id"], ondelete="CASCADE"
    )

    op.create_table(
        "invitation_email_send",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("invitation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_invitation_email_send_ws_at", "invitation_email_send", ["workspace_id", "created_at"], unique=False
    )
    op.execute(rls_sql("invitation_email_send"))


def downgrade() -> None:
    op.execute(drop_rls_sql("invitation_email_send"))
    op.drop_index("ix_invitation_email_send_ws_at", table_name="invitation_email_send")
    op.drop_table("invitation_email_send")
    op.drop_constraint("password_reset_workspace_id_fkey", "password_reset", type_="foreignkey")
    op.drop_column("password_reset", "workspace_id")
    op.drop_index(op.f("ix_email_verification_user_id"), table_name="email_verification")
    op.drop_table("email_verification")
    op.drop_column("app_user", "email_verified_at")
