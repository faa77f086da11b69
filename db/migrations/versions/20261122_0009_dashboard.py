"""dashboard: covering indexes for the Painel's aggregates

Revision ID: 0009_dashboard
Revises: 0008_invitations
Create Date: 2026-11-22 12:00:00

The Painel (runtime.panel.dashboard) aggregates a period of messages, turns, conversations and
contacts per workspace: each read is a range of (workspace_id, created_at) whose other columns are
INCLUDEd so PostgreSQL answers from the index alone. ix_message_ws_created keeps its name and key
and gains INCLUDE columns. llm_usage holds each turn's tokens as plain columns (backfilled from
the turns' details) so the cost is summed without reading every turn's JSON.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from db.tenancy import drop_rls_sql, rls_sql

revision: str = "0009_dashboard"
down_revision: str | None = "0008_invitations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_message_ws_created", table_name="message")
    op.create_index(
        "ix_message_ws_created",
        "message",
        ["workspace_id", "created_at"],
        postgresql_include=["channel_id", "direction", "conversation_id"],
    )
    op.create_index(
        "ix_message_conversation_direction_created",
        "message",
        ["conversation_id", "direction", "created_at"],
        postgresql_include=["workspace_id"],
    )
    op.create_index(
        "ix_conversation_ws_created",
        "conversation",
        ["workspace_id", "created_at"],
        postgresql_include=["agent_id", "contact_id"],
    )
    op.create_index(
        "ix_contact_ws_created", "contact", ["workspace_id", "created_at"], postgresql_include=["lead_type", "stage"]
    )
    op.create_index(
        "ix_conversation_turn_ws_created",
        "conversation_turn",
        ["workspace_id", "created_at"],
        postgresql_include=["conversation_id", "route"],
    )

    op.create_table(
        "llm_usage",
        sa.Column("turn_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["turn_id"], ["conversation_turn.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("turn_id"),
    )
    op.create_index(op.f("ix_llm_usage_workspace_id"), "llm_usage", ["workspace_id"], unique=False)
    op.create_index(
        "ix_llm_usage_ws_created",
        "llm_usage",
        ["workspace_id", "created_at"],
        postgresql_include=["conversation_id", "model", "input_tokens", "output_tokens"],
    )
    op.execute(rls_sql("llm_usage"))
    op.execute(
        """
        INSERT INTO llm_usage (turn_id, workspace_id, conversation_id, model, input_tokens, output_tokens, created_at)
        SELECT id, workspace_id, conversation_id, left(coalesce(details->>'model', ''), 160),
               coalesce((details->'tokens'->>'input')::int, 0), coalesce((details->'tokens'->>'output')::int, 0),
               created_at
        FROM conversation_turn
        WHERE coalesce((details->'tokens'->>'input')::int, 0) + coalesce((details->'tokens'->>'output')::int, 0) > 0
        """
    )


def downgrade() -> None:
    op.execute(drop_rls_sql("llm_usage"))
    op.drop_index("ix_llm_usage_ws_created", table_name="llm_usage")
    op.drop_index(op.f("ix_llm_usage_workspace_id"), table_name="llm_usage")
    op.drop_table("llm_usage")
    op.drop_index("ix_conversation_turn_ws_created", table_name="conversation_turn")
    op.drop_index("ix_contact_ws_created", table_name="contact")
    op.drop_index("ix_conversation_ws_created", table_name="conversation")
    op.drop_index("ix_message_conversation_direction_created", table_name="message")
    op.drop_index("ix_message_ws_created", table_name="message")
    op.create_index("ix_message_ws_created", "message", ["workspace_id", "created_at"])
