/**
 * A throw-away PostgreSQL 15 + TimescaleDB cluster for benchmarks, with the server's durable
 * defaults (fsync, synchronous_commit and full_page_writes on): the test cluster turns those
 * off, which flatters write figures. The cluster itself is the test suite's
 * (hub/test/support/global-setup.ts startPrivateCluster: initdb as `postgres` when root, free
 * port, stale-cluster cleanup); this adds the benchmarks' database helpers.
 */
import pg from 'pg';
import { startPrivateCluster } from '../../hub/test/support/global-setup.ts';

export interface BenchCluster {
  /** Maintenance URL (database `postgres`). */
  url: string;
  /** Creates an empty database and returns its URL. */
  freshDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchCluster(opts: { durable?: boolean } = {}): Promise<BenchCluster> {
  const cluster = await startPrivateCluster({
    durable: opts.durable ?? true,
    maxConnections: 100,
    settings: { shared_preload_libraries: 'timescaledb', 'timescaledb.telemetry_level': 'off' },
  });
  const url = cluster.url;
  const admin = async (sql: string): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  return {
    url,
    async freshDatabase(name) {
      await admin(`DROP DATABASE IF EXISTS ${name}`);
      await admin(`CREATE DATABASE ${name}`);
      return url.replace(/\/postgres$/, `/${name}`);
    },
    async dropDatabase(name) {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
    stop: () => cluster.stop(),
  };
}
