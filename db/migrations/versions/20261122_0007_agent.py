"""agent

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 03:10:00.186255
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from db.tenancy import rls_sql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learned_answer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("original_question", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("source_conversation_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("knowledge_document_id", sa.Uuid(), nullable=True),
        sa.Column("uses", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_user_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["knowledge_document_id"], ["knowledge_document.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source_conversation_id"], ["conversation.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_learned_answer_workspace_id"), "learned_answer", ["workspace_id"], unique=False)
    op.create_table(
        "suggestion",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("turn_id", sa.Uuid(), nullable=True),
        sa.Column("draft", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("next_step", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("final_text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("decided_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by_user_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["turn_id"], ["conversation_turn.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_suggestion_conversation_created", "suggestion", ["conversation_id", "created_at"], unique=False)
    op.create_index(op.f("ix_suggestion_workspace_id"), "suggestion", ["workspace_id"], unique=False)
    op.add_column("agent", sa.Column("llm_api_key_encrypted", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column("conversation", sa.Column("handoff_requested_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "conversation", sa.Column("handoff_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
    )
    op.add_column("conversation", sa.Column("handoff_question", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column("conversation_turn", sa.Column("route", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
    op.add_column(
        "conversation_turn",
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
    )
    op.alter_column(
        "conversation_turn",
        "outcome",
        existing_type=sa.VARCHAR(length=40),
        type_=sqlmodel.sql.sqltypes.AutoString(length=60),
        existing_nullable=False,
    )
    for table in ("learned_answer", "suggestion"):
        op.execute(rls_sql(table))


def downgrade() -> None:
    op.alter_column(
        "conversation_turn",
        "outcome",
        existing_type=sqlmodel.sql.sqltypes.AutoString(length=60),
        type_=sa.VARCHAR(length=40),
        existing_nullable=False,
    )
    op.drop_column("conversation_turn", "details")
    op.drop_column("conversation_turn", "route")
    op.drop_column("conversation", "handoff_question")
    op.drop_column("conversation", "handoff_reason")
    op.drop_column("conversation", "handoff_requested_at")
    op.drop_column("agent", "llm_api_key_encrypted")
    op.drop_index(op.f("ix_suggestion_workspace_id"), table_name="suggestion")
    op.drop_index("ix_suggestion_conversation_created", table_name="suggestion")
    op.drop_table("suggestion")
    op.drop_index(op.f("ix_learned_answer_workspace_id"), table_name="learned_answer")
    op.drop_table("learned_answer")
