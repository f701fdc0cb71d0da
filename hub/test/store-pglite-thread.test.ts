import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pino, { type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/store/db.ts';
import { templatePath } from '../src/store/pglite-template.ts';
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

/** Lines an opening store logs, to see which thread it got. */
function logTo(lines: Record<string, unknown>[]): Logger {
  return pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
}
const openedThread = (lines: Record<string, unknown>[]): unknown => lines.findLast((l) => l.msg === 'embedded store opened (PGlite)')?.thread;

describe('embedded stores opened one after another in one process', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'shaobing-thread-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('a closed store flushes what it committed and rolls back what it left open; the next store gets the warm thread and a database of its own', async () => {
    const lines: Record<string, unknown>[] = [];
    const first = await openPgliteDb({ dataDir: dir, log: logTo(lines) });
    const firstThread = openedThread(lines);
    await first.exec('CREATE TABLE t_left (v int PRIMARY KEY)');
    await first.query('INSERT INTO t_left VALUES (1)');
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let inserted = (): void => undefined;
    const begun = new Promise<void>((r) => (inserted = r));
    const unfinished = first.transaction(async (tx) => {
      await tx.query('INSERT INTO t_left VALUES (2)');
      inserted();
      await gate;
      await tx.query('INSERT INTO t_left VALUES (3)');
    });
    await begun;
    await first.close(); // with the transaction still open
    release();
    await expect(unfinished).rejects.toThrow(/closed/);

    const next = await openPgliteDb({ dataDir: 'memory://', log: logTo(lines) });
    try {
      expect(openedThread(lines)).toBe(firstThread); // no new thread started
      expect(await next.query("SELECT to_regclass('t_left') AS t")).toEqual([{ t: null }]);
      // Started from the cached empty cluster, which holds none of our schema: each store's own
      // migrations draw what identifies it (its live-stream id).
      expect(await next.query("SELECT to_regclass('schema_migrations') AS t")).toEqual([{ t: null }]);
    } finally {
      await next.close();
    }

    const again = await openPgliteDb({ dataDir: dir, log: silent });
    try {
      expect(await again.query('SELECT v FROM t_left ORDER BY v')).toEqual([{ v: 1 }]);
    } finally {
      await again.close();
    }
  }, 60_000);

  it('a damaged copy of the empty database is replaced: the new store runs initdb and leaves a good copy', async () => {
    const path = await templatePath();
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, 'not a tar file');
    const db = await openPgliteDb({ dataDir: 'memory://', log: silent });
    try {
      expect(await db.query("SELECT extname FROM pg_extension WHERE extname = 'timescaledb'")).toEqual([{ extname: 'timescaledb' }]);
    } finally {
      await db.close();
    }
    expect((await stat(path)).size).toBeGreaterThan(1_000_000); // the dump of a cluster, not the damaged file
  }, 60_000);
});

const silent = pino({ level: 'silent' });

