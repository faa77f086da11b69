"""seller inbox: per-user read marks, quick replies, lead notes/tags/CRM link, live notifications

Revision ID: 0010_inbox
Revises: 0009_dashboard
Create Date: 2026-12-02 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from db.tenancy import drop_rls_sql, rls_sql

revision: str = "0010_inbox"
down_revision: str | None = "0009_dashboard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every change to a message, suggestion or conversation NOTIFYs 'pv_inbox' with the ids only
# (never content: any LISTENer could read it). Statement-level triggers with transition tables
# send one notification per conversation touched, so a bulk insert does not flood the queue.
# runtime.live turns them into live inbox updates in every web process.
NOTIFY_SQL = """
CREATE OR REPLACE FUNCTION app_inbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pv_inbox', json_build_object('w', d.workspace_id, 'c', d.conversation_id, 't', TG_ARGV[0])::text)
  FROM (SELECT DISTINCT workspace_id, conversation_id FROM changed) d;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION app_inbox_notify_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pv_inbox', json_build_object('w', d.workspace_id, 'c', d.id, 't', 'conversation')::text)
  FROM (SELECT DISTINCT workspace_id, id FROM changed) d;
  RETURN NULL;
END $$;
"""
TRIGGERS = [
    ("message", "INSERT", "app_inbox_notify('message')"),
    ("message", "UPDATE", "app_inbox_notify('message')"),
    ("suggestion", "INSERT", "app_inbox_notify('suggestion')"),
    ("suggestion", "UPDATE", "app_inbox_notify('suggestion')"),
    ("conversation", "INSERT", "app_inbox_notify_conversation()"),
    ("conversation", "UPDATE", "app_inbox_notify_conversation()"),
]


def _trigger_name(table: str, event: str) -> str:
    return f"{table}_inbox_{event.lower()}"


def upgrade() -> None:
    op.create_table(
        "conversation_read",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("last_read_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "conversation_id"),
    )
    op.create_index(op.f("ix_conversation_read_workspace_id"), "conversation_read", ["workspace_id"], unique=False)
    op.create_table(
        "quick_reply",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("shortcut", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "shortcut"),
    )
    op.create_index(op.f("ix_quick_reply_workspace_id"), "quick_reply", ["workspace_id"], unique=False)
    op.add_column(
        "contact", sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(), server_default=sa.text("''"), nullable=False)
    )
    op.add_column(
        "contact",
        sa.Column(
            "tags", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
    )
    op.add_column("contact", sa.Column("crm_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
    op.create_index(
        "ix_message_ws_conversation_created", "message", ["workspace_id", "conversation_id", "created_at"], unique=False
    )
    for table in ("conversation_read", "quick_reply"):
        op.execute(rls_sql(table))
    op.execute(NOTIFY_SQL)
    for table, event, call in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table} "
            f"REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {call}"
        )


def downgrade() -> None:
    for table, event, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, event)} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS app_inbox_notify_conversation()")
    op.execute("DROP FUNCTION IF EXISTS app_inbox_notify()")
    for table in ("conversation_read", "quick_reply"):
        op.execute(drop_rls_sql(table))
    op.drop_index("ix_message_ws_conversation_created", table_name="message")
    op.drop_column("contact", "crm_url")
    op.drop_column("contact", "tags")
    op.drop_column("contact", "notes")
    op.drop_index(op.f("ix_quick_reply_workspace_id"), table_name="quick_reply")
    op.drop_table("quick_reply")
    op.drop_index(op.f("ix_conversation_read_workspace_id"), table_name="conversation_read")
    op.drop_table("conversation_read")
