-- Transactional outbox of notifications (DESIGN §6): one row per message and channel, written in
-- the same transaction as the ticket change it announces; a delivery loop claims due rows with
-- FOR UPDATE SKIP LOCKED, so two loops (or two hubs) never send one row twice, and a row that
-- was claimed by a hub that died becomes due again when its lease runs out.
CREATE TABLE IF NOT EXISTS notify_outbox (
  id bigserial PRIMARY KEY,
  ticket_id text,
  site_id text NOT NULL,
  event text NOT NULL,
  severity text NOT NULL,
  recipient text NOT NULL,
  channel jsonb NOT NULL,
  payload jsonb NOT NULL,
  -- pending → sent | failed (after the last attempt).
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  due_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  sent_at timestamptz,
  last_error text
);
CREATE INDEX IF NOT EXISTS notify_outbox_due ON notify_outbox (due_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS notify_outbox_ticket ON notify_outbox (ticket_id, id);
