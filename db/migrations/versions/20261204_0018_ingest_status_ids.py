"""ingest returns the outbound messages a provider's status callback moved (delivered, read,
failed), so the pipeline can publish MessageStatusChanged for them

Revision ID: 0018_ingest_status_ids
Revises: 0017_webhook_retention
Create Date: 2026-12-04 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_ingest_status_ids"
down_revision: str | None = "0017_webhook_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0003, plus the summary row's status_message_ids.
INGEST_SQL = """
CREATE FUNCTION app_ingest(p_deliveries jsonb, p_bodies bytea[])
  RETURNS TABLE (delivery int, message_id uuid, conversation_id uuid, workspace_id uuid, statuses int,
                 status_message_ids uuid[])
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
  v_moved uuid[];
  v_ids uuid[];
BEGIN
  FOR d IN SELECT * FROM jsonb_array_elements(p_deliveries) LOOP
    v_ws := (d->>'ws')::uuid;
    v_channel := (d->>'channel')::uuid;
    PERFORM set_config('app.workspace_id', v_ws::text, true);
    v_new := 0;
    v_statuses := 0;
    v_moved := '{}';
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
        status_message_ids := NULL;
        RETURN NEXT;
      END IF;
    END LOOP;

    FOR st IN SELECT * FROM jsonb_array_elements(d->'statuses') LOOP
      -- Only forward: sent < delivered < read; failed wins over anything but read.
      WITH moved AS (
        UPDATE message AS msg SET
          status = st->>'status',
          delivered_at = CASE WHEN st->>'status' IN ('delivered', 'read')
                              THEN COALESCE(msg.delivered_at, (st->>'ts')::timestamptz) ELSE msg.delivered_at END,
          read_at = CASE WHEN st->>'status' = 'read' THEN (st->>'ts')::timestamptz ELSE msg.read_at END,
          error = CASE WHEN st->>'status' = 'failed' THEN st->>'error' ELSE msg.error END
        WHERE msg.channel_id = v_channel AND msg.provider_message_id = st->>'pmid' AND msg.direction = 'outbound'
          AND array_position(ARRAY['queued','sending','sent','delivered','read','failed'], msg.status::text)
            < array_position(ARRAY['queued','sending','sent','delivered','read','failed'], st->>'status')
          AND NOT (msg.status = 'read' AND st->>'status' = 'failed')
        RETURNING msg.id
      )
      SELECT coalesce(array_agg(id), '{}') INTO v_ids FROM moved;
      v_statuses := v_statuses + cardinality(v_ids);
      v_moved := v_moved || v_ids;
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
    status_message_ids := v_moved;
    RETURN NEXT;  -- one summary row per delivery, so the caller knows each one was stored
  END LOOP;
END
$$;
"""

# 0003's function, restored on downgrade.
PREVIOUS_SQL = """
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


def upgrade() -> None:
    op.execute("DROP FUNCTION app_ingest(jsonb, bytea[])")
    op.execute(INGEST_SQL)


def downgrade() -> None:
    op.execute("DROP FUNCTION app_ingest(jsonb, bytea[])")
    op.execute(PREVIOUS_SQL)
