import { pino } from 'pino';
import { expect, it } from 'vitest';
import type { IngestedEvent, Reading } from '../src/events.ts';
import type { Db } from '../src/store/db.ts';
import { EventWriter, UnstorableEventError, type CommitStats } from '../src/store/event-writer.ts';
import { type TestStore } from './support/pg.ts';
import { describeEachStore } from './support/each-store.ts';

const silent = pino({ level: 'silent' });
const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);

function event(siteId: string, deviceId: string, msgId: string, ts = T0, data: Record<string, unknown> = { fill: 50 }): IngestedEvent {
  return { siteId, deviceId, family: 'bin', channel: 'telemetry', type: 'bin.telemetry', msgId, ts, receivedAt: ts + 5, data };
}

function reading(e: IngestedEvent, metric: string, value: number, port = 0): Reading {
  return { siteId: e.siteId, deviceId: e.deviceId, metric, port, value, msgId: e.msgId, ts: e.ts };
}

async function count(store: TestStore, table: 'events' | 'readings', siteId: string): Promise<number> {
  const [row] = await store.db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE site_id = $1`, [siteId]);
  return row!.n;
}

describeEachStore('EventWriter on %s', (store) => {
    it('resolves write() only once the row is committed and queryable', async () => {
      const w = new EventWriter({ db: store.db, log: silent, maxDelayMs: 300 });
      const e = event('s-commit', 'bin-1', 'm1');
      let resolved = false;
      const p = w.write(e, [reading(e, 'fill', 50)]).then(() => (resolved = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(resolved).toBe(false); // still gathering its batch: not acknowledged
      expect(w.pending).toBe(1);
      expect(await count(store, 'events', 's-commit')).toBe(0);
      await p;
      expect(await count(store, 'events', 's-commit')).toBe(1);
      expect(await count(store, 'readings', 's-commit')).toBe(1);
      expect(w.pending).toBe(0);
      const [row] = await store.db.query('SELECT ts, received_at, family, channel, type, msg_id, data FROM events WHERE site_id = $1', ['s-commit']);
      expect(row).toEqual({ ts: new Date(T0), received_at: new Date(T0 + 5), family: 'bin', channel: 'telemetry', type: 'bin.telemetry', msg_id: 'm1', data: { fill: 50 } });
      await w.close();
    });

    it('stores a redelivered message once and reports only new events to onCommit', async () => {
      const commits: { inserted: IngestedEvent[]; stats: CommitStats }[] = [];
      const w = new EventWriter({ db: store.db, log: silent, onCommit: (inserted, stats) => commits.push({ inserted, stats }) });
      const a = event('s-dup', 'bin-1', 'a');
      const b = event('s-dup', 'bin-1', 'b');
      // Same (device, msgId, ts) twice in one batch, then again in a later batch.
      await Promise.all([w.write(a, [reading(a, 'fill', 1)]), w.write(b, []), w.write({ ...a }, [reading(a, 'fill', 1)])]);
      await w.write({ ...a, receivedAt: a.receivedAt + 1000 }, [reading(a, 'fill', 1)]);
      expect(await count(store, 'events', 's-dup')).toBe(2);
      expect(await count(store, 'readings', 's-dup')).toBe(1);
      const inserted = commits.flatMap((c) => c.inserted.map((e) => e.msgId));
      expect(inserted).toEqual(['a', 'b']);
      expect(commits.reduce((n, c) => n + c.stats.rows, 0)).toBe(4); // duplicates = rows - inserted
      // Same id at another time is another message (the key includes ts).
      await w.write(event('s-dup', 'bin-1', 'a', T0 + 1000), []);
      expect(await count(store, 'events', 's-dup')).toBe(3);
      await w.close();
    });

    it('still reports a batch as new when the commit went through but its answer was lost', async () => {
      // Fault injection around the real database: the first insert commits, then fails as if
      // the connection dropped before the reply arrived.
      let loseAnswer = true;
      const db: Db = {
        kind: store.db.kind,
        timescale: store.db.timescale,
        features: store.db.features,
        query: async <R extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) => {
          const rows = await store.db.query<R>(sql, params);
          if (loseAnswer && sql.includes('INSERT INTO events')) {
            loseAnswer = false;
            throw new Error('Connection terminated unexpectedly');
          }
          return rows;
        },
        exec: (sql) => store.db.exec(sql),
        ping: () => store.db.ping(),
        close: async () => {},
        transaction: (fn) => store.db.transaction(fn),
      };
      const inserted: string[] = [];
      const w = new EventWriter({ db, log: silent, retryMinMs: 10, onCommit: (ins) => inserted.push(...ins.map((e) => e.msgId)) });
      const first = event('s-lost', 'bin-1', 'a');
      await w.write(first, []);
      expect(inserted).toEqual(['a']);
      // A genuine redelivery (received later) is still a duplicate.
      await w.write({ ...first, receivedAt: first.receivedAt + 500 }, []);
      expect(inserted).toEqual(['a']);
      expect(await count(store, 'events', 's-lost')).toBe(1);
      await w.close();
    });

    it('splits at maxBatch and keeps the parameter count under the limit', async () => {
      const sizes: number[] = [];
      const w = new EventWriter({ db: store.db, log: silent, maxBatch: 3000, onCommit: (ins) => sizes.push(ins.length) });
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 7000; i++) {
        const e = event('s-big', `bin-${i % 50}`, `m${i}`, T0 + i);
        // 3000 events × 9 params + 9000 readings × 7 params: far above any statement's limit.
        writes.push(w.write(e, [reading(e, 'fill', i % 100), reading(e, 'temp', 20), reading(e, 'tilt', 0)]));
      }
      await Promise.all(writes);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(7000);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(3000);
      expect(await count(store, 'events', 's-big')).toBe(7000);
      expect(await count(store, 'readings', 's-big')).toBe(21000);
      await w.close();
    });

    it('rejects only the event the database refuses; its batch-mates are stored', async () => {
      const w = new EventWriter({ db: store.db, log: silent });
      const good = [1, 2, 3, 4, 5].map((i) => event('s-bad', 'bin-1', `g${i}`));
      const bad = event('s-bad', 'bin-2', 'x', T0, { note: 'nul \u0000 byte' }); // jsonb refuses \u0000
      const results = await Promise.allSettled([...good.slice(0, 2), bad, ...good.slice(2)].map((e) => w.write(e, [])));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(UnstorableEventError);
      expect(await count(store, 'events', 's-bad')).toBe(5);
      expect(w.healthy).toBe(true);
      expect(w.counters.rejected).toBe(1);
      await expect(w.write(event('s-bad', 'bin-3', 'nan', Number.NaN), [])).rejects.toBeInstanceOf(UnstorableEventError);
      await w.close();
    });

    it('applies backpressure above maxPending but keeps every event', async () => {
      const w = new EventWriter({ db: store.db, log: silent, maxPending: 10, maxBatch: 4, maxDelayMs: 5 });
      const pendingAtResolve: number[] = [];
      const writes = Array.from({ length: 30 }, (_, i) =>
        w.write(event('s-bp', 'bin-1', `m${i}`), []).then(() => void (pendingAtResolve[i] = w.pending)),
      );
      expect(w.pending).toBe(30); // accepted, none refused
      await Promise.all(writes);
      // Writes accepted at or above the limit answer only once there is room again.
      for (let i = 10; i < 30; i++) expect(pendingAtResolve[i]).toBeLessThan(10);
      expect(w.pending).toBe(0);
      expect(await count(store, 'events', 's-bp')).toBe(30);
      await w.close();
    });

    it('flush() commits what is held; close() refuses new writes', async () => {
      const w = new EventWriter({ db: store.db, log: silent, maxDelayMs: 60_000 });
      const p = w.write(event('s-flush', 'bin-1', 'm1'), []);
      await w.flush();
      await p;
      expect(await count(store, 'events', 's-flush')).toBe(1);
      await w.close();
      await expect(w.write(event('s-flush', 'bin-1', 'm2'), [])).rejects.toThrow(/closed/);
    });
});
