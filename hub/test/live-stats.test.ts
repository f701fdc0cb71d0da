import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authPlugin } from '../src/api/auth.ts';
import { bucketWindow, statsRoutes, type EventStats, type Readings, type TicketStats } from '../src/api/routes/stats.ts';
import { createHttpApp } from '../src/api/server.ts';
import { Registry } from '../src/site/registry.ts';
import { liveSiteFile } from './live-support.ts';
import { backendAvailable, openTestStore, STORE_BACKENDS, type TestStore } from './support/pg.ts';

const T0 = Date.parse('2025-03-01T00:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();

describe('bucketWindow', () => {
  it('aligns from to a bucket start at local midnight and bounds the bucket count', () => {
    const w = bucketWindow({ from: '2025-03-01T03:17:00Z', to: '2025-03-05T00:00:00Z', utcOffsetMin: 480 }, '1d');
    // Shanghai (UTC+8) midnight of 1 March 2025 is 2025-02-28T16:00Z.
    expect(w.from.toISOString()).toBe('2025-02-28T16:00:00.000Z');
    expect(bucketWindow({ from: '2025-03-01T03:17:00Z', to: '2025-03-02T00:00:00Z' }, '5m').from.toISOString()).toBe('2025-03-01T03:15:00.000Z');
    expect(() => bucketWindow({ from: '2025-01-01T00:00:00Z', to: '2025-03-01T00:00:00Z' }, '5m')).toThrow(/at most 2000/);
    expect(() => bucketWindow({ from: '2025-03-02T00:00:00Z', to: '2025-03-01T00:00:00Z' }, '1h')).toThrow(/after/);
    const d = bucketWindow({}, '1h', T0);
    expect(d.to.toISOString()).toBe(new Date(T0).toISOString());
    expect(d.from.toISOString()).toBe(new Date(T0 - 24 * 3_600_000).toISOString());
  });
});

describe.each(STORE_BACKENDS)('stats routes on %s', (backend) => {
  describe.skipIf(!backendAvailable(backend))('', () => {
    let store: TestStore;
    let app: FastifyInstance;
    let boss: string;
    let anna: string;

    beforeAll(async () => {
      store = await openTestStore(backend);
      const log = pino({ level: 'silent' });
      app = await createHttpApp({ log, dashboardDir: null });
      await app.register(authPlugin, { registry: new Registry(liveSiteFile()), secret: 'stats-secret-stats-secret-stats-secret', tokenTtlS: 3600 });
      await app.register(statsRoutes, { db: store.db });
      await app.ready();
      boss = app.jwt.sign({ sub: 'boss', role: 'admin', sites: null });
      anna = app.jwt.sign({ sub: 'anna', role: 'viewer', sites: ['a'] });
      // Site a: 3 bin events at 00:01, 00:02, 00:07, a door event at 01:30; site b: one bin at 00:03.
      const ev = (site: string, dev: string, fam: string, min: number, id: string) => store.db.query(
        `INSERT INTO events (ts, site_id, device_id, family, channel, type, msg_id, data) VALUES ($1, $2, $3, $4, 'telemetry', $5, $6, '{}'::jsonb)`,
        [at(min), site, dev, fam, `${fam}.telemetry`, id]);
      await ev('a', 'bin-1', 'bin', 1, 'e1');
      await ev('a', 'bin-1', 'bin', 2, 'e2');
      await ev('a', 'bin-2', 'bin', 7, 'e3');
      await ev('a', 'door-1', 'door', 90, 'e4');
      await ev('b', 'bin-9', 'bin', 3, 'e5');
      for (const [min, v] of [[0, 10], [1, 30], [2, 20], [6, 90]] as const) {
        await store.db.query(`INSERT INTO readings (ts, site_id, device_id, metric, port, value, msg_id) VALUES ($1, 'a', 'bin-1', 'fill_pct', 0, $2, $3)`, [at(min), v, `r${min}`]);
      }
    });
    afterAll(async () => {
      await app?.close();
      await store?.close();
    });

    const get = async <T>(url: string, token = boss) => {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      return { status: res.statusCode, body: res.json() as T };
    };
    const range = `from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(180))}`;

    it('needs a login', async () => {
      const res = await app.inject({ method: 'GET', url: `/api/stats/events?${range}` });
      expect(res.statusCode).toBe(401);
    });

    it('counts events per bucket and family', async () => {
      const r5 = await get<EventStats>(`/api/stats/events?${range}&bucket=5m&siteId=a`);
      expect(r5.status).toBe(200);
      expect(r5.body.items).toEqual([
        { t: at(0), family: 'bin', count: 2 },
        { t: at(5), family: 'bin', count: 1 },
        { t: at(90), family: 'door', count: 1 },
      ]);
      // 1h goes through the continuous aggregate where there is one: same totals.
      const r1h = await get<EventStats>(`/api/stats/events?${range}&bucket=1h`);
      expect(r1h.body.items).toEqual([
        { t: at(0), family: 'bin', count: 4 },
        { t: at(60), family: 'door', count: 1 },
      ]);
    });

    it('starts day buckets at the caller\'s local midnight', async () => {
      const r = await get<EventStats>(`/api/stats/events?from=2025-02-27T00:00:00Z&to=2025-03-03T00:00:00Z&bucket=1d&utcOffsetMin=480`);
      expect(r.body.items.map((i) => i.t)).toEqual(['2025-02-28T16:00:00.000Z', '2025-02-28T16:00:00.000Z']);
      expect(r.body.items.reduce((n, i) => n + i.count, 0)).toBe(5);
    });

    it('keeps an operator to their sites', async () => {
      const mine = await get<EventStats>(`/api/stats/events?${range}&bucket=1h`, anna);
      expect(mine.body.items.find((i) => i.family === 'bin')?.count).toBe(3);
      expect((await get(`/api/stats/events?${range}&siteId=b`, anna)).status).toBe(403);
    });

    it('gives avg/min/max readings per bucket', async () => {
      const r = await get<Readings>(`/api/readings?siteId=a&deviceId=bin-1&metric=fill_pct&bucket=5m&${range}`);
      expect(r.status).toBe(200);
      expect(r.body.items).toEqual([
        { t: at(0), avg: 20, min: 10, max: 30, count: 3 },
        { t: at(5), avg: 90, min: 90, max: 90, count: 1 },
      ]);
      expect((await get(`/api/readings?siteId=a&deviceId=bin-1&metric=fill_pct&bucket=1m&from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z`)).status).toBe(400);
    });

    it('answers 503 without a tickets table, then counts opened and resolved', async () => {
      // This file's own database: the real tickets migration may or may not be there yet.
      await store.db.query('DROP TABLE IF EXISTS tickets CASCADE');
      const missing = await get<{ code: string; message: string }>(`/api/stats/tickets?${range}`);
      expect(missing.status).toBe(503);
      expect(missing.body.message).toMatch(/tickets table/);
      await store.db.query('CREATE TABLE tickets (id text PRIMARY KEY, site_id text NOT NULL, opened_at timestamptz NOT NULL, resolved_at timestamptz)');
      await store.db.query(`INSERT INTO tickets VALUES ('t1', 'a', $1, $2), ('t2', 'a', $3, NULL), ('t3', 'b', $1, NULL)`, [at(10), at(70), at(65)]);
      const r = await get<TicketStats>(`/api/stats/tickets?${range}&bucket=1h`, anna);
      expect(r.status).toBe(200);
      expect(r.body.items).toEqual([
        { t: at(0), opened: 1, resolved: 0 },
        { t: at(60), opened: 1, resolved: 1 },
      ]);
    });
  });
});
