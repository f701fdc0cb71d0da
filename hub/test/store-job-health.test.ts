import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Health } from '@shaobing/schemas';
import type { HubHandle } from '../src/hub.ts';
import { classifyJobs, type JobStatRow } from '../src/store/job-health.ts';
import { decideOwner } from '../src/store/maintenance-owner.ts';
import { createTestDatabase } from './support/pg.ts';
import { apiGet, eventually, login, startTestHub } from './support/test-hub.ts';

const licensedServer = { hypertables: true, licensed: true, jobs: true };

describe('maintenance owner', () => {
  it('is the hub wherever the database cannot run the policies, and one owner otherwise', () => {
    expect(decideOwner(null, { hypertables: true, licensed: true, jobs: false }, false)).toMatchObject({ owner: 'hub', policyJobsScheduled: null });
    expect(decideOwner('database', { hypertables: true, licensed: false, jobs: false }, false)).toMatchObject({ owner: 'hub' });
    expect(decideOwner(null, { hypertables: false, licensed: false, jobs: false }, false)).toMatchObject({ owner: 'hub' });
    expect(decideOwner(null, licensedServer, false)).toMatchObject({ owner: 'database', policyJobsScheduled: null });
    expect(decideOwner(null, licensedServer, true)).toMatchObject({ owner: 'hub', policyJobsScheduled: null });
    expect(decideOwner('hub', licensedServer, false)).toMatchObject({ owner: 'hub', policyJobsScheduled: false });
    expect(decideOwner('database', licensedServer, true)).toMatchObject({ owner: 'database', policyJobsScheduled: true });
  });

  it('classifies failed and overdue jobs', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    const row = (over: Partial<JobStatRow>): JobStatRow => ({ job_id: 1, proc_name: 'policy_compression', hypertable_name: 'events', last_run_status: 'Success', next_start: new Date(now + 60_000), last_successful_finish: null, last_error: null, ...over });
    expect(classifyJobs([row({})], now)).toEqual([]);
    expect(classifyJobs([row({ last_run_status: 'Failed', last_error: 'boom' })], now)).toMatchObject([{ jobId: 1, problem: 'failed', lastError: 'boom' }]);
    expect(classifyJobs([row({ next_start: new Date(now - 11 * 60_000) })], now)).toMatchObject([{ problem: 'late' }]);
    expect(classifyJobs([row({ next_start: new Date(now - 60_000) })], now)).toEqual([]);
  });
});

async function health(hub: HubHandle): Promise<Health> {
  return (await (await fetch(`${hub.httpUrl}/healthz`)).json()) as Health;
}

describe.runIf(inject('pgApacheUrl'))('hub on TimescaleDB under the Apache-only license', () => {
  let hub: HubHandle;
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    db = await createTestDatabase(inject('pgApacheUrl'));
    hub = await startTestHub({ databaseUrl: db.url, storeMaintenance: null });
  });
  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
  });

  it('starts with hypertables, says what is missing in /healthz, and the charts answer from raw rows', async () => {
    const h = await health(hub);
    expect(h.status).toBe('ok');
    expect(h.store.timescale).toBe(true);
    expect(h.maintenance).toMatchObject({ owner: 'hub', features: { hypertables: true, licensed: false, jobs: false }, jobs: [] });
    expect(h.maintenance.reason).toMatch(/apache/i);
    const ht = await hub.db.query<{ hypertable_name: string }>('SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1');
    expect(ht.map((r) => r.hypertable_name)).toEqual(['events', 'readings']);

    const now = Date.now();
    const hour = new Date(Math.floor(now / 3_600_000) * 3_600_000);
    for (const id of ['a1', 'a2', 'a3']) {
      await hub.db.query(`INSERT INTO events (ts, site_id, device_id, family, channel, type, msg_id, data) VALUES ($1, 't1', 'bin-1', 'bin', 'telemetry', 'bin.telemetry', $2, '{}')`, [new Date(now - 1000).toISOString(), id]);
      await hub.db.query(`INSERT INTO readings (ts, site_id, device_id, metric, value, msg_id) VALUES ($1, 't1', 'bin-1', 'fill_pct', 40, $2)`, [new Date(now - 1000).toISOString(), id]);
    }
    const token = await login(hub);
    for (const bucket of ['1h', '5m', '1d']) {
      const s = await apiGet<{ items: { t: string; family: string; count: number }[] }>(hub, `/api/stats/events?bucket=${bucket}&siteId=t1`, token);
      expect(s.items.reduce((n, i) => n + i.count, 0), bucket).toBe(3);
    }
    const hourly = await apiGet<{ items: { t: string; count: number }[] }>(hub, '/api/stats/events?bucket=1h&siteId=t1', token);
    expect(hourly.items).toEqual([{ t: hour.toISOString(), family: 'bin', count: 3 }]);
    const r = await apiGet<{ items: { count: number; avg: number }[] }>(hub, '/api/readings?siteId=t1&deviceId=bin-1&metric=fill_pct&bucket=1h', token);
    expect(r.items.reduce((n, i) => n + i.count, 0)).toBe(3);
    const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^shaobing_store_disk_bytes \d+/m);
  });
});

describe.runIf(inject('pgApacheUrl'))('TimescaleDB job health (licensed server)', () => {
  let hub: HubHandle;
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    db = await createTestDatabase();
    // A first hub migrates the database; then a job that always fails is added and run by
    // TimescaleDB's scheduler, as a broken policy would be.
    const first = await startTestHub({ databaseUrl: db.url });
    await first.stop();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query(`CREATE PROCEDURE shaobing_test_failing_job(job_id int, config jsonb) LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$`);
      await c.query(`SELECT add_job('shaobing_test_failing_job', INTERVAL '1 hour', initial_start => now())`);
      await eventually(async () => (await c.query(`SELECT 1 FROM timescaledb_information.job_stats s JOIN timescaledb_information.jobs j USING (job_id)
        WHERE j.proc_name = 'shaobing_test_failing_job' AND s.last_run_status = 'Failed'`)).rowCount === 1, 60_000, 250);
    } finally {
      await c.end();
    }
    hub = await startTestHub({ databaseUrl: db.url });
  }, 120_000);
  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
  });

  it('reports a failing job in /healthz (degraded, with its error) and /metrics; STORE_MAINTENANCE=hub pauses the policy jobs', async () => {
    const h = await health(hub);
    expect(h.status).toBe('degraded');
    expect(h.store.connected).toBe(true);
    const job = h.maintenance.jobs.find((j) => j.proc === 'shaobing_test_failing_job');
    expect(job).toMatchObject({ problem: 'failed' });
    expect(job!.lastError).toBeTruthy();
    expect(h.maintenance).toMatchObject({ owner: 'hub', features: { licensed: true, jobs: true } });
    const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    expect(metrics).toContain(`shaobing_store_jobs_failing{job_id="${job!.jobId}",proc="shaobing_test_failing_job",problem="failed"} 1`);
    const policies = await hub.db.query<{ proc_name: string; scheduled: boolean }>(
      `SELECT proc_name, scheduled FROM timescaledb_information.jobs WHERE proc_name LIKE 'policy_%' AND proc_name NOT IN ('policy_telemetry', 'policy_job_stat_history_retention') ORDER BY job_id`);
    expect(policies.length).toBe(5); // compression × 2, refresh of readings_5m, events_hourly, events_5m
    expect(policies.every((p) => !p.scheduled)).toBe(true);
  });
});
