"""channels pipeline

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:13:06.652473
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from db.tenancy import rls_sql

# Webhooks arrive before any tenant is known: resolve the channel (and so the workspace) by its
# unguessable id. Runs as the owner, so it bypasses RLS for exactly that one row.
CHANNEL_LOOKUP_SQL = """
CREATE FUNCTION app_channel_lookup(p_id uuid)
  RETURNS TABLE (workspace_id uuid, provider varchar, credentials_encrypted varchar,
                 api_base_url varchar, config jsonb, is_active boolean, agent_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
  $$ SELECT workspace_id, provider, credentials_encrypted, api_base_url, config, is_active, agent_id
     FROM channel WHERE id = p_id $$;
REVOKE ALL ON FUNCTION app_channel_lookup(uuid) FROM PUBLIC;
"""

# Stores a batch of webhook deliveries in the caller's transaction, one round trip for all of
# them. SECURITY INVOKER: every statement runs under RLS, with app.workspace_id set to each
# delivery's workspace in turn. Returns the messages that were new (redeliveries return nothing).
INGEST_SQL = """
CREATE FUNCTION app_ingest(p_deliveries jsonb, p_bodies bytea[])
  RETURNS TABLE (delivery int, message_id uuid, conversation_id uuid, workspace_id uuid, statuses int)
  LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  d jsonb;
  m jsonb;
  st jsonb;
  v_ws uuid;
  v_channel uuid;
  v_contact uuid;
  v_conversation uuid;
  v_message uuid;
  v_new int;
  v_statuses int;
  v_n int;
BEGIN
  FOR d IN SELECT * FROM jsonb_array_elements(p_deliveries) LOOP
    v_ws := (d->>'ws')::uuid;
    v_channel := (d->>'channel')::uuid;
    PERFORM set_config('app.workspace_id', v_ws::text, true);
    v_new := 0;
    v_statuses := 0;
    FOR m IN SELECT * FROM jsonb_array_elements(d->'messages') LOOP
      INSERT INTO contact AS c (id, workspace_id, phone, name, lead_type, stage, score, fields, created_at)
      VALUES (gen_random_uuid(), v_ws, m->>'phone', m->>'name', 'lead', 'new', 0, '{}'::jsonb, now())
      ON CONFLICT (workspace_id, phone) DO UPDATE
        SET name = CASE WHEN c.name = '' THEN EXCLUDED.name ELSE c.name END
      RETURNING c.id INTO v_contact;

      INSERT INTO conversation AS cv (id, workspace_id, contact_id, channel_id, agent_id, status,
                                      last_message_at, last_inbound_at, created_at)
      VALUES (gen_random_uuid(), v_ws, v_contact, v_channel, (d->>'agent')::uuid, 'open',
              (m->>'ts')::timestamptz, (m->>'ts')::timestamptz, now())
      ON CONFLICT (channel_id, contact_id) WHERE status = 'open' DO UPDATE
        SET last_message_at = GREATEST(cv.last_message_at, EXCLUDED.last_message_at),
            last_inbound_at = GREATEST(cv.last_inbound_at, EXCLUDED.last_inbound_at)
      RETURNING cv.id INTO v_conversation;

      v_message := NULL;
      INSERT INTO message (id, workspace_id, conversation_id, channel_id, direction, author, kind, text,
                           media, details, provider_message_id, status, attempts, sent_at, created_at)
      VALUES (gen_random_uuid(), v_ws, v_conversation, v_channel, 'inbound', 'lead', m->>'kind', m->>'text',
              m->'media', m->'details', m->>'pmid', 'received', 0, (m->>'ts')::timestamptz, clock_timestamp())
      ON CONFLICT (channel_id, provider_message_id) DO NOTHING
      RETURNING id INTO v_message;

      IF v_message IS NOT NULL THEN
        v_new := v_new + 1;
        delivery := (d->>'i')::int;
        message_id := v_message;
        conversation_id := v_conversation;
        workspace_id := v_ws;
        statuses := NULL;
        RETURN NEXT;
      END IF;
    END LOOP;

    FOR st IN SELECT * FROM jsonb_array_elements(d->'statuses') LOOP
      -- Only forward: sent < delivered < read; failed wins over anything but read.
      UPDATE message AS msg SET
        status = st->>'status',
        delivered_at = CASE WHEN st->>'status' IN ('delivered', 'read')
                            THEN COALESCE(msg.delivered_at, (st->>'ts')::timestamptz) ELSE msg.delivered_at END,
        read_at = CASE WHEN st->>'status' = 'read' THEN (st->>'ts')::timestamptz ELSE msg.read_at END,
        error = CASE WHEN st->>'status' = 'failed' THEN st->>'error' ELSE msg.error END
      WHERE msg.channel_id = v_channel AND msg.provider_message_id = st->>'pmid' AND msg.direction = 'outbound'
        AND array_position(ARRAY['queued','sending','sent','delivered','read','failed'], msg.status::text)
          < array_position(ARRAY['queued','sending','sent','delivered','read','failed'], st->>'status')
        AND NOT (msg.status = 'read' AND st->>'status' = 'failed');
      GET DIAGNOSTICS v_n = ROW_COUNT;
      v_statuses := v_statuses + v_n;
    END LOOP;

    INSERT INTO webhook_event (id, workspace_id, channel_id, content_type, body, messages, statuses, received_at)
    VALUES (gen_random_uuid(), v_ws, v_channel, d->>'ctype', p_bodies[(d->>'i')::int + 1], v_new,
            jsonb_array_length(d->'statuses'), now());
    UPDATE channel SET last_event_at = now()
      WHERE id = v_channel AND (last_event_at IS NULL OR last_event_at < now() - interval '5 seconds');

    delivery := (d->>'i')::int;
    message_id := NULL;
    conversation_id := NULL;
    workspace_id := v_ws;
    statuses := v_statuses;
    RETURN NEXT;  -- one summary row per delivery, so the caller knows each one was stored
  END LOOP;
END
$$;
"""

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("statuses", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_event_channel_received", "webhook_event", ["channel_id", "received_at"], unique=False)
    op.create_index(op.f("ix_webhook_event_workspace_id"), "webhook_event", ["workspace_id"], unique=False)
    op.create_table(
        "conversation_turn",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("trigger_message_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["trigger_message_id"], ["message.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trigger_message_id"),
    )
    op.create_index(
        op.f("ix_conversation_turn_conversation_id"), "conversation_turn", ["conversation_id"], unique=False
    )
    op.create_index(op.f("ix_conversation_turn_workspace_id"), "conversation_turn", ["workspace_id"], unique=False)
    op.add_column("channel", sa.Column("api_base_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
    op.create_index(
        "uq_conversation_open",
        "conversation",
        ["channel_id", "contact_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.add_column(
        "message",
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
    )
    op.add_column("message", sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column("message", sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("message", sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("message", sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
    for table in ("webhook_event", "conversation_turn"):
        op.execute(rls_sql(table))
    op.execute(CHANNEL_LOOKUP_SQL)
    op.execute(INGEST_SQL)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_channel_lookup(uuid)")
    op.execute("DROP FUNCTION IF EXISTS app_ingest(jsonb, bytea[])")
    op.drop_column("message", "read_at")
    op.drop_column("message", "delivered_at")
    op.drop_column("message", "sent_at")
    op.drop_column("message", "attempts")
    op.drop_column("message", "details")
    op.drop_index("uq_conversation_open", table_name="conversation", postgresql_where=sa.text("status = 'open'"))
    op.drop_column("channel", "api_base_url")
    op.drop_index(op.f("ix_conversation_turn_workspace_id"), table_name="conversation_turn")
    op.drop_index(op.f("ix_conversation_turn_conversation_id"), table_name="conversation_turn")
    op.drop_table("conversation_turn")
    op.drop_index(op.f("ix_webhook_event_workspace_id"), table_name="webhook_event")
    op.drop_index("ix_webhook_event_channel_received", table_name="webhook_event")
    op.drop_table("webhook_event")
