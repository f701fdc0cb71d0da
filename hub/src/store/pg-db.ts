import pg from 'pg';
import type { Logger } from 'pino';
import { detectFeatures, type Db, type StoreFeatures, type SqlTransaction } from './db.ts';

export interface PgDbOptions {
  databaseUrl: string;
  log: Logger;
  /** Pool size; the hub's writers are batched, so a handful of connections is plenty. */
  maxConnections?: number;
  /** How long to wait for a new connection before failing the query (outage detection). */
  connectionTimeoutMs?: number;
}

const INT8_OID = 20;

/**
 * Makes `pg` return what PGlite returns (see db.ts): int8 as number instead of string.
 * Counts and bigserial ids stay far below 2^53 in this product.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Db over a `pg.Pool` against a PostgreSQL or TimescaleDB server (DATABASE_URL). */
export async function openPgDb(opts: PgDbOptions): Promise<Db> {
  const log = opts.log;
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.maxConnections ?? 8,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    // A server that vanished without a FIN would otherwise hold a query for the OS default
    // of two hours before TCP keepalive even starts probing.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'shaobing-hub',
    types,
  });
  // An idle client whose server went away emits here; without a listener Node would crash.
  // The next query fails on its own and the writers retry, so a warning is all it needs.
  // Server notices (e.g. WARNINGs from DDL) would otherwise vanish; NOTICEs such as "already
  // exists, skipping" are routine on every start, so only warnings are loud.
  pool.on('connect', (client) => {
    client.on('notice', (n) => {
      const entry = { severity: n.severity, message: n.message, detail: n.detail };
      if (n.severity === 'WARNING') log.warn(entry, 'database warning');
      else log.debug(entry, 'database notice');
    });
  });
  pool.on('error', (err) => log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'database connection lost (idle client)'));

  let timescale = false;
  try {
    await pool.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    timescale = true;
  } catch (err) {
    // Two hubs creating the extension together can collide; look before concluding it's absent.
    timescale = await extensionInstalled(pool).catch(() => false);
    if (!timescale) {
      log.info({ reason: (err as Error).message }, 'timescaledb not available: hypertables, compression and retention off');
    }
  }
  const features = await detectFeatures({ query: async <R extends Record<string, unknown>>(sql: string) => (await pool.query<R>(sql)).rows }, 'pg', timescale);
  if (timescale && !features.licensed) {
    log.warn('timescaledb runs under the Apache-only license: hypertables only; no compression, continuous aggregates or policies (charts read raw rows)');
  }
  const { host, port, database } = describeUrl(opts.databaseUrl);
  log.info({ host, port, database, timescale, features }, 'database server connected');
  return new PgDb(pool, timescale, features, log, opts.databaseUrl);
}

async function extensionInstalled(pool: pg.Pool): Promise<boolean> {
  const res = await pool.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`);
  return res.rowCount === 1;
}

/** Host/port/database only: the URL may carry a password, which must never reach the logs. */
function describeUrl(url: string): { host: string; port: string; database: string } {
  try {
    const u = new URL(url);
    return { host: u.hostname, port: u.port || '5432', database: u.pathname.replace(/^\//, '') };
  } catch {
    return { host: '?', port: '?', database: '?' };
  }
}

class PgDb implements Db {
  readonly kind = 'pg' as const;
  #closed = false;

  constructor(
    private readonly pool: pg.Pool,
    readonly timescale: boolean,
    readonly features: StoreFeatures,
    private readonly log: Logger,
    private readonly databaseUrl: string,
  ) {}

  #listeners = new Set<pg.Client>();

  /**
   * LISTEN on a dedicated connection (a pooled one would be handed to queries). A lost
   * connection is re-opened after a second; `onNotify('')` then tells the caller it may have
   * missed notifications (registry-sync reads the version either way).
   */
  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    let client: pg.Client | null = null;
    let stopped = false;
    let retry: NodeJS.Timeout | null = null;
    let reconnect: () => void;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.databaseUrl, application_name: 'shaobing-hub-listen', keepAlive: true, connectionTimeoutMillis: 5_000 });
      c.on('notification', (n) => { if (n.channel === channel) onNotify(n.payload ?? ''); });
      c.on('error', (err) => {
        if (client !== c) return; // failed while connecting: connect() rejects and its caller retries
        client = null;
        this.log.warn({ err: { message: err.message }, channel }, 'LISTEN connection lost; reconnecting');
        this.#listeners.delete(c);
        c.end().catch(() => undefined);
        if (!stopped) retry = setTimeout(reconnect, 1_000);
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${channel}`);
      } catch (err) {
        await c.end().catch(() => undefined);
        throw err;
      }
      // Stopped while (re)connecting: an open client would keep the process from exiting.
      if (stopped) {
        await c.end().catch(() => undefined);
        return;
      }
      client = c;
      this.#listeners.add(c);
    };
    reconnect = (): void => {
      connect().then(() => onNotify(''), (err: Error) => {
        this.log.warn({ err: { message: err.message }, channel }, 'LISTEN reconnect failed; retrying');
        if (!stopped) retry = setTimeout(reconnect, 5_000);
      });
    };
    await connect();
    return async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      const c = client as pg.Client | null;
      if (c) {
        this.#listeners.delete(c);
        await c.end().catch(() => undefined);
      }
    };
  }

  async query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    const res = await this.pool.query<R>(sql, params ? [...params] : undefined);
    return res.rows;
  }

  async exec(sql: string): Promise<void> {
    // No parameters → simple query protocol, which accepts several statements.
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // pg-pool removes its idle error listener while a client is checked out; a connection
    // killed between two statements would otherwise be an unhandled 'error' event.
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
      this.log.warn({ err: { message: err.message } }, 'database connection lost during a transaction');
    };
    client.on('error', onError);
    const tx: SqlTransaction = {
      query: async <R extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) =>
        (await client.query<R>(sql, params ? [...params] : undefined)).rows,
      exec: async (sql: string) => {
        await client.query(sql);
      },
    };
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        // The connection is unusable: destroy it rather than return it to the pool.
        broken ??= rollbackErr as Error;
      }
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  async ping(): Promise<boolean> {
    if (this.#closed) return false;
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#listeners].map((c) => c.end().catch(() => undefined)));
    await this.pool.end();
  }
}
