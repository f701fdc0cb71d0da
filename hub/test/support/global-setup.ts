import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

/**
 * vitest globalSetup: gives every test file a PostgreSQL server through `inject('pgUrl')`.
 *
 * - TEST_DATABASE_URL set → that server (any PostgreSQL or TimescaleDB the tests may create
 *   databases on).
 * - otherwise → a private throw-away cluster from the machine's PostgreSQL binaries (Debian:
 *   /usr/lib/postgresql/<ver>/bin), trust auth, on a free 127.0.0.1 port, removed at teardown.
 *   initdb refuses to run as root, so as root the cluster runs as the `postgres` user.
 * - neither works → in CI (CI set) this throws: server tests must never be skipped silently
 *   there; on a developer machine it provides null and the server suites skip with a warning.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** Maintenance connection URL of the test server, or null when there is none. */
    pgUrl: string | null;
  }
}

const run = promisify(execFile);
const DIR_PREFIX = 'shaobing-pg-';

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    try {
      await probe(external);
    } catch (err) {
      throw new Error(`TEST_DATABASE_URL is set but not reachable: ${(err as Error).message}`);
    }
    provide('pgUrl', external);
    return async () => {};
  }
  try {
    const cluster = await startPrivateCluster();
    provide('pgUrl', cluster.url);
    return () => cluster.stop();
  } catch (err) {
    if (process.env.CI) throw new Error(`no PostgreSQL for the server tests (CI must run them): ${(err as Error).message}`);
    console.warn(`[global-setup] no PostgreSQL server (${(err as Error).message}); server test suites are skipped. Install postgresql or set TEST_DATABASE_URL.`);
    provide('pgUrl', null);
    return async () => {};
  }
}

export interface PrivateCluster {
  url: string;
  stop(): Promise<void>;
}

/** initdb + pg_ctl start in a fresh temp dir; also used by the store benchmark. */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const bin = await findBinDir();
  const asPostgres = process.getuid?.() === 0;
  const wrap = (cmd: string, args: string[]): [string, string[]] => (asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  await removeStaleClusters(bin, wrap);

  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  const data = join(dir, 'data');
  await writeFile(join(dir, 'owner.pid'), String(process.pid));
  if (asPostgres) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    await chown(dir, uid, gid);
  }
  await chmod(dir, 0o700);
  await run(...wrap(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']));

  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    // Durability settings off: a test cluster is thrown away, and speed matters more.
    const opts = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
    try {
      await run(...wrap(join(bin, 'pg_ctl'), ['start', '-D', data, '-w', '-t', '60', '-l', join(dir, 'server.log'), '-o', opts]));
      const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
      await probe(url);
      let stopped = false;
      return {
        url,
        stop: async () => {
          if (stopped) return;
          stopped = true;
          await run(...wrap(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w'])).catch(() => undefined);
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      lastErr = err; // most likely the port was taken between probing and binding: try another
    }
  }
  const log = await readFile(join(dir, 'server.log'), 'utf8').catch(() => '');
  await rm(dir, { recursive: true, force: true });
  throw new Error(`could not start a private PostgreSQL: ${(lastErr as Error).message}\n${log.slice(-2000)}`);
}

async function findBinDir(): Promise<string> {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = (await readdir(base)).filter((v) => existsSync(join(base, v, 'bin', 'initdb')));
    versions.sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  try {
    return (await run('pg_config', ['--bindir'])).stdout.trim();
  } catch {
    throw new Error('PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb, no pg_config)');
  }
}

/**
 * A killed test run can't tear its cluster down. Stop clusters whose owning process is gone;
 * leave the rest alone: they may belong to another test run on this machine.
 */
async function removeStaleClusters(bin: string, wrap: (cmd: string, args: string[]) => [string, string[]]): Promise<void> {
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(await readFile(join(dir, 'owner.pid'), 'utf8').catch(() => '0'));
    if (owner > 0 && alive(owner)) continue;
    // No owner file yet may just mean another run is creating it right now.
    if (owner === 0 && Date.now() - (await stat(dir).catch(() => ({ mtimeMs: 0 }))).mtimeMs < 60_000) continue;
    await run(...wrap(join(bin, 'pg_ctl'), ['stop', '-D', join(dir, 'data'), '-m', 'immediate', '-w'])).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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

async function probe(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query('SELECT 1');
  } finally {
    await client.end();
  }
}
