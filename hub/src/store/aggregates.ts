import type { Db } from './db.ts';

/** The continuous aggregates created by 031_chart_aggregates.tsl.sql (and 106), with their bucket width. */
export const CONTINUOUS_AGGREGATES = [
  { view: 'readings_5m', bucketMs: 5 * 60_000 },
  { view: 'events_hourly', bucketMs: 60 * 60_000 },
  { view: 'events_5m', bucketMs: 5 * 60_000 }, // 106_events_5m.tsl.sql
] as const;

export type RefreshOutcome = 'refreshed' | 'concurrent' | 'nothing-complete' | 'failed';

export interface RefreshResult {
  view: string;
  outcome: RefreshOutcome;
  from: string;
  to: string;
  error?: string;
}

/**
 * The window to materialise for `[from, to)`: whole buckets only, and never the bucket `to`
 * falls in. A bucket still filling must stay above the watermark, where the real-time view
 * computes it from raw rows; materialised, it would freeze at what had arrived by then.
 * null when no complete bucket lies inside (TimescaleDB refuses a window under one bucket).
 */
export function refreshWindow(from: Date, to: Date, bucketMs: number): { start: Date; end: Date } | null {
  const start = Math.floor(from.getTime() / bucketMs) * bucketMs;
  const end = Math.floor(to.getTime() / bucketMs) * bucketMs;
  return end - start >= bucketMs ? { start: new Date(start), end: new Date(end) } : null;
}

/** 55P03 lock_not_available: another session (a policy job, another hub) refreshes an overlapping window. */
function isConcurrentRefresh(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '55P03' || /due to a concurrent refresh/.test(e.message ?? '');
}

/**
 * Materialises the continuous aggregates over the complete buckets of [from, to). Called by the
 * hub's maintenance when it owns the refresh (PGlite runs no background jobs; see
 * maintenance-owner.ts). A no-op without the views (no extension, or the Apache-only license).
 *
 * Every view is attempted even when one fails; a concurrent refresh is the benign case (the
 * other session materialises the same buckets) and reported as such, not as an error.
 * Must not be called inside a transaction (refresh_continuous_aggregate is a procedure that
 * commits on its own), hence it takes the Db, not a transaction.
 */
export async function refreshContinuousAggregates(db: Db, from: Date, to: Date): Promise<RefreshResult[]> {
  if (!db.features.licensed) return [];
  const results: RefreshResult[] = [];
  for (const { view, bucketMs } of CONTINUOUS_AGGREGATES) {
    const w = refreshWindow(from, to, bucketMs);
    if (!w) {
      results.push({ view, outcome: 'nothing-complete', from: from.toISOString(), to: to.toISOString() });
      continue;
    }
    const range = { from: w.start.toISOString(), to: w.end.toISOString() };
    try {
      await db.query(`CALL refresh_continuous_aggregate('${view}', $1::timestamptz, $2::timestamptz)`, [range.from, range.to]);
      results.push({ view, outcome: 'refreshed', ...range });
    } catch (err) {
      if (isConcurrentRefresh(err)) results.push({ view, outcome: 'concurrent', ...range });
      else results.push({ view, outcome: 'failed', ...range, error: (err as Error).message });
    }
  }
  return results;
}
