import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { POLICY_PROCS } from '../src/store/job-health.ts';
import { openTestStore, type TestStore } from './support/pg.ts';
import { removePolicyJobs } from './support/policy-jobs.ts';

/**
 * The policy jobs a fresh hub database gets from its migrations (030/031 and the read side's
 * 106) must do their work when run. Run in the foreground (`CALL run_job`): on PostgreSQL
 * 15.20 TimescaleDB 2.28.3's background runner fails *every* job after it committed ("cannot
 * drop portal "" while it is being set up": PortalDrop now refuses the bare portal the runner
 * creates in tsl/src/bgw_policy/job.c job_execute), TimescaleDB's own job 3 included, so the
 * background status says nothing about our jobs; the hub covers for it (maintenance-owner.ts).
 */
describe.runIf(inject('pgUrl'))('policy jobs of a fresh hub database (server store)', () => {
  let store: TestStore;
  const day = 86_400_000;
  beforeAll(async () => {
    store = await openTestStore('postgresql');
  });
  afterAll(async () => { await store?.close(); });

  it('every compression and refresh policy runs successfully and does its work', async () => {
    const { db } = store;
    if (!db.features.jobs) return; // plain PostgreSQL / Apache license: no policies to run
    const now = Date.now();
    // One device message 10 days old (past the 7-day compression age) and one two hours old (inside every refresh window).
    for (const [i, at] of [now - 10 * day, now - 2 * 3_600_000].entries()) {
      await db.query(
        `INSERT INTO events (ts, received_at, site_id, device_id, family, channel, type, msg_id, data)
         VALUES ($1::timestamptz, now(), 's1', 'd1', 'bin', 'telemetry', 'bin.telemetry', $2, '{}')`, [new Date(at).toISOString(), `m${i}`]);
      await db.query(
        `INSERT INTO readings (ts, site_id, device_id, metric, port, value, msg_id) VALUES ($1::timestamptz, 's1', 'd1', 'fill', 0, 50, $2)`,
        [new Date(at).toISOString(), `m${i}`]);
    }
    const jobs = await db.query<{ job_id: number; proc_name: string; target: string }>(
      `SELECT job_id, proc_name, coalesce(hypertable_name, '') AS target FROM timescaledb_information.jobs
        WHERE proc_name = ANY($1::text[]) ORDER BY job_id`, [[...POLICY_PROCS]]);
    expect(jobs.filter((j) => j.proc_name === 'policy_compression').length).toBe(2);
    expect(jobs.filter((j) => j.proc_name === 'policy_refresh_continuous_aggregate').length).toBeGreaterThanOrEqual(2);
    // The scheduler must not run the same jobs beside us.
    await db.query('SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs WHERE proc_name = ANY($1::text[])', [[...POLICY_PROCS]]);
    const failures: string[] = [];
    for (const j of jobs) {
      await db.query(`CALL run_job(${j.job_id})`).catch((err: Error) => failures.push(`${j.job_id} ${j.proc_name} ${j.target}: ${err.message}`));
    }
    expect(failures).toEqual([]);
    const chunks = await db.query<{ hypertable_name: string; is_compressed: boolean; old: boolean }>(
      `SELECT hypertable_name, is_compressed, range_end <= now() - interval '7 days' AS old FROM timescaledb_information.chunks
        WHERE hypertable_name IN ('events', 'readings') ORDER BY 1, range_start`);
    expect(chunks.filter((c) => c.old).map((c) => [c.hypertable_name, c.is_compressed])).toEqual([['events', true], ['readings', true]]);
    expect(chunks.filter((c) => !c.old).every((c) => !c.is_compressed)).toBe(true);
    // Each refresh policy materialised its view (a watermark past the oldest row).
    const marks = await db.query<{ view_name: string; materialised: boolean }>(
      `SELECT view_name, _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark(h.id)) > now() - interval '30 days' AS materialised
         FROM timescaledb_information.continuous_aggregates c
         JOIN _timescaledb_catalog.hypertable h ON h.schema_name = c.materialization_hypertable_schema AND h.table_name = c.materialization_hypertable_name
        ORDER BY 1`);
    expect(marks.length).toBeGreaterThanOrEqual(2);
    expect(marks.filter((m) => !m.materialised)).toEqual([]);
    await removePolicyJobs(db);
  });
});
