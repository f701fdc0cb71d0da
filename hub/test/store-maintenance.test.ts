import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/store/db.ts';
import { applyRetention, embeddedHousekeeping } from '../src/store/maintenance.ts';
import { refreshContinuousAggregates } from '../src/store/aggregates.ts';
import { openDb } from '../src/store/open-db.ts';
import { backendAvailable, openTestStore, STORE_BACKENDS, type TestStore } from './support/pg.ts';

const DAY = 86_400_000;

describe.each(STORE_BACKENDS)('store maintenance on %s', (backend) => {
  let db: Db;
  let store: TestStore | undefined;
  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    store = await openTestStore(backend);
    db = store.db;
  });
  afterAll(async () => {
    await store?.close();
  });

  it.skipIf(!backendAvailable(backend))('drops messages, readings and dead letters past retention and keeps the recent ones', async () => {
    const now = Date.now();
    const insert = async (ageDays: number, id: string) => {
      const ts = new Date(now - ageDays * DAY).toISOString();
      await db.query(`INSERT INTO events (ts, site_id, device_id, family, channel, type, msg_id, data) VALUES ($1, 's', 'd', 'bin', 'telemetry', 'bin.telemetry', $2, '{}')`, [ts, id]);
      await db.query(`INSERT INTO readings (ts, site_id, device_id, metric, value, msg_id) VALUES ($1, 's', 'd', 'fill_pct', 1, $2)`, [ts, id]);
      await db.query(`INSERT INTO dead_letters (received_at, reason, detail, topic, raw) VALUES ($1, 'schema', $2, 't', 'r')`, [ts, id]);
    };
    await insert(500, 'old');
    await insert(40, 'month');
    await insert(1, 'new');
    await applyRetention(db, now, { eventsDays: 400, deadLettersDays: 30 });
    const ids = async (sql: string) => (await db.query<{ v: string }>(sql)).map((r) => r.v).sort();
    expect(await ids('SELECT msg_id AS v FROM events')).toEqual(['month', 'new']);
    expect(await ids('SELECT msg_id AS v FROM readings')).toEqual(['month', 'new']);
    expect(await ids('SELECT detail AS v FROM dead_letters')).toEqual(['new']);
  });

});

describe('continuous aggregates on the embedded store', () => {
  let db: Db;
  beforeAll(async () => { db = await openDb({ dataDir: 'memory://', log: pino({ level: 'silent' }) }); });
  afterAll(async () => { await db?.close(); });

  it('materialises the hourly chart aggregate (PGlite runs no TimescaleDB jobs)', async () => {
    const now = Date.now();
    await db.query(`INSERT INTO events (ts, site_id, device_id, family, channel, type, msg_id, data) VALUES ($1, 'agg', 'd', 'bin', 'telemetry', 'bin.telemetry', 'a1', '{}')`, [new Date(now - 2 * 3_600_000).toISOString()]);
    // Read only what is materialised, so the refresh is what makes the row appear.
    await db.query('ALTER MATERIALIZED VIEW events_hourly SET (timescaledb.materialized_only = true)');
    const count = async () => (await db.query<{ n: number }>(`SELECT coalesce(sum(count), 0)::int AS n FROM events_hourly WHERE site_id = 'agg'`))[0]!.n;
    expect(await count()).toBe(0);
    await refreshContinuousAggregates(db, new Date(now - 3 * 3_600_000), new Date(now));
    expect(await count()).toBe(1);
    await db.query('ALTER MATERIALIZED VIEW events_hourly SET (timescaledb.materialized_only = false)');
  });
});

describe('embedded store housekeeping', () => {
  let db: Db;
  beforeAll(async () => { db = await openDb({ dataDir: 'memory://', log: pino({ level: 'silent' }) }); });
  afterAll(async () => { await db?.close(); });

  it('keeps a hot-updated table near its live size (PGlite has no autovacuum) and checkpoints', async () => {
    // An ~80 KB rule-state snapshot, upserted over and over as the rule engine does every 10 s.
    const snapshot = JSON.stringify({ w: Array.from({ length: 4000 }, (_, i) => `${i}:${Math.random().toString(36).slice(2)}`) });
    const upsert = () => db.query(`INSERT INTO rule_state (id, state, watermark) VALUES ('hk', $1, now()) ON CONFLICT (id) DO UPDATE SET state = excluded.state`, [snapshot]);
    const size = async () => (await db.query<{ b: number }>(`SELECT pg_total_relation_size('rule_state')::bigint AS b`))[0]!.b;
    for (let i = 0; i < 60; i++) {
      await upsert();
      if (i % 10 === 9) await embeddedHousekeeping(db);
    }
    const live = (await db.query<{ b: number }>(`SELECT pg_column_size(state)::int AS b FROM rule_state WHERE id = 'hk'`))[0]!.b;
    // Without VACUUM every version stays: 60 × the snapshot. With it, space is reused.
    expect(await size()).toBeLessThan(live * 20);
  });
});
