import type { Db } from './db.ts';

/** The continuous aggregates created by 002_hypertables.timescale.sql, with their bucket width. */
export const CONTINUOUS_AGGREGATES = [
  { view: 'readings_5m', bucketMs: 5 * 60_000 },
  { view: 'events_hourly', bucketMs: 60 * 60_000 },
] as const;

/**
 * Materialises the continuous aggregates over [from, to). PGlite runs no background jobs, so
 * the hub's cron calls this; on a TimescaleDB server the refresh policies do it as well and an
 * extra call is harmless. A no-op without timescale (the views don't exist there).
 *
 * The window is widened to whole buckets: TimescaleDB refuses ("refresh window too small") a
 * window that doesn't cover one bucket, and only refreshes buckets entirely inside it.
 * Must not be called inside a transaction (refresh_continuous_aggregate is a procedure that
 * commits on its own), hence it takes the Db, not a transaction.
 */
export async function refreshContinuousAggregates(db: Db, from: Date, to: Date): Promise<void> {
  if (!db.timescale) return;
  for (const { view, bucketMs } of CONTINUOUS_AGGREGATES) {
    const start = Math.floor(from.getTime() / bucketMs) * bucketMs;
    const end = Math.max(Math.ceil(to.getTime() / bucketMs) * bucketMs, start + bucketMs);
    await db.query(`CALL refresh_continuous_aggregate('${view}', $1::timestamptz, $2::timestamptz)`, [
      new Date(start).toISOString(),
      new Date(end).toISOString(),
    ]);
  }
}
