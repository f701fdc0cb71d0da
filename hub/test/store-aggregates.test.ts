import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestedEvent, Reading } from '../src/events.ts';
import { refreshContinuousAggregates, refreshWindow } from '../src/store/aggregates.ts';
import { EventWriter } from '../src/store/event-writer.ts';
import { compressOldChunks } from '../src/store/maintenance.ts';
import { backendAvailable, openTestStore, type StoreBackend, type TestStore } from './support/pg.ts';
import { removePolicyJobs } from './support/policy-jobs.ts';

/*
 * Chart aggregates and compression on the stores that have them (licensed TimescaleDB: PGlite
 * and the main test server). Where they are absent, live-stats.test.ts checks the charts fall
 * back to raw rows.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const silent = pino({ level: 'silent' });

function event(siteId: string, msgId: string, ts: number): IngestedEvent {
  return { siteId, deviceId: 'd1', family: 'bin', channel: 'telemetry', type: 'bin.telemetry', msgId, ts, receivedAt: ts, data: { fill: 50 } };
}
function reading(e: IngestedEvent, value: number): Reading {
  return { siteId: e.siteId, deviceId: e.deviceId, metric: 'fill', port: 0, value, msgId: e.msgId, ts: e.ts };
}

describe('refresh window', () => {
  it('covers whole buckets and stops before the bucket in progress', () => {
    const w = refreshWindow(new Date('2026-01-01T07:20:00Z'), new Date('2026-01-01T10:59:59Z'), HOUR)!;
    expect([w.start.toISOString(), w.end.toISOString()]).toEqual(['2026-01-01T07:00:00.000Z', '2026-01-01T10:00:00.000Z']);
    expect(refreshWindow(new Date('2026-01-01T10:01:00Z'), new Date('2026-01-01T10:59:00Z'), HOUR)).toBeNull();
  });
});

const LICENSED: StoreBackend[] = ['pglite', 'postgresql'];

describe.each(LICENSED)('chart aggregates on %s', (backend) => {
  describe.skipIf(!backendAvailable(backend))('', () => {
    let store: TestStore;
    beforeAll(async () => {
      store = await openTestStore(backend);
      // The hub's refresh is under test: the server's own policies would race it (one owner).
      await removePolicyJobs(store.db);
    });
    afterAll(async () => { await store?.close(); });

    it('the hourly view matches the raw rows for the current hour after a refresh and later inserts', async (ctx) => {
      if (!store.db.features.licensed) ctx.skip(); // main server without the extension (developer machine)
      const now = Date.now();
      const hourStart = Math.floor(now / HOUR) * HOUR;
      const site = `lag-${backend}`;
      const insert = async (ids: string[], ts: number) => {
        for (const id of ids) {
          await store.db.query(`INSERT INTO events (ts, site_id, device_id, family, channel, type, msg_id, data) VALUES ($1, $2, 'd', 'bin', 'telemetry', 'bin.telemetry', $3, '{}')`,
            [new Date(ts).toISOString(), site, id]);
        }
      };
      await insert(['prev-1', 'prev-2'], hourStart - HOUR / 2);
      await insert(['cur-1', 'cur-2', 'cur-3'], hourStart + (now - hourStart) / 3);
      const results = await refreshContinuousAggregates(store.db, new Date(now - 3 * HOUR), new Date(now));
      expect(results.map((r) => [r.view, r.outcome]), JSON.stringify(results)).toEqual([['readings_5m', 'refreshed'], ['events_hourly', 'refreshed'], ['events_5m', 'refreshed']]);
      // Arrive after the refresh, in the hour still in progress.
      await insert(['cur-4', 'cur-5', 'cur-6', 'cur-7'], now);

      const fromView = async (bucket: number) => (await store.db.query<{ n: number }>(
        'SELECT coalesce(sum(count), 0)::int AS n FROM events_hourly WHERE site_id = $1 AND bucket = $2::timestamptz', [site, new Date(bucket).toISOString()]))[0]!.n;
      const fromRaw = async (bucket: number) => (await store.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM events WHERE site_id = $1 AND ts >= $2::timestamptz AND ts < $3::timestamptz',
        [site, new Date(bucket).toISOString(), new Date(bucket + HOUR).toISOString()]))[0]!.n;
      expect(await fromRaw(hourStart)).toBe(7);
      expect(await fromView(hourStart)).toBe(7);
      expect(await fromView(hourStart - HOUR)).toBe(2);
      // Materialised up to the start of the current hour, not past it.
      const [wm] = await store.db.query<{ w: Date }>(
        `SELECT _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark(mat_hypertable_id)) AS w
           FROM _timescaledb_catalog.continuous_agg WHERE user_view_name = 'events_hourly'`);
      expect(wm!.w.getTime()).toBe(hourStart);
    });

    it('compresses chunks past a week and still takes a late redelivery and a late new message into them', async (ctx) => {
      if (!store.db.features.licensed) ctx.skip();
      const now = Date.now();
      const site = `late-${backend}`;
      const ts = now - 10 * DAY;
      const w = new EventWriter({ db: store.db, log: silent, maxDelayMs: 0 });
      try {
        const first = [event(site, 'm1', ts), event(site, 'm2', ts + 1000)];
        for (const e of first) await w.write(e, [reading(e, 1)]);
        expect(await compressOldChunks(store.db, now)).toBeGreaterThanOrEqual(2); // one chunk each of events and readings
        const compressed = await store.db.query<{ hypertable_name: string }>(
          `SELECT hypertable_name FROM timescaledb_information.chunks WHERE is_compressed AND range_start <= $1::timestamptz AND range_end > $1::timestamptz ORDER BY 1`,
          [new Date(ts).toISOString()]);
        expect(compressed.map((r) => r.hypertable_name)).toEqual(['events', 'readings']);
        expect(await compressOldChunks(store.db, now)).toBe(0); // idempotent

        // A redelivery of m1 (same id and ts) and a message that arrives days late.
        await w.write(event(site, 'm1', ts), [reading(event(site, 'm1', ts), 1)]);
        const late = event(site, 'm3', ts + 2000);
        await w.write(late, [reading(late, 3)]);
        const ids = await store.db.query<{ msg_id: string }>('SELECT msg_id FROM events WHERE site_id = $1 ORDER BY 1', [site]);
        expect(ids.map((r) => r.msg_id)).toEqual(['m1', 'm2', 'm3']);
        const values = await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM readings WHERE site_id = $1', [site]);
        expect(values[0]!.n).toBe(3);
      } finally {
        await w.close();
      }
    });
  });
});

describe.skipIf(!backendAvailable('postgresql'))('refresh beside another refresher (TimescaleDB server)', () => {
  let store: TestStore;
  let other: pg.Client;
  beforeAll(async () => {
    store = await openTestStore('postgresql');
    other = new pg.Client({ connectionString: store.url! });
    await other.connect();
  });
  afterAll(async () => {
    await other?.end();
    await store?.close();
  });

  it('treats a concurrent refresh as benign and still refreshes the other view', async (ctx) => {
    if (!store.db.features.licensed) ctx.skip();
    // The database's own refresh policies would be a second, unplanned refresher: remove them
    // and wait for any run in flight to end, so the only concurrent refresh is the one below.
    await removePolicyJobs(store.db);
    // What a policy job or another hub refreshing readings_5m leaves in TimescaleDB's tracking
    // table while it runs: its window, under a live backend's pid (here: another session).
    const [{ pid }] = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
    await store.db.query(
      `INSERT INTO _timescaledb_catalog.continuous_aggs_jobs_refresh_ranges (materialization_id, start_range, end_range, pid, job_id, created_at)
       SELECT mat_hypertable_id, -9223372036854775807, 9223372036854775807, $1, 0, now() FROM _timescaledb_catalog.continuous_agg WHERE user_view_name = 'readings_5m'`, [pid]);
    const now = Date.now();
    await store.db.query(`INSERT INTO events (ts, site_id, device_id, family, channel, type, msg_id, data) VALUES ($1, 'conc', 'd', 'bin', 'telemetry', 'bin.telemetry', 'c1', '{}')`,
      [new Date(now - 2 * HOUR).toISOString()]);
    const results = await refreshContinuousAggregates(store.db, new Date(now - 3 * HOUR), new Date(now));
    expect(results.map((r) => [r.view, r.outcome]), JSON.stringify(results)).toEqual([['readings_5m', 'concurrent'], ['events_hourly', 'refreshed'], ['events_5m', 'refreshed']]);
    await store.db.query('ALTER MATERIALIZED VIEW events_hourly SET (timescaledb.materialized_only = true)');
    const n = (await store.db.query<{ n: number }>(`SELECT coalesce(sum(count), 0)::int AS n FROM events_hourly WHERE site_id = 'conc'`))[0]!.n;
    await store.db.query('ALTER MATERIALIZED VIEW events_hourly SET (timescaledb.materialized_only = false)');
    expect(n).toBe(1);
  });
});

describe.skipIf(!backendAvailable('postgresql'))('migrations on the TimescaleDB server', () => {
  it('apply without server warnings (compression settings cover the unique indexes)', async (ctx) => {
    const lines: { level: number; msg: string; message?: string }[] = [];
    const log = pino({ level: 'debug' }, { write: (s: string) => { lines.push(JSON.parse(s) as { level: number; msg: string }); } });
    const store = await openTestStore('postgresql', log);
    try {
      if (!store.db.features.licensed) ctx.skip();
      expect(lines.filter((l) => l.msg === 'migration applied').length).toBeGreaterThan(3);
      const notices = lines.filter((l) => l.msg === 'database warning' || l.msg === 'database notice').map((l) => l.message ?? '');
      expect(notices.filter((m) => /segmenting or ordering/.test(m))).toEqual([]);
      expect(lines.filter((l) => l.msg === 'database warning')).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
