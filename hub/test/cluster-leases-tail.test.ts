import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventTail, GAP_GIVE_UP_MS } from '../src/cluster/event-tail.ts';
import { PgAdvisoryLeases } from '../src/cluster/leases.ts';
import type { IngestedEvent } from '../src/events.ts';
import { openTestStore, testServerUrl, type TestStore } from './support/pg.ts';
import { until } from './support/cluster-rig.ts';

const log = pino({ level: 'silent' });

const insert = (c: pg.Client | pg.PoolClient, id: string) => c.query(
  `INSERT INTO events (ts, received_at, site_id, device_id, family, channel, type, msg_id, data)
   VALUES ('2026-01-01T00:00:00Z', now(), 't1', 'bin-1', 'bin', 'telemetry', 'bin.telemetry', $1, '{"fillPct":1}') ON CONFLICT DO NOTHING`, [id]);

describe.runIf(testServerUrl() || process.env.CI)('cluster building blocks on PostgreSQL', () => {
  let store: TestStore;
  beforeAll(async () => { store = await openTestStore('postgresql'); }, 60_000);
  afterAll(async () => { await store?.close(); });

  it('event tail: rows committed out of sequence order are each delivered once; holes from duplicates are given up', async () => {
    let clock = Date.now();
    const got: IngestedEvent[] = [];
    const tail = new EventTail({ db: store.db, pollMs: 60_000, log, deliver: (e) => got.push(...e), now: () => clock });
    await tail.start();
    const a = new pg.Client({ connectionString: store.url! });
    const b = new pg.Client({ connectionString: store.url! });
    await a.connect();
    await b.connect();
    try {
      // On TimescaleDB the first row of a time range creates its chunk under a lock that lasts
      // until its transaction ends: create it beforehand so the two writers only race on numbers.
      await insert(b, 'warm');
      await tail.poll();
      got.length = 0;
      await a.query('BEGIN');
      await insert(a, 'slow');            // draws the lower number, commits last
      await insert(b, 'fast');            // autocommit
      await insert(b, 'fast');            // duplicate: draws a number that never commits
      await insert(b, 'later');
      await tail.poll();
      expect(got.map((e) => e.msgId)).toEqual(['fast', 'later']);
      await a.query('COMMIT');
      await tail.poll();
      await tail.poll();
      expect(got.map((e) => e.msgId)).toEqual(['fast', 'later', 'slow']);
      expect(tail.position.holes).toBe(1); // the duplicate's number
      clock += GAP_GIVE_UP_MS + 1;
      await tail.poll();
      expect(tail.position.holes).toBe(0);
      expect(tail.position.floor).toBe(tail.position.top);
    } finally {
      await a.end();
      await b.end();
      await tail.stop();
    }
  });

  it('leases: one holder per name; a holder whose session dies loses them at once and another takes over', async () => {
    const names = ['site:t1', 'site:t2', 'job:sla'];
    const events = () => {
      const held = new Set<string>();
      const lostNames: string[] = [];
      return { held, lostNames, gained: (n: string) => held.add(n), lost: (n: string) => { held.delete(n); lostNames.push(n); } };
    };
    const ea = events();
    const eb = events();
    const a = new PgAdvisoryLeases({ url: store.url!, hubId: 'lease-a', names, pollMs: 100, log, balanced: (n) => n.startsWith('site:') });
    const b = new PgAdvisoryLeases({ url: store.url!, hubId: 'lease-b', names, pollMs: 100, log, balanced: (n) => n.startsWith('site:') });
    await a.start(ea);
    await b.start(eb);
    try {
      // Fair share: a took both sites alone, then hands one to b.
      await until(async () => ea.held.has('site:t1') !== eb.held.has('site:t1') && eb.held.size > 0 && ea.held.size + eb.held.size === 3 && [...ea.held].filter((n) => n.startsWith('site:')).length === 1, 10_000, 50);
      for (const n of names) expect(ea.held.has(n) !== eb.held.has(n)).toBe(true);
      // Kill a's lease session from the server side, as a crash or network loss would.
      const admin = new pg.Client({ connectionString: store.url! });
      await admin.connect();
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'shaobing-lease-lease-a'`);
      await admin.end();
      const heldByA = [...ea.held].sort();
      // a is told it lost every lease it held (it may win some back after reconnecting).
      await until(async () => heldByA.every((n) => ea.lostNames.includes(n)), 5000, 20);
      await until(async () => ea.held.size + eb.held.size === 3, 10_000, 50);
      for (const n of names) expect(ea.held.has(n) && eb.held.has(n)).toBe(false);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
