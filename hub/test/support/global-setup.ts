import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { buildDashboard } from './dashboard-build.ts';

/**
 * vitest globalSetup: gives every test file PostgreSQL servers through `inject(...)`.
 *
 * - TEST_DATABASE_URL set → that server as `pgUrl` (any PostgreSQL or TimescaleDB the tests may
 *   create databases on); TEST_DATABASE_URL_PLAIN / TEST_DATABASE_URL_APACHE optionally give
 *   the two variant servers.
 * - otherwise → private throw-away clusters from the machine's PostgreSQL binaries (Debian:
 *   /usr/lib/postgresql/<ver>/bin), trust auth, on free 127.0.0.1 ports, removed at teardown.
 *   initdb refuses to run as root, so as root the clusters run as the `postgres` user:
 *   - `pgUrl`: TimescaleDB (shared_preload_libraries=timescaledb) when the extension is
 *     installed, else plain PostgreSQL. Every server suite runs here.
 *   - `pgPlainUrl`: plain PostgreSQL, no extension loadable (the store suite's extra pass).
 *   - `pgApacheUrl`: TimescaleDB under timescaledb.license=apache (managed services), or null
 *     when the extension is not installed.
 *   The three start in parallel (about a second each); the variants only host the store suite.
 * - in CI (CI set) the server tests must never be skipped silently: no server, or no
 *   TimescaleDB extension (.ci/run installs it), throws. On a developer machine missing parts
 *   are provided as null and those suites skip with a warning.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** Maintenance connection URL of the main test server, or null when there is none. */
    pgUrl: string | null;
    /** A server without TimescaleDB, or null. */
    pgPlainUrl: string | null;
    /** A TimescaleDB server running under the Apache-only license, or null. */
    pgApacheUrl: string | null;
  }
}

const run = promisify(execFile);
const DIR_PREFIX = 'shaobing-pg-';

/** Server settings of the three private clusters. */
const TIMESCALE = { shared_preload_libraries: 'timescaledb', 'timescaledb.license': 'timescale', 'timescaledb.telemetry_level': 'off', max_worker_processes: '64', 'timescaledb.max_background_workers': '48' };
const APACHE = { ...TIMESCALE, 'timescaledb.license': 'apache' };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Test processes are short-lived: V8's optimising tier for PGlite's WASM costs more CPU (about
  // 5 s at the first embedded open of each file) than it saves there. Inherited by the test
  // files' processes and the hubs and CLI commands they spawn; set it to `on` to test with it.
  process.env.PGLITE_WASM_TIERING ??= 'off';
  // Once, before any file: test files run side by side, and two vite builds into one dist at
  // the same time would serve a half-written app.
  buildDashboard();
  // The run's temp files (site files, …) go in one directory, removed at teardown: vitest ends
  // its test processes without their exit hooks, so files they made would stay in /tmp.
  const scratch = await mkdtemp(join(tmpdir(), 'shaobing-test-'));
  process.env.SHAOBING_TEST_TMP = scratch;
  const stopServers = await startServers(project);
  return async () => {
    await stopServers();
    await rm(scratch, { recursive: true, force: true });
  };
}

async function startServers({ provide }: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const urls = { pgUrl: external, pgPlainUrl: process.env.TEST_DATABASE_URL_PLAIN || null, pgApacheUrl: process.env.TEST_DATABASE_URL_APACHE || null };
    for (const [name, url] of Object.entries(urls)) {
      if (!url) continue;
      try {
        await probe(url);
      } catch (err) {
        throw new Error(`${name} (TEST_DATABASE_URL…) is set but not reachable: ${(err as Error).message}`);
      }
    }
    provide('pgUrl', urls.pgUrl);
    provide('pgPlainUrl', urls.pgPlainUrl);
    provide('pgApacheUrl', urls.pgApacheUrl);
    console.log(`[global-setup] test server: ${await describeServer(external)} (TEST_DATABASE_URL)`);
    return async () => {};
  }
  const started: PrivateCluster[] = [];
  const stopAll = async () => { await Promise.all(started.map((c) => c.stop())); };
  try {
    const bin = await findBinDir();
    const timescale = timescaleInstalled(bin);
    if (!timescale && process.env.CI) throw new Error('the timescaledb extension is not installed (.ci/run runs ../shared/tools/install-timescaledb.sh first)');
    const t0 = Date.now();
    const [main, plain, apache] = await Promise.all([
      startPrivateCluster(timescale ? { settings: TIMESCALE } : {}),
      startPrivateCluster(),
      timescale ? startPrivateCluster({ settings: APACHE }) : Promise.resolve(null),
    ].map((p) => p.then((c) => { if (c) started.push(c); return c; })));
    provide('pgUrl', main!.url);
    provide('pgPlainUrl', plain!.url);
    provide('pgApacheUrl', apache?.url ?? null);
    console.log(`[global-setup] test servers in ${Date.now() - t0} ms: main ${await describeServer(main!.url)}; plain ${await describeServer(plain!.url)}; apache-license ${apache ? await describeServer(apache.url) : 'none (timescaledb not installed)'}`);
    if (!timescale) console.warn('[global-setup] timescaledb is not installed for this PostgreSQL: server suites run on plain PostgreSQL only (CI installs it).');
    return stopAll;
  } catch (err) {
    await stopAll();
    if (process.env.CI) throw new Error(`no PostgreSQL/TimescaleDB for the server tests (CI must run them): ${(err as Error).message}`);
    console.warn(`[global-setup] no PostgreSQL server (${(err as Error).message}); server test suites are skipped. Install postgresql or set TEST_DATABASE_URL.`);
    provide('pgUrl', null);
    provide('pgPlainUrl', null);
    provide('pgApacheUrl', null);
    return async () => {};
  }
}

/** The extension's control file and library, for the PostgreSQL whose binaries are in `bin`. */
export function timescaleInstalled(bin: string): boolean {
  const major = /postgresql\/(\d+)\/bin/.exec(bin)?.[1];
  if (!major) return false;
  return existsSync(`/usr/share/postgresql/${major}/extension/timescaledb.control`) && existsSync(`/usr/lib/postgresql/${major}/lib/timescaledb.so`);
}

/** "PostgreSQL 15.20, TimescaleDB 2.28.3 (license timescale)" — printed into the CI log. */
async function describeServer(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const v = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    const ts = (await client.query<{ v: string | null }>("SELECT default_version AS v FROM pg_available_extensions WHERE name = 'timescaledb'")).rows[0]?.v ?? null;
    const preloaded = (await client.query<{ v: string }>("SELECT current_setting('shared_preload_libraries') AS v")).rows[0]!.v.includes('timescaledb');
    if (!ts || !preloaded) return `PostgreSQL ${v}, no TimescaleDB`;
    const license = (await client.query<{ v: string | null }>("SELECT current_setting('timescaledb.license', true) AS v")).rows[0]?.v;
    return `PostgreSQL ${v}, TimescaleDB ${ts} (license ${license ?? '?'})`;
  } finally {
    await client.end();
  }
}

export interface PrivateCluster {
  url: string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
  /** `pg_ctl stop -m <mode>` keeping the data: an outage, ended by `startServer()`. */
  stopServer(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the stopped server again on the same port and data. */
  startServer(): Promise<void>;
}

/** The TimescaleDB settings of the main test cluster, for tests that start their own. */
export const TIMESCALE_SETTINGS: Readonly<Record<string, string>> = TIMESCALE;

/**
 * initdb + pg_ctl start in a fresh temp dir; also used by the benchmarks and by tests that
 * stop their own server (db-outage). `settings` are server options (`-c name=value`), e.g.
 * shared_preload_libraries=timescaledb. `durable` keeps the server's fsync/synchronous_commit/
 * full_page_writes defaults (benchmarks: turning them off flatters write figures); test
 * clusters are thrown away and run without them.
 */
export async function startPrivateCluster(opts: { settings?: Record<string, string>; durable?: boolean; maxConnections?: number } = {}): Promise<PrivateCluster> {
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
    // Durability settings off unless asked: a test cluster is thrown away, and speed matters more.
    const extra = Object.entries(opts.settings ?? {}).map(([k, v]) => ` -c ${k}=${v}`).join('');
    const fast = opts.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
    const serverOpts = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}${fast} -c max_connections=${opts.maxConnections ?? 300}${extra}`;
    const start = () => run(...wrap(join(bin, 'pg_ctl'), ['start', '-D', data, '-w', '-t', '60', '-l', join(dir, 'server.log'), '-o', serverOpts]));
    try {
      await start();
      const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
      await probe(url);
      let stopped = false;
      return {
        url,
        stopServer: async (mode = 'fast') => { await run(...wrap(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', mode, '-w'])); },
        startServer: async () => { await start(); await probe(url); },
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

export async function findBinDir(): Promise<string> {
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
