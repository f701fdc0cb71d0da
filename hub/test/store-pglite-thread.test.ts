import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/store/db.ts';
import { openPgliteDb } from '../src/store/pglite-db.ts';
import { isDataError } from '../src/store/retry.ts';

/** The embedded store runs PGlite in a worker thread: the hub's event loop never waits on SQL. */
describe('embedded store in its own thread', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openPgliteDb({ dataDir: 'memory://', log: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('a long statement does not stall the event loop (timers, sockets, PUBACKs keep running)', async () => {
    let last = performance.now();
    let maxLag = 0;
    const timer = setInterval(() => {
      const t = performance.now();
      maxLag = Math.max(maxLag, t - last);
      last = t;
    }, 5);
    try {
      // Grow the work until the statement takes long enough to tell a stall from scheduling noise.
      let ms = 0;
      for (let n = 250_000; ms < 300; n *= 2) {
        maxLag = 0;
        last = performance.now();
        const started = performance.now();
        const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM generate_series(1, $1::int) g WHERE g % 7 = 3', [n]);
        ms = performance.now() - started;
        expect(row!.n).toBeGreaterThan(0);
        await new Promise((r) => setTimeout(r, 20)); // a stalled loop shows as one late interval after the statement
      }
      // On the main thread the loop would be blocked for the whole statement (lag ≈ ms).
      expect(maxLag).toBeLessThan(ms / 2);
    } finally {
      clearInterval(timer);
    }
  });

  it('errors keep their PostgreSQL fields across the thread (bad data is told from an outage)', async () => {
    const err = await db.query('SELECT 1 / 0').then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toBe('22012');
    expect(isDataError(err)).toBe(true);
    expect(await db.ping()).toBe(true); // still answering
  });

  it('a transaction commits as a whole or not at all, and other statements wait for it', async () => {
    await db.exec('CREATE TABLE t_thread (v int PRIMARY KEY)');
    await expect(db.transaction(async (tx) => {
      await tx.query('INSERT INTO t_thread VALUES (1)');
      await tx.query('INSERT INTO t_thread VALUES (1)'); // duplicate key: the whole transaction rolls back
    })).rejects.toMatchObject({ code: '23505' });
    let outside: Promise<{ n: number }[]> | undefined;
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO t_thread VALUES (2)');
      outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t_thread'); // queued behind the transaction
      await tx.query('INSERT INTO t_thread VALUES (3)');
    });
    expect(await outside).toEqual([{ n: 2 }]);
    expect(await db.query('SELECT v FROM t_thread ORDER BY v')).toEqual([{ v: 2 }, { v: 3 }]);
  });
});
