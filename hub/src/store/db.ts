/**
 * The one database interface the hub uses. Two implementations: embedded PGlite with the
 * TimescaleDB extension (default) and `pg` against a PostgreSQL/TimescaleDB server.
 * SQL is plain PostgreSQL with $1-style parameters, identical for both.
 *
 * Value conventions (the same for both implementations, tested in store-db.test.ts):
 * - timestamptz comes back as a JS `Date`; pass timestamps as ISO-8601 strings or `Date`s
 *   (cast in SQL where the type can't be inferred: `$1::timestamptz`).
 * - json/jsonb comes back parsed; pass jsonb as `JSON.stringify(value)` text. Never pass a JS
 *   array for a jsonb parameter: `pg` would send it as a PostgreSQL array literal.
 * - int2/int4/int8 (count(*), bigserial ids) come back as `number`; numeric as `string`.
 * - JS arrays bind to PostgreSQL arrays (`= ANY($1::text[])`).
 * - Avoid `timestamp without time zone`: the drivers disagree on its time zone.
 * - At most 32767 bind parameters per statement (PGlite's limit, lower than PostgreSQL's 65535;
 *   PgliteDb refuses more): chunk multi-row inserts with sql-values.ts.
 */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** What `transaction` hands its callback: a Queryable that can also run a multi-statement script. */
export interface SqlTransaction extends Queryable {
  /** Runs several `;`-separated statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'pg';
  /** true when the timescaledb extension is installed (hypertables, time_bucket, policies). */
  readonly timescale: boolean;
  /** What the database can do beyond plain PostgreSQL; see StoreFeatures. */
  readonly features: StoreFeatures;
  /** Runs fn in one transaction (BEGIN/COMMIT, ROLLBACK on throw) on one connection. */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  /** Runs several `;`-separated statements without parameters, outside any transaction. */
  exec(sql: string): Promise<void>;
  /**
   * LISTEN on `channel`: `onNotify` gets each NOTIFY payload (after the sender's COMMIT). Resolves
   * to an unlisten function. Optional: a Db without it is polled instead (registry-sync.ts).
   */
  listen?(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Cheap liveness probe: resolves true when a trivial query succeeds. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * TimescaleDB features by license: hypertables, time_bucket and drop_chunks are Apache-licensed;
 * compression, continuous aggregates and policies (background jobs) need the Timescale license
 * (`timescaledb.license = timescale`, the default; managed services often run `apache`).
 */
export interface StoreFeatures {
  hypertables: boolean;
  /** Compression and continuous aggregates (Timescale license). */
  licensed: boolean;
  /** TimescaleDB background jobs run the policies (a licensed server; PGlite runs none). */
  jobs: boolean;
}

/** Reads the license of a database where the timescaledb extension is installed. */
export async function detectFeatures(q: Queryable, kind: Db['kind'], timescale: boolean): Promise<StoreFeatures> {
  if (!timescale) return { hypertables: false, licensed: false, jobs: false };
  const rows = await q.query<{ license: string | null }>("SELECT current_setting('timescaledb.license', true) AS license");
  const licensed = (rows[0]?.license ?? 'timescale') === 'timescale';
  return { hypertables: true, licensed, jobs: licensed && kind === 'pg' };
}
