-- Compression of old chunks (Timescale license; skipped under the Apache license or without
-- the extension). Settings fit the unique constraints of 001: every column of a unique index
-- is a segmentby or orderby column, so the ON CONFLICT check of a late redelivery into a
-- compressed chunk decompresses only that device's segment (and TimescaleDB warns otherwise).
-- One device's rows (one series, for readings) sit together: the common query is "this
-- device over time".
--
-- Databases migrated by the first 002 already have compression with other settings; those
-- can't be changed while chunks are compressed, so then they are kept and a notice says so.
DO $$
DECLARE compressed integer;
BEGIN
  SELECT count(*) INTO compressed FROM timescaledb_information.chunks
   WHERE hypertable_name IN ('events', 'readings') AND is_compressed;
  IF compressed > 0 THEN
    RAISE NOTICE 'shaobing 030: % compressed chunks; compression settings left as they are', compressed;
    RETURN;
  END IF;
  ALTER TABLE events SET (timescaledb.compress, timescaledb.compress_segmentby = 'site_id, device_id', timescaledb.compress_orderby = 'ts DESC, msg_id');
  ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'site_id, device_id, metric, port', timescaledb.compress_orderby = 'ts DESC, msg_id');
END
$$;

-- On a server the compression policies run as TimescaleDB jobs; on PGlite (no background
-- jobs) or with STORE_MAINTENANCE=hub the hub compresses the same chunks (maintenance.ts).
SELECT add_compression_policy('events', INTERVAL '7 days', if_not_exists => true);
SELECT add_compression_policy('readings', INTERVAL '7 days', if_not_exists => true);
