"""follow-up cadences: one row per scheduled / sent / cancelled / skipped step

Revision ID: 0011_followups
Revises: 0010_inbox
Create Date: 2026-12-02 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from db.tenancy import drop_rls_sql, rls_sql

revision: str = "0011_followups"
down_revision: str | None = "0010_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "followup",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("silence_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("scheduled", "sent", "cancelled", "skipped", name="followupstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index(op.f("ix_followup_workspace_id"), "followup", ["workspace_id"], unique=False)
    op.create_index(op.f("ix_followup_conversation_id"), "followup", ["conversation_id"], unique=False)
    op.create_index("ix_followup_ws_sent", "followup", ["workspace_id", "sent_at"], unique=False)
    op.create_index("ix_followup_channel_sent", "followup", ["channel_id", "sent_at"], unique=False)
    op.create_index(
        "uq_followup_scheduled",
        "followup",
        ["conversation_id"],
        unique=True,
        postgresql_where=sa.text("status = 'scheduled'"),
    )
    op.execute(rls_sql("followup"))


def downgrade() -> None:
    op.execute(drop_rls_sql("followup"))
    op.drop_index("uq_followup_scheduled", table_name="followup", postgresql_where=sa.text("status = 'scheduled'"))
    op.drop_index("ix_followup_channel_sent", table_name="followup")
    op.drop_index("ix_followup_ws_sent", table_name="followup")
    op.drop_index(op.f("ix_followup_conversation_id"), table_name="followup")
    op.drop_index(op.f("ix_followup_workspace_id"), table_name="followup")
    op.drop_table("followup")
