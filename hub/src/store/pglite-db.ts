import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Db, SqlTransaction, StoreFeatures } from './db.ts';
import { lockDataDir } from './dir-lock.ts';
import { dropTemplate, readTemplate, saveTemplate } from './pglite-template.ts';
import { PgliteThread } from './pglite-thread.ts';
import { MAX_BIND_PARAMS } from './sql-values.ts';

/**
 * Embedded store: PGlite (PostgreSQL compiled to WASM) with TimescaleDB 2.23, in a worker thread
 * of this process (pglite-worker.ts) so the database has a core of its own: broker, validation
 * and rules keep the event loop while a batch commits or an aggregate refreshes.
 * One connection: PGlite queues queries and transactions itself, so no pool and no locking here.
 * Its default type parsers already match the conventions in db.ts (Date, parsed jsonb, int8 as
 * number) and survive the thread boundary (structured clone), so rows are passed through.
 */
export async function openPgliteDb(opts: { dataDir: string; log: Logger }): Promise<Db> {
  const inMemory = opts.dataDir.startsWith('memory://');
  if (!inMemory) await mkdir(opts.dataDir, { recursive: true });
  const unlock = inMemory ? () => undefined : lockDataDir(opts.dataDir);
  const started = Date.now();
  let opened: Awaited<ReturnType<typeof PgliteThread.start>>;
  try {
    opened = await openThread(opts.dataDir, inMemory, opts.log);
  } catch (err) {
    unlock();
    throw err;
  }
  const { thread, info } = opened;
  if (info.template) await saveTemplate(info.template);
  if (info.timescaleError) opts.log.warn({ err: info.timescaleError }, 'timescaledb not available in PGlite: hypertables, compression and retention off');
  opts.log.info({ dataDir: opts.dataDir, ms: Date.now() - started, timescale: info.timescale, features: info.features, thread: thread.threadId }, 'embedded store opened (PGlite)');
  return new PgliteDb(thread, info.timescale, info.features, unlock);
}

/** A new database starts from the cached empty one (pglite-template.ts), else runs initdb and leaves that copy. */
async function openThread(dataDir: string, inMemory: boolean, log: Logger): ReturnType<typeof PgliteThread.start> {
  const isNew = inMemory || !existsSync(join(dataDir, 'PG_VERSION'));
  const template = isNew ? await readTemplate() : undefined;
  if (!template) return await PgliteThread.start({ dataDir, template: undefined, makeTemplate: isNew });
  try {
    return await PgliteThread.start({ dataDir, template, makeTemplate: false });
  } catch (err) {
    log.warn({ err }, 'the cached empty embedded database did not load: dropped, this store runs initdb');
    await dropTemplate();
    if (!inMemory) { // it was new: nothing but the failed copy is in it
      await rm(dataDir, { recursive: true, force: true });
      await mkdir(dataDir, { recursive: true });
    }
    return await PgliteThread.start({ dataDir, template: undefined, makeTemplate: true });
  }
}

class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  #closed = false;

  constructor(
    private readonly thread: PgliteThread,
    readonly timescale: boolean,
    readonly features: StoreFeatures,
    private readonly unlock: () => void,
  ) {}

  async query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return await this.thread.query<R>(sql, bindable(params));
  }

  exec(sql: string): Promise<void> {
    return this.thread.exec(sql);
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const { tx: id } = await this.thread.request({ op: 'begin' });
    if (id === undefined) throw new Error('embedded database opened no transaction');
    let out: T;
    try {
      out = await fn({
        query: async <R extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) => await this.thread.query<R>(sql, bindable(params), id),
        exec: (sql: string) => this.thread.exec(sql, id),
      });
    } catch (err) {
      await this.thread.request({ op: 'rollback', tx: id }).catch(() => undefined);
      throw err;
    }
    await this.thread.request({ op: 'commit', tx: id });
    return out;
  }

  /** PGlite delivers a NOTIFY to its own listeners after the sending COMMIT. */
  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const unlisten = await this.thread.listen(channel, onNotify);
    return async () => { if (!this.#closed) await unlisten(); };
  }

  async ping(): Promise<boolean> {
    if (this.#closed) return false;
    try {
      await this.thread.query('SELECT 1', undefined);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.thread.close();
    } finally {
      this.unlock();
    }
  }
}

/** Refuses what would wedge PGlite (see MAX_BIND_PARAMS) instead of sending it. */
function bindable(params: readonly unknown[] | undefined): unknown[] | undefined {
  if (!params) return undefined;
  if (params.length > MAX_BIND_PARAMS) throw new Error(`${params.length} bind parameters: PGlite takes at most ${MAX_BIND_PARAMS} per statement`);
  return [...params];
}
