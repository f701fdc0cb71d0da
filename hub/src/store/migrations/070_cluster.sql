-- Scaling out (README "Scaling out"): several hubs share one database.
-- ingest_seq numbers events as they are inserted, from a sequence, so a site's owner can read
-- what any hub stored, in commit order (cluster/event-tail.ts). The insert code needs no
-- change: the column has a default. Values are unique, not gap-free (a duplicate skipped by
-- ON CONFLICT still draws a number; a rolled-back batch leaves a hole).
CREATE SEQUENCE IF NOT EXISTS events_ingest_seq;
ALTER TABLE events ADD COLUMN IF NOT EXISTS ingest_seq bigint;
ALTER TABLE events ALTER COLUMN ingest_seq SET DEFAULT nextval('events_ingest_seq');
CREATE INDEX IF NOT EXISTS events_ingest_seq_idx ON events (ingest_seq);

-- Who holds which lease (a PostgreSQL advisory lock is the lease; this row only says who
-- took it last and when, for operators and the failover test).
CREATE TABLE IF NOT EXISTS cluster_leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  since timestamptz NOT NULL DEFAULT now()
);
