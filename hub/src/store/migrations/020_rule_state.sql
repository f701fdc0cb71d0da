-- Rule engine state snapshots (windows, pending durations, inactivity timers), so a restart
-- resumes from the last snapshot and replays only the events received after its watermark.
CREATE TABLE IF NOT EXISTS rule_state (
  id          text PRIMARY KEY,          -- the engine's shard: sorted site ids it serves
  state       jsonb NOT NULL,
  watermark   timestamptz NOT NULL,      -- received_at of the newest event folded into state
  saved_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS events_received_at_idx ON events (received_at);
