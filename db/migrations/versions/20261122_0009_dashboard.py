"""dashboard: covering indexes for the Painel's aggregates

Revision ID: 0009_dashboard
Revises: 0007
Create Date: 2026-11-22 12:00:00

The Painel (runtime.panel.dashboard) aggregates a period of messages, turns, conversations and
contacts per workspace: each read is a range of (workspace_id, created_at) whose other columns are
INCLUDEd so PostgreSQL answers from the index alone. ix_message_ws_created keeps its name and key
and gains INCLUDE columns.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_dashboard"
down_revision: str | None = "0007"
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
        "ix_message_conversation_direction_created", "message", ["conversation_id", "direction", "created_at"]
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


def downgrade() -> None:
    op.drop_index("ix_conversation_turn_ws_created", table_name="conversation_turn")
    op.drop_index("ix_contact_ws_created", table_name="contact")
    op.drop_index("ix_conversation_ws_created", table_name="conversation")
    op.drop_index("ix_message_conversation_direction_created", table_name="message")
    op.drop_index("ix_message_ws_created", table_name="message")
    op.create_index("ix_message_ws_created", "message", ["workspace_id", "created_at"])
