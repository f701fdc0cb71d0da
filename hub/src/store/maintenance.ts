import type { Logger } from 'pino';
import { scheduleJob, type CronJob } from '../schedule/cron-job.ts';
import { refreshContinuousAggregates } from './aggregates.ts';
import type { Db } from './db.ts';

const DAY = 86_400_000;

export interface RetentionPolicy {
  /** Device messages and readings older than this are dropped; 0 keeps them forever. */
  eventsDays: number;
  deadLettersDays: number;
}

/**
 * Drops history past the retention horizon. With TimescaleDB whole chunks go (drop_chunks: cheap,
 * no bloat); on plain PostgreSQL rows are deleted. Tickets and audit rows are never touched.
 */
export async function applyRetention(db: Db, now: number, policy: RetentionPolicy): Promise<{ eventsBefore: string | null; deadLettersBefore: string }> {
  let eventsBefore: string | null = null;
  if (policy.eventsDays > 0) {
    eventsBefore = new Date(now - policy.eventsDays * DAY).toISOString();
    for (const table of ['events', 'readings']) {
      if (db.timescale) await db.query(`SELECT drop_chunks('${table}', older_than => $1::timestamptz)`, [eventsBefore]);
      else await db.query(`DELETE FROM ${table} WHERE ts < $1::timestamptz`, [eventsBefore]);
    }
  }
  const deadLettersBefore = new Date(now - policy.deadLettersDays * DAY).toISOString();
  await db.query('DELETE FROM dead_letters WHERE received_at < $1::timestamptz', [deadLettersBefore]);
  return { eventsBefore, deadLettersBefore };
}

/**
 * Store housekeeping on node-cron (PGlite runs no TimescaleDB background jobs, so the hub does):
 * refresh the chart aggregates over the last hours every 5 minutes, apply retention nightly.
 */
export function startMaintenanceCron(opts: { db: Db; log: Logger; retention: RetentionPolicy; timezone: string; now?: () => number }): { aggregates: CronJob; retention: CronJob; stop(): Promise<void> } {
  const now = opts.now ?? Date.now;
  const aggregates = scheduleJob('refresh-aggregates', '0 */5 * * * *', async () => {
    const t = now();
    await refreshContinuousAggregates(opts.db, new Date(t - 3 * 3_600_000), new Date(t));
  }, { log: opts.log });
  const retention = scheduleJob('retention', '0 30 3 * * *', async () => {
    const r = await applyRetention(opts.db, now(), opts.retention);
    opts.log.info(r, 'retention applied');
  }, { log: opts.log, timezone: opts.timezone });
  return { aggregates, retention, stop: async () => { await aggregates.stop(); await retention.stop(); } };
}
