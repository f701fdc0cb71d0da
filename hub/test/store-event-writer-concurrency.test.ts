import { pino } from 'pino';
import { afterEach, expect, it, vi } from 'vitest';
import type { IngestedEvent } from '../src/events.ts';
import type { Db } from '../src/store/db.ts';
import { EventWriter, type CommitStats } from '../src/store/event-writer.ts';
import { eventually } from './support/test-hub.ts';
import { type TestStore } from './support/pg.ts';
import { describeEachStore } from './support/each-store.ts';

const silent = pino({ level: 'silent' });
const T0 = Date.UTC(2024, 4, 2, 8, 0, 0);

function event(siteId: string, deviceId: string, msgId: string, receivedAt = T0 + 5): IngestedEvent {
  return { siteId, deviceId, family: 'bin', channel: 'telemetry', type: 'bin.telemetry', msgId, ts: T0, receivedAt, data: { fill: 50 } };
}

interface Held { sql: string; go(): void; loseAnswer(): void }

/** The real database with the writer's inserts held until the test lets each one through. */
function gated(inner: Db): { db: Db; held: Held[]; passThrough: () => void } {
  const held: Held[] = [];
  let hold = true;
  const db: Db = {
    kind: inner.kind,
    timescale: inner.timescale,
    features: inner.features,
    query: <R extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) => {
      if (!hold || !sql.includes('INSERT INTO events')) return inner.query<R>(sql, params);
      return new Promise<R[]>((resolve, reject) => {
        held.push({
          sql,
          go: () => void inner.query<R>(sql, params).then(resolve, reject),
          // Commits, then fails as if the connection dropped before the reply arrived.
          loseAnswer: () => void inner.query<R>(sql, params).then(() => reject(new Error('Connection terminated unexpectedly')), reject),
        });
      });
    },
    exec: (sql) => inner.exec(sql),
    transaction: (fn) => inner.transaction(fn),
    ping: () => inner.ping(),
    close: async () => {},
  };
  return { db, held, passThrough: () => { hold = false; } };
}

async function storedIds(store: TestStore, siteId: string): Promise<string[]> {
  const rows = await store.db.query<{ msg_id: string }>('SELECT msg_id FROM events WHERE site_id = $1 ORDER BY msg_id', [siteId]);
  return rows.map((r) => r.msg_id);
}

describeEachStore('EventWriter with batches in flight on %s', (store) => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('commits a lone event without any timer firing, and batches what arrives while the connection is busy', async () => {
      // setTimeout never fires here: a writer that made a lone event wait for company on a
      // timer (the old fixed 20 ms) would never commit it.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { db, held, passThrough } = gated(store.db);
      const commits: CommitStats[] = [];
      const w = new EventWriter({ db, log: silent, maxInFlight: 1, onCommit: (_ins, stats) => commits.push(stats) });
      const first = w.write(event('s-idle', 'bin-1', 'm0'), []);
      while (held.length === 0) await new Promise((r) => setImmediate(r)); // (eventually() needs timers)
      // The connection is busy: these queue and go together as the next batch.
      const rest = Array.from({ length: 9 }, (_, i) => w.write(event('s-idle', 'bin-1', `m${i + 1}`), []));
      expect(w.pending).toBe(10);
      expect(w.inFlight).toBe(1);
      passThrough();
      held[0]!.go();
      await first;
      await Promise.all(rest);
      expect(commits.map((c) => c.rows)).toEqual([1, 9]);
      expect(await storedIds(store, 's-idle')).toHaveLength(10);
      await w.close();
    });

    it('keeps exactly-once and batch order when one of three concurrent batches fails after its commit went through', async () => {
      const { db, held, passThrough } = gated(store.db);
      const reported: string[][] = [];
      const answered: string[] = [];
      const w = new EventWriter({ db, log: silent, maxInFlight: 3, retryMinMs: 5, onCommit: (ins) => reported.push(ins.map((e) => e.msgId)) });
      const write = (e: IngestedEvent) => w.write(e, []).then(() => void answered.push(`${e.msgId}@${e.receivedAt - T0}`));
      // Batch A: a1–a3.
      const a = ['a1', 'a2', 'a3'].map((id) => write(event('s-conc', 'bin-1', id)));
      await eventually(async () => held.length === 1);
      // Batch B: b1 and a redelivery of a2 (received later: a genuine duplicate of A's copy).
      const b = [write(event('s-conc', 'bin-2', 'b1')), write(event('s-conc', 'bin-1', 'a2', T0 + 1000))];
      await eventually(async () => held.length === 2);
      // Batch C: c1, c2.
      const c = ['c1', 'c2'].map((id) => write(event('s-conc', 'bin-3', id)));
      await eventually(async () => held.length === 3);
      expect(w.inFlight).toBe(3);

      passThrough(); // A's retry goes straight to the database
      held[2]!.go(); // C commits first,
      held[1]!.go(); // then B (its copy of a2 is stored: A hasn't inserted yet),
      await eventually(async () => (await storedIds(store, 's-conc')).length === 4);
      expect(answered).toEqual([]); // B and C committed but wait for A: answers go in batch order
      held[0]!.loseAnswer(); // A commits a1, a3 (a2 exists), then its answer is lost: it retries
      await Promise.all([...a, ...b, ...c]);

      expect(await storedIds(store, 's-conc')).toEqual(['a1', 'a2', 'a3', 'b1', 'c1', 'c2']);
      // Every message reaches the rule engine exactly once, batches in the order they were taken.
      expect(reported).toEqual([['a1', 'a3'], ['b1', 'a2'], ['c1', 'c2']]);
      expect(answered).toEqual(['a1@5', 'a2@5', 'a3@5', 'b1@5', 'a2@1000', 'c1@5', 'c2@5']);
      expect(w.counters.retries).toBe(1);
      expect(w.healthy).toBe(true);
      await w.close();
    });

    it('stores a message and its readings once when two batches in flight carry it, and reports it once', async () => {
      const { db, held, passThrough } = gated(store.db);
      const reported: string[] = [];
      const w = new EventWriter({ db, log: silent, maxInFlight: 2, onCommit: (ins) => reported.push(...ins.map((e) => e.msgId)) });
      const fill = (e: IngestedEvent) => [{ siteId: e.siteId, deviceId: e.deviceId, metric: 'fill_pct', port: 0, value: 50, msgId: e.msgId, ts: e.ts }];
      const x = event('s-twice', 'bin-1', 'x');
      const p1 = w.write(x, fill(x));
      await eventually(async () => held.length === 1);
      const again = event('s-twice', 'bin-1', 'x', T0 + 700);
      const p2 = w.write(again, fill(again));
      await eventually(async () => held.length === 2);
      passThrough();
      held[0]!.go();
      held[1]!.go();
      await Promise.all([p1, p2]);
      expect(await storedIds(store, 's-twice')).toEqual(['x']);
      expect(reported).toEqual(['x']);
      // Readings follow their event (no unique index of their own): stored once too.
      const [r] = await store.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE site_id = 's-twice'`);
      expect(r!.n).toBe(1);
      await w.close();
    });
});
