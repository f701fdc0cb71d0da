/**
 * The ingest benchmark (`npm run bench`, or alone: `npx tsx bench/ingest/run.ts [--quick]`).
 *
 * Server and clients in separate processes: the server (bare aedes = the ceiling, or the hub on
 * a fresh store) in one child, mqtt.js publishers in `--gens` others. Every round runs each
 * target once, in a rotating order, so machine noise hits all of them alike; figures are the
 * median (min–max) over rounds, and the share of the ceiling is the median of per-round ratios.
 * Durable store settings (fsync on); a fresh database per run; every acknowledged id is looked
 * up in the store afterwards and the run fails if one is missing.
 *
 *   --quick               3 rounds × 2 s, no latency/connection sections (< 1 min)
 *   --rounds N --seconds S --connections C --window W --gens G
 *   --store pg|pglite|both   (default both; pg = DATABASE_URL, else a private durable cluster)
 *   --rates 100,500,...      latency-vs-rate section (hub + server store); --rates none to skip
 *   --devices N              connection/reconnect-storm section size (default 10000; 0 skips)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startBenchCluster, type BenchCluster } from '../support/pg-cluster.ts';
import { Child } from './child.ts';
import { WATCHER, writeSite } from './site.ts';
import type { ClientSpec, FromLoadGen, FromServer, LoadPlan, LoadResult, ServerTarget, ToLoadGen, ToServer } from './protocol.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const { values: a } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' }, seconds: { type: 'string' }, connections: { type: 'string' },
    window: { type: 'string' }, gens: { type: 'string' }, store: { type: 'string', default: 'both' },
    rates: { type: 'string' }, devices: { type: 'string' },
  },
  strict: true,
});
const quick = a.quick;
const ROUNDS = Number(a.rounds ?? (quick ? 3 : 5));
const SECONDS = Number(a.seconds ?? (quick ? 2 : 6));
const CONNECTIONS = Number(a.connections ?? 200);
const WINDOW = Number(a.window ?? 8);
const GENS = Number(a.gens ?? 2);
const RATES = (a.rates ?? (quick ? 'none' : '100,500,1000,2000,5000')) === 'none' ? [] : (a.rates ?? '100,500,1000,2000,5000').split(',').map(Number);
const RATE_SECONDS = quick ? 3 : 8;
/** A ticket-opening probe this often during each latency run. */
const PROBE_MS = 100;
const DEVICES = Number(a.devices ?? (quick ? 0 : 10_000));
const stores = a.store === 'both' ? ['pg', 'pglite'] : [a.store];

// ---- child processes -------------------------------------------------------------------

type Server = Child<ToServer, FromServer>;
type Gen = Child<ToLoadGen, FromLoadGen>;

// ---- site -------------------------------------------------------------------------------

// ---- one run ---------------------------------------------------------------------------

interface RunResult { target: ServerTarget; msgPerS: number; acked: number; cpuUsPerMsg: number; serverCpuPct: number; genCpuPct: number; p50: number; p99: number; rows: number; missing: number; duplicates: number; rssMiB: number; load1: number }

let cluster: BenchCluster | null = null;
let pgBase: string | null = null;
let runNo = 0;
let PAYLOAD = 0;

async function freshStore(target: ServerTarget): Promise<{ databaseUrl?: string; dataDir?: string; cleanup: () => Promise<void> }> {
  if (target === 'hub-pg') {
    const name = `ingest_bench_${process.pid}_${++runNo}`;
    if (cluster) return { databaseUrl: await cluster.freshDatabase(name), cleanup: () => cluster!.dropDatabase(name) };
    const admin = new pg.Client({ connectionString: pgBase! });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(pgBase!);
    u.pathname = `/${name}`;
    return {
      databaseUrl: u.toString(),
      cleanup: async () => {
        const c = new pg.Client({ connectionString: pgBase! });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  }
  if (target === 'hub-pglite') {
    // On disk, as the hub runs by default (DATA_DIR), not memory://.
    const dir = mkdtempSync(join(os.tmpdir(), 'shaobing-ingestbench-pglite-'));
    return { dataDir: dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  return { cleanup: async () => undefined };
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

async function withTarget<T>(target: ServerTarget, siteFile: string, clients: ClientSpec[], body: (server: Server, gens: Gen[], url: string, httpUrl: string | undefined) => Promise<T>): Promise<T> {
  const store = await freshStore(target);
  const server: Server = new Child('server.ts');
  // Forked together: the generators load while the server starts.
  const gens: Gen[] = clients.length ? Array.from({ length: GENS }, () => new Child<ToLoadGen, FromLoadGen>('load-gen.ts')) : [];
  try {
    const { url, httpUrl } = await server.ask({ cmd: 'start', target, siteFile, ...(store.databaseUrl ? { databaseUrl: store.databaseUrl } : {}), ...(store.dataDir ? { dataDir: store.dataDir } : {}) }, 'started');
    const per = Math.ceil(clients.length / GENS);
    const runId = `r${Date.now().toString(36)}`;
    const conn = await Promise.all(gens.map((gen, g) => gen.ask({ cmd: 'connect', url, clients: clients.slice(g * per, (g + 1) * per), runId: `${runId}g${g}`, concurrency: 100 }, 'connected')));
    const failed = conn.reduce((s, c) => s + c.failed, 0);
    if (failed) throw new Error(`${target}: ${failed} connections failed`);
    return await body(server, gens, url, httpUrl);
  } finally {
    for (const gen of gens) gen.kill();
    await server.ask({ cmd: 'stop' }, 'stopped').catch(() => undefined);
    await server.exited(10_000);
    await store.cleanup().catch((err: unknown) => console.error('cleanup:', err));
  }
}

async function drive(server: Server, gens: Gen[], plan: LoadPlan): Promise<{ results: LoadResult[]; cpuUs: number; wallMs: number; verified: Extract<FromServer, { ev: 'verified' }> }> {
  const m0 = await server.ask({ cmd: 'mark' }, 'marked');
  const results = (await Promise.all(gens.map((g) => g.ask({ cmd: 'run', plan }, 'result')))).map((r) => r.result);
  const m1 = await server.ask({ cmd: 'mark' }, 'marked');
  const verified = await server.ask({ cmd: 'verify', ackedIds: results.flatMap((r) => r.ackedIds) }, 'verified');
  return { results, cpuUs: m1.cpuUs - m0.cpuUs, wallMs: m1.at - m0.at, verified };
}

async function closedRun(target: ServerTarget, siteFile: string, clients: ClientSpec[]): Promise<RunResult> {
  return withTarget(target, siteFile, clients, async (server, gens) => {
    const { results, cpuUs, wallMs, verified } = await drive(server, gens, { kind: 'closed', window: WINDOW, ms: SECONDS * 1000 });
    const acked = results.reduce((s, r) => s + r.acked, 0);
    PAYLOAD = Math.max(PAYLOAD, ...results.map((r) => r.payloadBytes));
    const ms = Math.max(...results.map((r) => r.ms));
    const lat = results.flatMap((r) => r.latencies).sort((x, y) => x - y);
    const genCpu = results.reduce((s, r) => s + r.cpuUs, 0);
    return {
      target, acked, msgPerS: acked / (ms / 1000), cpuUsPerMsg: cpuUs / acked, serverCpuPct: (cpuUs / 1000 / wallMs) * 100,
      genCpuPct: (genCpu / 1000 / ms) * 100, p50: pct(lat, 50), p99: pct(lat, 99),
      rows: verified.rows, missing: verified.missing, duplicates: verified.duplicates, rssMiB: verified.rssPeak / 2 ** 20, load1: os.loadavg()[0]!,
    };
  });
}

// ---- report -----------------------------------------------------------------------------

const median = (xs: number[]): number => { const s = [...xs].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const fmt = (n: number): string => Math.round(n).toLocaleString('en');
const f1 = (n: number): string => n.toFixed(1);
const LABEL: Record<ServerTarget, string> = {
  aedes: 'bare aedes (ceiling), QoS 1 acked, in-process subscriber',
  'hub-pg': 'hub + PostgreSQL/TimescaleDB server (fsync on)',
  'hub-pglite': 'hub + embedded PGlite (on disk)',
};

async function main(): Promise<void> {
  const started = Date.now();
  const cpus = os.cpus();
  const load0 = os.loadavg();
  console.log(`ingest bench: ${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections × window ${WINDOW} from ${GENS} load-generator processes; stores: ${stores.join(', ')}`);
  const aedesVersion = (JSON.parse(readFileSync(join(here, '../../node_modules/aedes/package.json'), 'utf8')) as { version: string }).version;
  const targets: ServerTarget[] = ['aedes', ...(stores.includes('pg') ? ['hub-pg' as const] : []), ...(stores.includes('pglite') ? ['hub-pglite' as const] : [])];
  if (stores.includes('pg')) {
    if (process.env.DATABASE_URL) pgBase = process.env.DATABASE_URL;
    else cluster = await startBenchCluster({ durable: true });
  }
  const { siteFile, clients } = await writeSite(Math.max(CONNECTIONS, DEVICES));
  const benchClients = clients.slice(0, CONNECTIONS);
  const byTarget = new Map<ServerTarget, RunResult[]>(targets.map((t) => [t, []]));
  const ratios = new Map<ServerTarget, number[]>(targets.map((t) => [t, []]));
  const loads: number[] = [];
  let anyMissing = 0;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
      const round = new Map<ServerTarget, RunResult>();
      for (const t of order) {
        const res = await closedRun(t, siteFile, benchClients);
        round.set(t, res);
        byTarget.get(t)!.push(res);
        loads.push(res.load1);
        anyMissing += res.missing;
        console.log(`  round ${r + 1} ${t.padEnd(10)} ${fmt(res.msgPerS).padStart(7)} msg/s  server CPU ${f1(res.serverCpuPct)} % (${f1(res.cpuUsPerMsg)} µs/msg)  load-gens ${f1(res.genCpuPct)} %  PUBACK p50 ${f1(res.p50)} p99 ${f1(res.p99)} ms  acked ${res.acked} rows ${res.rows} missing ${res.missing}  load1 ${res.load1.toFixed(2)}`);
      }
      const ceiling = round.get('aedes')!.msgPerS;
      for (const t of targets) ratios.get(t)!.push(round.get(t)!.msgPerS / ceiling);
    }

    const lines: string[] = [];
    lines.push('', `**Ingest, closed loop** — ${CONNECTIONS} mqtt.js connections × ${WINDOW} QoS 1 publishes in flight, ${GENS} load-generator processes, ~${PAYLOAD}-byte charger.telemetry envelopes; ${ROUNDS} rounds × ${SECONDS} s, interleaved; median (min–max).`, '');
    lines.push('| what | msg/s | share of bare aedes | server CPU µs/msg | PUBACK p50 / p99 ms | acked → stored, missing |', '|---|---|---|---|---|---|');
    for (const t of targets) {
      const rs = byTarget.get(t)!;
      const v = rs.map((x) => x.msgPerS);
      lines.push(`| ${LABEL[t]}${t === 'aedes' ? ` ${aedesVersion}` : ''} | ${fmt(median(v))} (${fmt(Math.min(...v))}–${fmt(Math.max(...v))}) | ${(median(ratios.get(t)!) * 100).toFixed(1)} % | ${f1(median(rs.map((x) => x.cpuUsPerMsg)))} | ${f1(median(rs.map((x) => x.p50)))} / ${f1(median(rs.map((x) => x.p99)))} | ${fmt(rs.reduce((s, x) => s + x.acked, 0))} → ${fmt(rs.reduce((s, x) => s + x.rows, 0))}, ${rs.reduce((s, x) => s + x.missing, 0)} |`);
    }
    const genPct = [...byTarget.values()].flat().map((x) => x.genCpuPct);
    lines.push('', `Load generators used ${f1(Math.min(...genPct))}–${f1(Math.max(...genPct))} % of a core in total; server CPU per run ${f1(Math.min(...[...byTarget.values()].flat().map((x) => x.serverCpuPct)))}–${f1(Math.max(...[...byTarget.values()].flat().map((x) => x.serverCpuPct)))} % of a core.`);

    if (RATES.length && stores.includes('pg')) lines.push(...(await latencySection(siteFile, benchClients)));
    if (DEVICES > 0 && stores.includes('pg')) lines.push(...(await connectionSection(siteFile, clients.slice(0, DEVICES))));

    const load1 = os.loadavg();
    lines.push('', `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? '?'}, ${fmt(os.totalmem() / 2 ** 20)} MiB, Node ${process.version}, ${os.platform()} ${os.release()}; load average 1/5/15 min at start ${load0.map((x) => x.toFixed(2)).join(' / ')}, at end ${load1.map((x) => x.toFixed(2)).join(' / ')} (per run, 1 min: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}). Command: \`npx tsx bench/ingest/run.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}\`; ${((Date.now() - started) / 1000).toFixed(0)} s.`);
    console.log(lines.join('\n'));
    if (anyMissing) {
      console.error(`FAILED: ${anyMissing} acknowledged messages are not in the store`);
      process.exitCode = 1;
    }
  } finally {
    await cluster?.stop();
  }
}

async function latencySection(siteFile: string, clients: ClientSpec[]): Promise<string[]> {
  const out = ['', `**Latency vs offered rate** — hub + PostgreSQL server (fsync on), open loop (publishes sent on schedule whatever the acks do; PUBACK latency from the scheduled time), ${clients.length} connections, ${RATE_SECONDS} s per rate, one fresh database for all rates. Ticket: every ${PROBE_MS} ms one device also sends \`charger.smoke\` (the default rule opens a ticket); ms from its publish to the ticket's frame on an operator's live WebSocket.`, '', '| offered msg/s | acked msg/s | PUBACK p50 ms | p99 ms | max ms | ticket frame p50 / p99 ms (n) | missing |', '|---|---|---|---|---|---|---|'];
  await withTarget('hub-pg', siteFile, clients, async (server, gens, _url, httpUrl) => {
    await gens[0]!.ask({ cmd: 'watch', httpUrl: httpUrl!, ...WATCHER }, 'watching');
    for (const rate of RATES) {
      const { results, verified } = await drive(server, gens, { kind: 'open', ratePerSec: rate / gens.length, ms: RATE_SECONDS * 1000, probeEveryMs: PROBE_MS });
      const lat = results.flatMap((r) => r.latencies).sort((x, y) => x - y);
      const tix = results.flatMap((r) => r.ticketLatencies).sort((x, y) => x - y);
      const probes = results.reduce((s, r) => s + r.probes, 0);
      const acked = results.reduce((s, r) => s + r.acked, 0);
      const ms = Math.max(...results.map((r) => r.ms));
      const row = `| ${fmt(rate)} | ${fmt(acked / (ms / 1000))} | ${f1(pct(lat, 50))} | ${f1(pct(lat, 99))} | ${f1(lat.at(-1) ?? NaN)} | ${f1(pct(tix, 50))} / ${f1(pct(tix, 99))} (${tix.length} of ${probes}) | ${verified.missing} |`;
      console.log(`  latency ${row}`);
      out.push(row);
    }
  });
  return out;
}

async function connectionSection(siteFile: string, clients: ClientSpec[]): Promise<string[]> {
  const out: string[] = [];
  await withTarget('hub-pg', siteFile, [], async (server, _gens, url) => {
    const gens: Gen[] = Array.from({ length: GENS }, () => new Child('load-gen.ts'));
    try {
      const m0 = await server.ask({ cmd: 'mark' }, 'marked');
      const per = Math.ceil(clients.length / GENS);
      const t0 = performance.now();
      const conn = await Promise.all(gens.map((g, i) => g.ask({ cmd: 'connect', url, clients: clients.slice(i * per, (i + 1) * per), runId: `c${i}`, concurrency: 200 }, 'connected')));
      const connectMs = performance.now() - t0;
      const m1 = await server.ask({ cmd: 'mark' }, 'marked');
      const storm = await Promise.all(gens.map((g) => g.ask({ cmd: 'storm' }, 'stormed')));
      const m2 = await server.ask({ cmd: 'mark' }, 'marked');
      const failed = conn.reduce((s, c) => s + c.failed, 0);
      const stormFailed = storm.reduce((s, c) => s + c.failed, 0);
      out.push('', `**Connections** — ${fmt(clients.length)} device connections (hub + PostgreSQL server): all connected in ${f1(connectMs / 1000)} s (200 CONNECTs in flight per generator, ${failed} failed); hub RSS ${fmt(m0.rss / 2 ** 20)} MiB before, ${fmt(m1.rss / 2 ** 20)} MiB connected. Reconnect storm (every connection dropped and all reconnecting at once): back in ${f1(Math.max(...storm.map((s) => s.ms)) / 1000)} s, ${stormFailed} failed; hub RSS ${fmt(m2.rss / 2 ** 20)} MiB after.`);
      console.log(out.at(-1));
    } finally {
      for (const g of gens) g.kill();
    }
  });
  return out;
}

await main();
