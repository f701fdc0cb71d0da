import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import type { SiteFile } from '@shaobing/schemas';
import { testSiteFile, writeTestSiteFile } from './test-site.ts';

/*
 * A small cluster of real parts for scale-out tests and the external-broker benchmark:
 * Mosquitto 2 on a free loopback port, and hub processes (`tsx hub/src/main.ts`) with env.
 */

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface Mosquitto {
  url: string;
  /** Lines of the broker's log so far. */
  log(): string[];
  stop(): Promise<void>;
}

/** Persistence on, no queue limit: what a scale-out deployment runs (issue 13). */
export async function startMosquitto(): Promise<Mosquitto> {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-mosq-'));
  // Started as root, Mosquitto drops to its own user: it must still write its log and store here.
  chmodSync(dir, 0o777);
  const logFile = join(dir, 'mosquitto.log');
  writeFileSync(join(dir, 'mosquitto.conf'), [
    `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${dir}/`,
    'max_queued_messages 0', 'max_inflight_messages 100', `log_dest file ${logFile}`, 'log_type error', 'log_type warning', 'log_type notice', 'log_type information', '',
  ].join('\n'));
  const proc = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const url = `mqtt://127.0.0.1:${port}`;
  await until(async () => {
    try { await (await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 1000 })).endAsync(); return true; } catch { return false; }
  }, 10_000);
  return {
    url,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n') : []),
    stop: () => stopProcess(proc),
  };
}

export interface HubProcess {
  readonly hubId: string;
  readonly proc: ChildProcess;
  /** pino JSON lines printed so far. */
  readonly lines: Record<string, unknown>[];
  /** Resolves with the hub's HTTP URL once it printed it (started). */
  ready: Promise<string>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** A hub as its own OS process, as in production: `tsx hub/src/main.ts` with the given env. */
export function spawnHub(hubId: string, env: Record<string, string>): HubProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'hub/src/main.ts'], {
    cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HUB_ID: hubId, HTTP_PORT: '0', LOG_LEVEL: 'info', ...env },
  });
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  let resolveReady!: (url: string) => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<string>((res, rej) => { resolveReady = res; rejectReady = rej; });
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('shaobing: http ')) resolveReady(line.slice('shaobing: http '.length).trim());
      try { lines.push(JSON.parse(line) as Record<string, unknown>); } catch { /* listener lines */ }
    }
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  proc.once('exit', (code, signal) => {
    // The hub logs its fatal error as a pino line on stdout.
    const fatal = lines.filter((l) => Number(l.level) >= 50).map((l) => JSON.stringify(l).slice(0, 1500)).join('\n');
    rejectReady(new Error(`hub ${hubId} exited (${code ?? signal}) before it started: ${fatal}${err.slice(-2000)}`));
  });
  return { hubId, proc, lines, ready, kill: (signal) => stopProcess(proc, signal) };
}

async function stopProcess(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill(signal);
  const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

/** The test site copied under `n` site ids (t1…tn): several streets in one site file. */
export async function multiSiteFile(n: number): Promise<{ path: string; siteIds: string[] }> {
  const base = await testSiteFile();
  const one = base.sites[0]!;
  // Worker logins are unique across sites: only the first copy keeps its workers' passwords.
  const sites = Array.from({ length: n }, (_, i) => ({
    ...one, id: `t${i + 1}`, nameEn: `Test street ${i + 1}`,
    workers: i === 0 ? one.workers : one.workers.map(({ passwordHash: _unused, ...w }) => w),
  }));
  const file: SiteFile = { ...base, sites };
  return { path: await writeTestSiteFile(file), siteIds: sites.map((s) => s.id) };
}

export async function until<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs: number, stepMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A counter's total from a hub's /metrics (summed over labels). */
export async function metric(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name + ' ') || l.startsWith(name + '{')).reduce((a, l) => a + Number(l.split(' ').at(-1)), 0);
}

type Db = { query<R>(sql: string): Promise<{ rows: R[] }> };

/** Site → hub holding its lease now (advisory locks of live sessions, named in cluster_leases). */
export async function siteOwners(db: Db): Promise<Map<string, string>> {
  return leaseHolders(db, 'site:');
}

/** Lease (without the prefix) → hub holding it now, for the leases named `<prefix>…`. */
export async function leaseHolders(db: Db, prefix: string): Promise<Map<string, string>> {
  const { rows } = await db.query<{ name: string; holder: string }>(
    `SELECT c.name, substr(a.application_name, length('shaobing-lease-') + 1) AS holder
       FROM cluster_leases c
       JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((l.classid::int8 << 32) | l.objid::int8) = hashtextextended('shaobing:' || c.name, 0)
       JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE starts_with(c.name, '${prefix.replace(/'/g, "''")}')`);
  return new Map(rows.map((r) => [r.name.slice(prefix.length), r.holder]));
}
