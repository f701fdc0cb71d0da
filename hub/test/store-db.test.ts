import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, inject, it } from 'vitest';
import { refreshContinuousAggregates } from '../src/store/aggregates.ts';
import { loadMigrations, migrate } from '../src/store/migrate.ts';
import { openDb } from '../src/store/open-db.ts';
import { openPgDb } from '../src/store/pg-db.ts';
import { backendAvailable } from './support/pg.ts';
import { describeEachStore } from './support/each-store.ts';

const silent = pino({ level: 'silent' });

describe('migration files', () => {
  it('are numbered uniquely and in order, the timescale ones marked', async () => {
    const ms = await loadMigrations();
    expect(ms.map((m) => m.version)).toEqual([...ms.map((m) => m.version)].sort((a, b) => a - b));
    expect(ms.find((m) => m.version === 1)).toMatchObject({ name: 'events', timescaleOnly: false });
    expect(ms.find((m) => m.version === 2)).toMatchObject({ name: 'hypertables', timescaleOnly: true });
  });
});

describeEachStore('store on %s', (store) => {
    it('creates the ingest tables', async () => {
      const rows = await store.db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      );
      expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['dead_letters', 'device_state', 'events', 'readings', 'schema_migrations']));
    });

    it('records every migration once; a second run applies nothing', async () => {
      const again = await migrate(store.db, silent);
      expect(again).toEqual({ applied: [], skipped: [] });
      const rows = await store.db.query<{ version: number; skipped: boolean; applied_at: Date }>('SELECT version, skipped, applied_at FROM schema_migrations ORDER BY version');
      const files = await loadMigrations();
      expect(rows.map((r) => r.version)).toEqual(files.map((f) => f.version));
      expect(rows[0]!.applied_at).toBeInstanceOf(Date);
      // Timescale migrations are applied where the extension is (`.tsl` ones where its Timescale
      // license is too), recorded as skipped elsewhere.
      for (const f of files.filter((x) => x.timescaleOnly)) {
        const runs = f.licensed ? store.db.timescale && store.db.features.licensed : store.db.timescale;
        expect(rows.find((r) => r.version === f.version)!.skipped, `${f.version}_${f.name}`).toBe(!runs);
      }
    });

    it('makes events and readings hypertables when timescale is available', async () => {
      // What each store must be: PGlite and (wherever the extension is installed, always in CI)
      // the main server are licensed TimescaleDB; the variants are what their names say.
      const expected = {
        pglite: { hypertables: true, licensed: true },
        postgresql: inject('pgApacheUrl') ? { hypertables: true, licensed: true } : { hypertables: store.db.timescale, licensed: store.db.features.licensed },
        'postgresql-plain': { hypertables: false, licensed: false },
        'timescaledb-apache': { hypertables: true, licensed: false },
      }[store.backend];
      expect(store.db.features).toMatchObject(expected);
      expect(store.db.timescale).toBe(expected.hypertables);
      if (!store.db.timescale) return; // plain PostgreSQL: nothing to check, and that must work too
      const rows = await store.db.query<{ hypertable_name: string }>('SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1');
      expect(rows.map((r) => r.hypertable_name)).toEqual(['events', 'readings']);
      const caggs = await store.db.query<{ view_name: string }>('SELECT view_name FROM timescaledb_information.continuous_aggregates ORDER BY 1');
      expect(caggs.map((r) => r.view_name)).toEqual(store.db.features.licensed ? ['events_5m', 'events_hourly', 'readings_5m'] : []);
    });

    it('returns the same JS values from both drivers', async () => {
      const [row] = await store.db.query(
        `SELECT $1::timestamptz AS t, $2::jsonb AS j, count(*) AS n, 2::int2 AS s, 1.25::numeric AS num, $3::text[] AS arr, NULL::timestamptz AS nt`,
        ['2024-05-01T08:00:00.123Z', JSON.stringify({ a: [1, 'x'], b: null }), ['p', 'q']],
      );
      expect(row!.t).toBeInstanceOf(Date);
      expect((row!.t as Date).toISOString()).toBe('2024-05-01T08:00:00.123Z');
      expect(row!.j).toEqual({ a: [1, 'x'], b: null });
      expect(row!.n).toBe(1);
      expect(row!.s).toBe(2);
      expect(row!.num).toBe('1.25');
      expect(row!.arr).toEqual(['p', 'q']);
      expect(row!.nt).toBeNull();
      const [d] = await store.db.query<{ t: Date }>('SELECT $1::timestamptz AS t', [new Date(1_700_000_000_000)]);
      expect(d!.t.getTime()).toBe(1_700_000_000_000);
    });

    it('rolls a failed transaction back and keeps working', async () => {
      await expect(
        store.db.transaction(async (tx) => {
          await tx.query(`INSERT INTO dead_letters (reason, detail, topic, raw) VALUES ('schema', 'rollback-probe', 't', 'r')`);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const rows = await store.db.query(`SELECT 1 FROM dead_letters WHERE detail = 'rollback-probe'`);
      expect(rows).toHaveLength(0);
      expect(await store.db.ping()).toBe(true);
    });

    it('refreshes the continuous aggregates (a no-op without them)', async () => {
      const ts = Date.UTC(2024, 0, 1, 10, 2);
      await store.db.query(
        `INSERT INTO readings (ts, site_id, device_id, metric, port, value, msg_id) VALUES ($1, 's-agg', 'd1', 'fill', 0, 40, 'm1'), ($1::timestamptz + interval '1 minute', 's-agg', 'd1', 'fill', 0, 60, 'm2')`,
        [new Date(ts).toISOString()],
      );
      await refreshContinuousAggregates(store.db, new Date(ts - 60_000), new Date(ts + 60_000));
      if (!store.db.features.licensed) return;
      const rows = await store.db.query(`SELECT bucket, avg, min, max, count FROM readings_5m WHERE site_id = 's-agg'`);
      expect(rows).toEqual([{ bucket: new Date(Date.UTC(2024, 0, 1, 10, 0)), avg: 50, min: 40, max: 60, count: 2 }]);
    });
});

describe.skipIf(!backendAvailable('postgresql'))('migrations on a shared server', () => {
  it('two hubs migrating the same database at once apply each file once', async () => {
    const { createTestDatabase } = await import('./support/pg.ts');
    const t = await createTestDatabase();
    const [a, b] = await Promise.all([openPgDb({ databaseUrl: t.url, log: silent }), openPgDb({ databaseUrl: t.url, log: silent })]);
    try {
      const [ra, rb] = await Promise.all([migrate(a, silent), migrate(b, silent)]);
      const files = await loadMigrations();
      const done = [...ra.applied, ...ra.skipped, ...rb.applied, ...rb.skipped].sort((x, y) => x - y);
      expect(done).toEqual(files.map((f) => f.version));
    } finally {
      await a.close();
      await b.close();
      await t.drop();
    }
  });
});

describe('embedded store on disk', () => {
  it('keeps committed rows across a restart and does not migrate twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shaobing-pglite-'));
    try {
      const first = await openDb({ dataDir: dir, log: silent });
      await first.query(`INSERT INTO dead_letters (reason, detail, topic, raw) VALUES ('schema', 'survives', 't', 'r')`);
      await first.close();
      const second = await openDb({ dataDir: dir, log: silent });
      expect(await second.query(`SELECT detail FROM dead_letters`)).toEqual([{ detail: 'survives' }]);
      expect(await migrate(second, silent)).toEqual({ applied: [], skipped: [] });
      // Hypertables with continuous aggregates take writes after a restart too (their
      // invalidation trigger needs the TimescaleDB library loaded with its license).
      await second.query(`INSERT INTO events (ts, site_id, device_id, family, channel, type, msg_id, data)
        VALUES (now(), 's', 'd', 'bin', 'telemetry', 'bin.telemetry', 'm1', '{}')`);
      await second.query(`INSERT INTO readings (ts, site_id, device_id, metric, value, msg_id) VALUES (now(), 's', 'd', 'fill_pct', 1, 'm1')`);
      expect(await second.query(`SELECT count(*)::int AS n FROM events`)).toEqual([{ n: 1 }]);
      // While it is open, a second hub on the same DATA_DIR is refused, not allowed to corrupt it.
      writeFileSync(join(dir, 'pglite.lock'), String(process.ppid)); // a live process that is not us
      await expect(openDb({ dataDir: dir, log: silent })).rejects.toThrow(/in use by another hub/);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
