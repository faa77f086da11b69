"""google drive connections

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from db.tenancy import drop_rls_sql, rls_sql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "drive_connection",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("folder_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("folder_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("account_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("connected_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("refresh_token_encrypted", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sync_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("files_synced", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "sync_state", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["connected_by_user_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "folder_id"),
    )
    op.create_index(op.f("ix_drive_connection_workspace_id"), "drive_connection", ["workspace_id"], unique=False)
    op.execute(rls_sql("drive_connection"))


def downgrade() -> None:
    op.execute(drop_rls_sql("drive_connection"))
    op.drop_index(op.f("ix_drive_connection_workspace_id"), table_name="drive_connection")
    op.drop_table("drive_connection")
