-- Continuous aggregates for the charts (Timescale license; without them the charts read the
-- raw rows). Real-time (materialized_only = false): buckets above the watermark are computed
-- from the raw rows at query time, so charts are current even when refresh lags.
-- Refresh windows end at the start of the bucket in progress (end_offset = one bucket):
-- materialising a bucket still filling would move the watermark past it and freeze it.

CREATE MATERIALIZED VIEW IF NOT EXISTS readings_5m
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
  SELECT time_bucket(INTERVAL '5 minutes', ts) AS bucket, site_id, device_id, metric, port,
         avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS count
  FROM readings
  GROUP BY bucket, site_id, device_id, metric, port
  WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_hourly
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
  SELECT time_bucket(INTERVAL '1 hour', ts) AS bucket, site_id, family, type, count(*) AS count
  FROM events
  GROUP BY bucket, site_id, family, type
  WITH NO DATA;

SELECT add_continuous_aggregate_policy('readings_5m', start_offset => INTERVAL '1 day', end_offset => INTERVAL '5 minutes', schedule_interval => INTERVAL '5 minutes', if_not_exists => true);
SELECT add_continuous_aggregate_policy('events_hourly', start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes', if_not_exists => true);
