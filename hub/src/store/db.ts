/**
 * The one database interface the hub uses. Two implementations: embedded PGlite with the
 * TimescaleDB extension (default) and `pg` against a PostgreSQL/TimescaleDB server.
 * SQL is plain PostgreSQL with $1-style parameters, identical for both.
 */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'pg';
  /** true when the timescaledb extension is installed (hypertables, time_bucket, policies). */
  readonly timescale: boolean;
  /** Runs fn in one transaction (BEGIN/COMMIT, ROLLBACK on throw) on one connection. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Cheap liveness probe: resolves true when a trivial query succeeds. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
