import type { Logger } from 'pino';
import { scheduleJob, type CronJob } from '../schedule/cron-job.ts';
import { refreshContinuousAggregates, type RefreshResult } from './aggregates.ts';
import type { Db, StoreFeatures } from './db.ts';
import { POLICY_PROCS, readJobProblems, setPolicyJobsScheduled, type JobProblem } from './job-health.ts';
import { decideOwner, type MaintenanceOwner, type OwnerDecision } from './maintenance-owner.ts';
import { storeDiskBytes } from './store-disk.ts';

const DAY = 86_400_000;

export interface RetentionPolicy {
  /** Device messages and readings older than this are dropped; 0 keeps them forever. */
  eventsDays: number;
  deadLettersDays: number;
}

/** Chunks older than this are compressed (the same age as the compression policies of 030). */
export const COMPRESS_AFTER_MS = 7 * DAY;

/** Tables updated in place all the time: the embedded store (no autovacuum) vacuums them. */
export const HOT_TABLES = ['rule_state', 'device_state', 'tickets'] as const;

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

/** Compresses the not-yet-compressed chunks of events/readings older than COMPRESS_AFTER_MS. */
export async function compressOldChunks(db: Db, now: number): Promise<number> {
  if (!db.features.licensed) return 0;
  const before = new Date(now - COMPRESS_AFTER_MS).toISOString();
  let n = 0;
  for (const table of ['events', 'readings']) {
    const rows = await db.query(
      `SELECT compress_chunk(format('%I.%I', chunk_schema, chunk_name)::regclass) FROM timescaledb_information.chunks
        WHERE hypertable_schema = current_schema() AND hypertable_name = $1 AND NOT is_compressed AND range_end <= $2::timestamptz`, [table, before]);
    n += rows.length;
  }
  return n;
}

/**
 * The embedded store has neither autovacuum nor a checkpointer: without this the rows updated
 * every few seconds (rule state snapshots, device state, tickets) leave dead versions behind
 * for ever, and pg_wal keeps every segment. VACUUM makes the space reusable; CHECKPOINT lets
 * PostgreSQL recycle WAL segments. A server does both by itself.
 */
export async function embeddedHousekeeping(db: Db): Promise<void> {
  if (db.kind !== 'pglite') return;
  for (const table of HOT_TABLES) await db.exec(`VACUUM ${table}`);
  await db.exec('CHECKPOINT');
}

export interface MaintenanceStatus {
  owner: MaintenanceOwner;
  reason: string;
  features: StoreFeatures;
  /** Failed or late TimescaleDB jobs (server only). */
  jobs: JobProblem[];
  /** Store disk use in bytes (see store-disk.ts); null when unknown (in-memory). */
  diskBytes: number | null;
}

export interface MaintenanceOptions {
  db: Db;
  log: Logger;
  retention: RetentionPolicy;
  timezone: string;
  /** STORE_MAINTENANCE; null chooses by what the database can do (maintenance-owner.ts). */
  configured?: MaintenanceOwner | null;
  /** The embedded store's directory, for its disk use; null for a server or in-memory. */
  pgliteDir?: string | null;
  now?: () => number;
  /** Called after every job-health and disk reading (metrics). */
  onStatus?: (s: MaintenanceStatus) => void;
}

export interface Maintenance {
  aggregates: CronJob;
  compression: CronJob;
  housekeeping: CronJob;
  retention: CronJob;
  health: CronJob;
  status(): MaintenanceStatus;
  stop(): Promise<void>;
}

/**
 * Store housekeeping on node-cron. One owner per job (maintenance-owner.ts): where TimescaleDB's
 * policy jobs work they refresh and compress, and the hub only watches their health; elsewhere
 * the hub refreshes the chart aggregates every 5 minutes and compresses old chunks hourly.
 * Retention (nightly) and, on the embedded store, vacuum + checkpoint are always the hub's.
 */
export async function startMaintenance(opts: MaintenanceOptions): Promise<Maintenance> {
  const { db, log } = opts;
  const now = opts.now ?? Date.now;
  const configured = opts.configured ?? null;
  let decision: OwnerDecision = decideOwner(configured, db.features, false);
  let jobs: JobProblem[] = [];
  let diskBytes: number | null = null;
  const status = (): MaintenanceStatus => ({ owner: decision.owner, reason: decision.reason, features: db.features, jobs, diskBytes });

  const applyDecision = async (next: OwnerDecision): Promise<void> => {
    const changed = next.owner !== decision.owner || next.reason !== decision.reason;
    decision = next;
    if (next.policyJobsScheduled !== null) {
      const n = await setPolicyJobsScheduled(db, next.policyJobsScheduled);
      if (n > 0) log.info({ jobs: n, scheduled: next.policyJobsScheduled }, next.policyJobsScheduled ? 'timescaledb policy jobs resumed' : 'timescaledb policy jobs paused: the hub maintains');
    }
    if (changed) log.info({ owner: next.owner, reason: next.reason }, 'store maintenance owner');
  };
  const checkHealth = async (): Promise<void> => {
    const before = jobs.length;
    jobs = await readJobProblems(db, now());
    if (jobs.length > 0 && before === 0) log.warn({ jobs }, 'timescaledb background jobs failing or late');
    else if (jobs.length === 0 && before > 0) log.info('timescaledb background jobs healthy again');
    const policyFailing = jobs.some((j) => (POLICY_PROCS as readonly string[]).includes(j.proc));
    await applyDecision(decideOwner(configured, db.features, policyFailing));
    diskBytes = await storeDiskBytes(db, opts.pgliteDir ?? null).catch(() => diskBytes);
    opts.onStatus?.(status());
  };

  // Pausing/resuming policy jobs needs to own them; without that right the hub still starts.
  await applyDecision(decision).catch((err: unknown) => log.warn({ err }, 'could not pause/resume the timescaledb policy jobs'));
  log.info({ owner: decision.owner, reason: decision.reason, features: db.features }, 'store maintenance owner');
  await checkHealth().catch((err: unknown) => log.warn({ err }, 'job health check failed'));

  const aggregates = scheduleJob('refresh-aggregates', '0 */5 * * * *', async () => {
    if (decision.owner !== 'hub') return;
    const t = now();
    // PGlite has one connection: a refresh in hour slices lets the ingest commits queued
    // behind it through between slices (PUBACKs wait one slice, not the whole 3 h window).
    for (const [from, to] of refreshSlices(t - 3 * 3_600_000, t, db.kind === 'pglite' ? 3_600_000 : Infinity)) {
      logRefresh(log, await refreshContinuousAggregates(db, new Date(from), new Date(to)));
    }
  }, { log });
  const compression = scheduleJob('compress-chunks', '0 17 * * * *', async () => {
    if (decision.owner !== 'hub') return;
    const n = await compressOldChunks(db, now());
    if (n > 0) log.info({ chunks: n }, 'old chunks compressed');
  }, { log });
  const housekeeping = scheduleJob('vacuum-checkpoint', '0 */10 * * * *', () => embeddedHousekeeping(db), { log });
  const retention = scheduleJob('retention', '0 30 3 * * *', async () => {
    const r = await applyRetention(db, now(), opts.retention);
    opts.log.info(r, 'retention applied');
  }, { log, timezone: opts.timezone });
  const health = scheduleJob('store-health', '30 * * * * *', checkHealth, { log });
  const all = [aggregates, compression, housekeeping, retention, health];
  return {
    aggregates, compression, housekeeping, retention, health, status,
    stop: async () => { for (const j of all) await j.stop(); },
  };
}

/**
 * [from, to) cut at multiples of `sliceMs` (a multiple of every aggregate's bucket, so each
 * slice materialises whole buckets and the slices together cover what one call would).
 */
export function refreshSlices(from: number, to: number, sliceMs: number): [number, number][] {
  if (!Number.isFinite(sliceMs)) return [[from, to]];
  const out: [number, number][] = [];
  for (let a = from; a < to;) {
    const b = Math.min(to, (Math.floor(a / sliceMs) + 1) * sliceMs);
    out.push([a, b]);
    a = b;
  }
  return out;
}

function logRefresh(log: Logger, results: RefreshResult[]): void {
  for (const r of results) {
    if (r.outcome === 'failed') log.warn({ view: r.view, from: r.from, to: r.to, error: r.error }, 'continuous aggregate refresh failed');
    else if (r.outcome === 'concurrent') log.debug({ view: r.view, from: r.from, to: r.to }, 'continuous aggregate refreshed concurrently elsewhere (skipped)');
  }
}
