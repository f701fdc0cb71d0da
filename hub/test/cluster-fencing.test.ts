import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuleDecision } from '@shaobing/schemas';
import { HubBus } from '../src/bus.ts';
import { fenceCheck } from '../src/cluster/fence.ts';
import { PgAdvisoryLeases, type LeaseEvents } from '../src/cluster/leases.ts';
import { Registry } from '../src/site/registry.ts';
import { TicketService } from '../src/tickets/ticket-service.ts';
import { until } from './support/cluster-rig.ts';
import { openTestStore, testServerUrl, type TestStore } from './support/pg.ts';
import { testSiteFile } from './support/test-site.ts';

/*
 * Fencing tokens on the PostgreSQL server: a hub that stops renewing its leases (paused: its
 * timer never fires again, as under SIGSTOP; its socket stays open) has its lease session cut
 * by a live hub, which takes the lease at a new epoch; the paused owner's ticket writes are
 * then refused by the database, however sure the old process still is that it owns the site.
 */
const log = pino({ level: 'silent' });
const T0 = Date.parse('2026-03-02T08:00:00.000Z');

function denied(key: string, n: number): RuleDecision {
  return {
    kind: 'open', ruleId: 'door.denied_burst', siteId: 't1', deviceId: 'door-1', cellId: 'unit-1', dedupKey: key,
    severity: 'high', category: 'security', deviceVerifiable: false,
    title: { 'zh-CN': '门禁多次拒绝', en: 'Repeated access denied' }, description: { 'zh-CN': '', en: '' },
    evidence: { eventKey: `t1/door-1/${key}-${n}`, ts: new Date(T0).toISOString(), type: 'door.access_denied', deviceId: 'door-1', summary: 'denied' },
  };
}

const events = (into: string[]): LeaseEvents => ({ gained: (n) => { into.push(`+${n}`); }, lost: (n) => { into.push(`-${n}`); } });

describe.runIf(testServerUrl() || process.env.CI)('fencing tokens on site leases (PostgreSQL)', () => {
  let store: TestStore;
  let tickets: TicketService;
  beforeAll(async () => {
    store = await openTestStore('postgresql');
    tickets = new TicketService({ db: store.db, bus: new HubBus(), registry: new Registry(await testSiteFile()), log });
  }, 60_000);
  afterAll(async () => { await store?.close(); });

  const count = async (key: string) => Number((await store.db.query<{ n: string }>('SELECT count(*) AS n FROM tickets WHERE dedup_key = $1', [key]))[0]!.n);

  it('a paused owner is cut off after its heartbeat expires, and the database refuses its ticket writes at the old epoch', async () => {
    const aSeen: string[] = [];
    const bSeen: string[] = [];
    // A polls once (start) and then "pauses": its next poll is a minute away.
    const a = new PgAdvisoryLeases({ url: store.url!, hubId: 'fence-a', names: ['site:t1'], pollMs: 60_000, ttlMs: 600, log });
    const b = new PgAdvisoryLeases({ url: store.url!, hubId: 'fence-b', names: ['site:t1'], pollMs: 100, ttlMs: 600, log });
    try {
      await a.start(events(aSeen));
      const epochA = a.epochOf('site:t1');
      expect(epochA).not.toBeNull();
      const asA = tickets.fenced(fenceCheck('site:t1', epochA!));
      // While A is the owner, its fenced writes land.
      expect((await asA.applyDecisions([denied('k-before', 1)], T0)).opened).toBe(1);

      const t0 = Date.now();
      await b.start(events(bSeen));
      await until(async () => b.held('site:t1'), 10_000, 20);
      const takeover = Date.now() - t0;
      const epochB = b.epochOf('site:t1')!;
      expect(epochB).toBeGreaterThan(epochA!);
      // B took it only once A's heartbeat had expired (A's session held the lock until cut).
      const { rows: [when] } = await store.db.query<{ ok: boolean }>(`SELECT (SELECT since FROM cluster_leases WHERE name = 'site:t1') >= (SELECT expires_at FROM cluster_hubs WHERE hub_id = 'fence-a') AS ok`).then((r) => ({ rows: r }));
      expect(when!.ok).toBe(true);
      console.log(`[cluster-fencing] paused owner cut and lease taken over ${takeover} ms after B started (ttl 600 ms, B polls every 100 ms)`);

      // A never polled again, yet the server ended its session: it hears `lost` from the socket.
      await until(async () => aSeen.includes('-site:t1'), 5_000, 20);

      // The old owner still writes with its old token: refused, nothing lands, nothing thrown.
      const refused = await asA.applyDecisions([denied('k-after', 1)], T0 + 1000);
      expect(refused).toMatchObject({ opened: 0, failed: 1 });
      expect(await count('k-after')).toBe(0);
      // An occurrence on its earlier ticket is refused too (an UPDATE, not only an INSERT).
      expect((await asA.applyDecisions([denied('k-before', 2)], T0 + 2000)).failed).toBe(1);
      expect(Number((await store.db.query<{ n: number }>(`SELECT (doc->>'occurrences')::int AS n FROM tickets WHERE dedup_key = 'k-before'`))[0]!.n)).toBe(1);

      // The new owner's writes land.
      const asB = tickets.fenced(fenceCheck('site:t1', epochB));
      expect((await asB.applyDecisions([denied('k-after', 1)], T0 + 1000)).opened).toBe(1);
      expect(await count('k-after')).toBe(1);
    } finally {
      await a.stop();
      await b.stop();
    }
  }, 30_000);

  it('a takeover waits for the old owner\'s write in flight: the write that held the row commits, the next one is refused', async () => {
    const db = new pg.Client({ connectionString: store.url! });
    await db.connect();
    const a = new PgAdvisoryLeases({ url: store.url!, hubId: 'fence-c', names: ['site:t9'], pollMs: 60_000, ttlMs: 400, log });
    const b = new PgAdvisoryLeases({ url: store.url!, hubId: 'fence-d', names: ['site:t9'], pollMs: 100, ttlMs: 400, log });
    try {
      await a.start(events([]));
      const epochA = a.epochOf('site:t9')!;
      // A's ticket transaction has passed its fence check and holds the lease row…
      await db.query('BEGIN');
      await fenceCheck('site:t9', epochA)({ query: async (sql, params) => (await db.query(sql, params as unknown[])).rows });
      await b.start(events([]));
      // …so B cuts A's lease session but its epoch bump waits for that transaction.
      await new Promise((r) => setTimeout(r, 1500));
      expect(b.held('site:t9')).toBe(false);
      await db.query('COMMIT');
      await until(async () => b.held('site:t9'), 10_000, 20);
      expect(b.epochOf('site:t9')).toBeGreaterThan(epochA);
      await expect(fenceCheck('site:t9', epochA)({ query: async (sql, params) => (await db.query(sql, params as unknown[])).rows })).rejects.toThrow(/superseded/);
    } finally {
      await db.end();
      await a.stop();
      await b.stop();
    }
  }, 30_000);
});
