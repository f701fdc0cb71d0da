-- TimescaleDB only (skipped and recorded as skipped on plain PostgreSQL).
-- create_hypertable(..., by_range(...)) needs TimescaleDB >= 2.13; PGlite ships 2.23.
-- Background jobs don't run inside PGlite: the policies below act on a TimescaleDB server,
-- and the hub's cron drives refresh (aggregates.ts) and retention itself.

SELECT create_hypertable('events', by_range('ts', INTERVAL '1 day'), if_not_exists => true, migrate_data => true);
SELECT create_hypertable('readings', by_range('ts', INTERVAL '1 day'), if_not_exists => true, migrate_data => true);

-- One device's rows sit together in a compressed segment: the common query is "this device
-- over time", and ON CONFLICT checks into old chunks stay cheap.
ALTER TABLE events SET (timescaledb.compress, timescaledb.compress_segmentby = 'site_id, device_id', timescaledb.compress_orderby = 'ts DESC');
ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'site_id, device_id', timescaledb.compress_orderby = 'ts DESC');
SELECT add_compression_policy('events', INTERVAL '7 days', if_not_exists => true);
SELECT add_compression_policy('readings', INTERVAL '7 days', if_not_exists => true);

-- Real-time aggregates (materialized_only = false): buckets not yet refreshed are computed
-- from the raw rows at query time, so charts are current even when refresh lags.
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
