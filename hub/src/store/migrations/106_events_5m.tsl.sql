-- 5-minute event counts for the charts (/api/stats/events at 5 min: the dashboard's 24 h view
-- of the last day, and hourly charts in time zones off the hour). Like 031's views: real-time
-- (materialized_only = false), so buckets above the watermark come from the raw rows at query
-- time; refreshed by a policy on a server, by the hub's maintenance elsewhere (aggregates.ts).
CREATE MATERIALIZED VIEW IF NOT EXISTS events_5m
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
  SELECT time_bucket(INTERVAL '5 minutes', ts) AS bucket, site_id, family, type, count(*) AS count
  FROM events
  GROUP BY bucket, site_id, family, type
  WITH NO DATA;

SELECT add_continuous_aggregate_policy('events_5m', start_offset => INTERVAL '1 day', end_offset => INTERVAL '5 minutes', schedule_interval => INTERVAL '5 minutes', if_not_exists => true);
