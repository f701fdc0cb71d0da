-- TimescaleDB only (skipped and recorded as skipped on plain PostgreSQL). Apache-licensed parts
-- only, so this also applies under timescaledb.license=apache; compression and the chart
-- aggregates need the Timescale license and live in 030/031 (`.tsl.sql`).
-- create_hypertable(..., by_range(...)) needs TimescaleDB >= 2.13; PGlite ships 2.23.
-- (Databases migrated before 030 existed got compression and aggregates from this file;
-- 030/031 are written to apply on top of that too.)

SELECT create_hypertable('events', by_range('ts', INTERVAL '1 day'), if_not_exists => true, migrate_data => true);
SELECT create_hypertable('readings', by_range('ts', INTERVAL '1 day'), if_not_exists => true, migrate_data => true);
