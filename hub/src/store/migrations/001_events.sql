-- Core ingest tables. Other modules write these: keep names and columns stable.
-- (site_id, device_id, msg_id, ts) is the idempotence key of a device message: a redelivered
-- message hits the unique constraint and is skipped (INSERT ... ON CONFLICT DO NOTHING).
-- Every unique constraint includes ts so the tables can become TimescaleDB hypertables.

CREATE TABLE IF NOT EXISTS events (
  ts timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  site_id text NOT NULL,
  device_id text NOT NULL,
  family text NOT NULL,
  channel text NOT NULL,
  type text NOT NULL,
  msg_id text NOT NULL,
  data jsonb NOT NULL,
  UNIQUE (site_id, device_id, msg_id, ts)
);
CREATE INDEX IF NOT EXISTS events_device_ts ON events (site_id, device_id, ts DESC);
CREATE INDEX IF NOT EXISTS events_type_ts ON events (site_id, type, ts DESC);

CREATE TABLE IF NOT EXISTS readings (
  ts timestamptz NOT NULL,
  site_id text NOT NULL,
  device_id text NOT NULL,
  metric text NOT NULL,
  port smallint NOT NULL DEFAULT 0,
  value double precision NOT NULL,
  msg_id text NOT NULL,
  UNIQUE (site_id, device_id, metric, port, msg_id, ts)
);
-- Charts and threshold look-backs read one device's metric over a time range.
CREATE INDEX IF NOT EXISTS readings_series_ts ON readings (site_id, device_id, metric, port, ts DESC);

CREATE TABLE IF NOT EXISTS dead_letters (
  id bigserial PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  reason text NOT NULL,
  detail text NOT NULL,
  topic text NOT NULL,
  client_id text,
  site_id text,
  device_id text,
  raw text NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_received ON dead_letters (received_at DESC);
CREATE INDEX IF NOT EXISTS dead_letters_device ON dead_letters (site_id, device_id);

CREATE TABLE IF NOT EXISTS device_state (
  site_id text,
  device_id text,
  family text NOT NULL,
  last_seen timestamptz,
  online boolean NOT NULL DEFAULT false,
  status jsonb,
  status_at timestamptz,
  PRIMARY KEY (site_id, device_id)
);
