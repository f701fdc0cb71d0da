/**
 * A throw-away PostgreSQL 15 + TimescaleDB cluster for benchmarks, with the server's durable
 * defaults (fsync, synchronous_commit and full_page_writes on): the test cluster turns those
 * off, which flatters write figures. Runs as `postgres` when we are root (initdb refuses root).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface BenchCluster {
  /** Maintenance URL (database `postgres`). */
  url: string;
  /** Creates an empty database and returns its URL. */
  freshDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchCluster(opts: { durable?: boolean } = {}): Promise<BenchCluster> {
  const durable = opts.durable ?? true;
  const bin = await binDir();
  const asPostgres = process.getuid?.() === 0;
  const wrap = (cmd: string, args: string[]): [string, string[]] => (asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const dir = await mkdtemp(join(tmpdir(), 'shaobing-benchpg-'));
  if (asPostgres) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    await chown(dir, uid, gid);
  }
  await chmod(dir, 0o700);
  const data = join(dir, 'data');
  await run(...wrap(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-instructions']));
  const port = await freePort();
  const settings = [
    `-p ${port}`, '-c listen_addresses=127.0.0.1', `-k ${dir}`, '-c max_connections=100',
    '-c shared_preload_libraries=timescaledb', '-c timescaledb.telemetry_level=off',
    ...(durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ].join(' ');
  await run(...wrap(join(bin, 'pg_ctl'), ['start', '-D', data, '-w', '-t', '60', '-l', join(dir, 'server.log'), '-o', settings]));
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const admin = async (sql: string): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  let stopped = false;
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
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(...wrap(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w'])).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function binDir(): Promise<string> {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? (await readdir(base)).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
  return join(base, versions[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
