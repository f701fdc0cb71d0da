-- KPI pushes from the hub that runs the SLA job reach dashboards on every hub: the latest
-- snapshot per site is kept here and renumbered on each update, so every hub's live feed
-- reads the changes in commit order (live/cluster-source.ts), like tickets.change_seq.
CREATE SEQUENCE IF NOT EXISTS live_kpi_seq;
CREATE TABLE IF NOT EXISTS live_kpi (
  scope text PRIMARY KEY,
  seq bigint NOT NULL,
  snapshot jsonb NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS live_kpi_seq_idx ON live_kpi (seq);
