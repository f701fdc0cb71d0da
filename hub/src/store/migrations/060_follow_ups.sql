-- Follow-ups (回访, DESIGN §6/§7): the resident's two answers (是否解决 / 是否满意) per ticket.
-- Append-only history; the KPIs read the latest row of each ticket (双是率, 失分溯源).
CREATE TABLE IF NOT EXISTS follow_ups (
  id bigserial PRIMARY KEY,
  ticket_id text NOT NULL REFERENCES tickets (id),
  at timestamptz NOT NULL,
  actor text NOT NULL,
  solved boolean NOT NULL,
  satisfied boolean NOT NULL,
  -- double_yes | not_double_yes | double_no (schemas FOLLOW_UP_OUTCOMES)
  outcome text NOT NULL,
  rating text NOT NULL,
  note text
);
CREATE INDEX IF NOT EXISTS follow_ups_ticket ON follow_ups (ticket_id, id DESC);
CREATE INDEX IF NOT EXISTS follow_ups_at ON follow_ups (at DESC);
