/**
 * A throw-away PostgreSQL 15 + TimescaleDB cluster for benchmarks, with the server's durable
 * defaults (fsync, synchronous_commit and full_page_writes on): the test cluster turns those
 * off, which flatters write figures. The cluster itself is the test suite's
 * (hub/test/support/global-setup.ts startPrivateCluster: initdb as `postgres` when root, free
 * port, stale-cluster cleanup); this adds the benchmarks' database helpers.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findBinDir, startPrivateCluster } from '../../hub/test/support/global-setup.ts';
import { freePort } from '../../hub/test/support/hub-process.ts';

const run = promisify(execFile);

export interface BenchCluster {
  /** Maintenance URL (database `postgres`). */
  url: string;
  /** Creates an empty database and returns its URL. */
  freshDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

const BENCH_SETTINGS = { shared_preload_libraries: 'timescaledb', 'timescaledb.telemetry_level': 'off' };

export async function startBenchCluster(opts: { durable?: boolean } = {}): Promise<BenchCluster> {
  const cluster = await startPrivateCluster({ durable: opts.durable ?? true, maxConnections: 100, settings: BENCH_SETTINGS });
  return benchCluster(cluster.url, () => cluster.stop());
}

/**
 * A durable cluster in `dir` that outlives the bench (`--keep` / `--reuse`): initdb when
 * `dir/data` is missing, else the kept data is started again; `stop()` stops the server and
 * leaves the data, so a month of history is loaded once and timed many times.
 */
export async function startKeptCluster(dir: string): Promise<BenchCluster & { fresh: boolean }> {
  const bin = await findBinDir();
  const abs = resolve(dir);
  const data = join(abs, 'data');
  const asPostgres = process.getuid?.() === 0;
  const wrap = (cmd: string, args: string[]): [string, string[]] => (asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const fresh = !existsSync(join(data, 'PG_VERSION'));
  if (fresh) {
    await mkdir(abs, { recursive: true });
    if (asPostgres) {
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      await chown(abs, uid, gid);
    }
    await chmod(abs, 0o700);
    await run(...wrap(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-instructions']));
  }
  const port = await freePort();
  const extra = Object.entries(BENCH_SETTINGS).map(([k, v]) => ` -c ${k}=${v}`).join('');
  await run(...wrap(join(bin, 'pg_ctl'), ['start', '-D', data, '-w', '-t', '300', '-l', join(abs, 'server.log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${abs} -c max_connections=100${extra}`]));
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const stop = async (): Promise<void> => { await run(...wrap(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w', '-t', '300'])); };
  return { ...benchCluster(url, stop), fresh };
}

function benchCluster(url: string, stop: () => Promise<void>): BenchCluster {
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
    stop,
  };
}
