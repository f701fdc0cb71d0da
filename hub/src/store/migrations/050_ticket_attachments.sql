-- Photo evidence of tickets (DESIGN §6 field loop): the bytes live in the database, so every hub
-- serving the site reads the same pictures, and a camera that overwrites its storage cannot
-- take a ticket's evidence with it. Append-only; a ticket holds at most a few (checked on upload).
CREATE TABLE IF NOT EXISTS ticket_attachments (
  id text PRIMARY KEY,
  ticket_id text NOT NULL REFERENCES tickets (id),
  at timestamptz NOT NULL,
  by_actor text NOT NULL,
  mime text NOT NULL,
  bytes integer NOT NULL,
  source text NOT NULL DEFAULT 'upload',
  content bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS ticket_attachments_ticket ON ticket_attachments (ticket_id, at);
