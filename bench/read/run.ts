/**
 * The read side at a month of history (`npm run bench -- --read`): loads `--days` × `--devices`
 * of history (history.ts) into a fresh store, then times every call the dashboard, the phone
 * page and the report screen make, over HTTP against the hub running as its own process
 * (hub/src/main.ts), `--reps` times each after two warm-ups; prints p50 / p95 / max per call.
 *
 *   npx tsx bench/read/run.ts [--store pg|pglite] [--days 30] [--devices 1000] [--reps 30] [--explain]
 *                             [--keep DIR | --reuse DIR] [--only REGEX] [--cpu-prof DIR]
 *
 * Defaults: the server store (a private PostgreSQL 15 + TimescaleDB cluster with durable
 * settings, bench/support/pg-cluster.ts) at 30 days; the embedded store defaults to 7 days.
 * `--explain` (server store): auto_explain logs the plan of every hub statement slower than
 * 30 ms, and the bench prints them after the table.
 * `--keep DIR` loads into a cluster (or embedded data directory) in DIR and leaves it there;
 * `--reuse DIR` starts the hub on that history without loading it again (the hub's own
 * migrations run first, the KPI rollup is brought up to date), so a change is timed in minutes,
 * not the half hour a month takes to load. `--only` times the calls whose name matches;
 * `--cpu-prof DIR` writes the hub process's CPU profile there (node --cpu-prof) when it stops.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ACTIVE_TICKET_STATUSES } from '@shaobing/schemas';
import { localDateLabel, periodOf } from '../../hub/src/kpi/periods.ts';
import { refreshContinuousAggregates } from '../../hub/src/store/aggregates.ts';
import { compressOldChunks } from '../../hub/src/store/maintenance.ts';
import { openDb } from '../../hub/src/store/open-db.ts';
import { POLICY_PROCS } from '../../hub/src/store/job-health.ts';
import { freePort, spawnHub } from '../../hub/test/support/hub-process.ts';
import { startBenchCluster, startKeptCluster } from '../support/pg-cluster.ts';
import { loadHistory, type LoadTimes } from './history.ts';
import { refreshKpiRollup } from '../../hub/src/kpi/kpi-rollup.ts';
import { DEFAULT_SLA_POLICY } from '../../hub/src/tickets/core/index.ts';
import { ADMIN, benchDevices, benchSite, SITE_ID, writeBenchSite } from './site.ts';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'pg' },
    days: { type: 'string' },
    devices: { type: 'string', default: '1000' },
    reps: { type: 'string', default: '30' },
    explain: { type: 'boolean', default: false },
    keep: { type: 'string' },
    reuse: { type: 'string' },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
  allowPositionals: true,
});
/** What a kept history is: written by `--keep`, read by `--reuse`. */
interface KeptMeta { store: 'pg' | 'pglite'; days: number; devices: number; now: number; loaded: LoadTimes }
const keptDir = args.reuse ?? args.keep ?? null;
const reused: KeptMeta | null = args.reuse ? JSON.parse(readFileSync(join(args.reuse, 'meta.json'), 'utf8')) as KeptMeta : null;
const store = reused?.store ?? (args.store === 'pglite' ? 'pglite' : 'pg');
const days = reused?.days ?? Number(args.days ?? (store === 'pg' ? 30 : 7));
const deviceCount = reused?.devices ?? Number(args.devices);
if (args.keep && existsSync(join(args.keep, 'meta.json'))) throw new Error(`${args.keep} already holds a kept history: --reuse it, or remove it first`);
const reps = Number(args.reps);
const DAY = 86_400_000;
const TZ = 'Asia/Shanghai';
const log = pino({ level: 'warn' });
const startedAt = Date.now();
const load0 = loadavg();

const devices = benchDevices(deviceCount);
const site = await benchSite(devices);
const siteFile = await writeBenchSite(devices);
if (keptDir) mkdirSync(keptDir, { recursive: true });
const cluster = store === 'pg' ? await (keptDir ? startKeptCluster(keptDir) : startBenchCluster()) : null;
const databaseUrl = cluster ? (reused ? cluster.url.replace(/\/postgres$/, '/readbench') : await cluster.freshDatabase('readbench')) : null;
const dataDir = store === 'pglite' ? (keptDir ? join(keptDir, 'pglite') : mkdtempSync(join(tmpdir(), 'shaobing-readbench-data-'))) : null;
const now = reused?.now ?? Date.now();
let hub: Awaited<ReturnType<typeof spawnHub>> | null = null;

try {
  // ---- load ----
  const db = await openDb({ ...(databaseUrl ? { databaseUrl } : {}), dataDir: dataDir ?? 'memory://', log });
  if (db.features.jobs) await db.query('SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs WHERE proc_name = ANY($1::text[])', [[...POLICY_PROCS]]);
  const t0 = Date.now();
  const loaded = reused?.loaded ?? await loadHistory(db, site, devices, days, now);
  const loadMs = Date.now() - t0;
  // What the maintenance of a month-old hub has done by now: old chunks compressed, the chart
  // aggregates and the per-day KPI rollup materialised, statistics gathered. A reused history
  // had all that done when it was kept; only the rollup is brought up to date (new migrations).
  let t1 = Date.now();
  const chunks = reused ? 0 : await compressOldChunks(db, now);
  const compressMs = Date.now() - t1;
  t1 = Date.now();
  const refreshed = reused ? [] : await refreshContinuousAggregates(db, new Date(now - days * DAY - DAY), new Date(now));
  const aggregatesMs = Date.now() - t1;
  t1 = Date.now();
  // The hub's lookback (KpiService.lookbackMs): the longest response window of the SLA policy.
  const lookbackMs = Math.max(...Object.values(DEFAULT_SLA_POLICY.windows).map((w) => w.respondMs));
  const rollup = await refreshKpiRollup(db, { siteIds: [SITE_ID], tz: TZ, now: reused ? Date.now() : now, lookbackMs });
  const rollupMs = Date.now() - t1;
  t1 = Date.now();
  await db.exec(reused ? 'ANALYZE' : 'VACUUM ANALYZE');
  const analyzeMs = Date.now() - t1;
  if (args.keep) writeFileSync(join(args.keep, 'meta.json'), JSON.stringify({ store, days, devices: deviceCount, now, loaded } satisfies KeptMeta));
  if (db.features.jobs) await db.query('SELECT alter_job(job_id, scheduled => true) FROM timescaledb_information.jobs WHERE proc_name = ANY($1::text[])', [[...POLICY_PROCS]]);
  const size = db.kind === 'pg' ? (await db.query<{ b: number }>('SELECT pg_database_size(current_database())::bigint AS b'))[0]!.b : null;
  let logFile: string | null = null;
  if (db.kind === 'pg' && !args.explain) await db.exec('ALTER DATABASE readbench RESET ALL'); // a kept cluster may have had --explain
  if (args.explain && db.kind === 'pg') {
    await db.exec(`ALTER DATABASE readbench SET session_preload_libraries = 'auto_explain'`);
    await db.exec(`ALTER DATABASE readbench SET auto_explain.log_min_duration = '30ms'`);
    await db.exec(`ALTER DATABASE readbench SET auto_explain.log_analyze = on`);
    await db.exec(`ALTER DATABASE readbench SET auto_explain.log_buffers = on`);
    const dataDirectory = (await db.query<{ d: string }>(`SELECT current_setting('data_directory') AS d`))[0]!.d;
    logFile = join(dirname(dataDirectory), 'server.log');
  }
  await db.close();
  const failedRefresh = refreshed.filter((r) => r.outcome === 'failed');
  console.log(`read bench: ${reused ? `reusing the history kept in ${keptDir} (loaded ${new Date(now).toISOString()}); ` : ''}${store === 'pg' ? 'PostgreSQL 15 + TimescaleDB server (durable settings)' : 'embedded PGlite (on disk)'}, ${days} days × ${deviceCount} devices`);
  console.log(`  loaded ${loaded.events.toLocaleString('en')} events in ${(loaded.eventsMs / 1000).toFixed(1)} s, ${loaded.readings.toLocaleString('en')} readings in ${(loaded.readingsMs / 1000).toFixed(1)} s, `
    + `${loaded.tickets.toLocaleString('en')} tickets + ${loaded.audit.toLocaleString('en')} audit rows + ${loaded.followUps.toLocaleString('en')} follow-ups in ${(loaded.ticketsMs / 1000).toFixed(1)} s (load ${(loadMs / 1000).toFixed(1)} s in all)`);
  console.log(`  then: ${chunks} chunks compressed in ${(compressMs / 1000).toFixed(1)} s; chart aggregates refreshed in ${(aggregatesMs / 1000).toFixed(1)} s${failedRefresh.length ? ` (FAILED: ${failedRefresh.map((r) => `${r.view}: ${r.error}`).join('; ')})` : ''}; `
    + `KPI rollup ${rollup.days} days in ${(rollupMs / 1000).toFixed(1)} s; VACUUM ANALYZE ${(analyzeMs / 1000).toFixed(1)} s${size !== null ? `; database ${(size / 2 ** 30).toFixed(2)} GiB` : ''}`);

  // ---- the hub, as an operator runs it ----
  const httpPort = await freePort();
  hub = await spawnHub({
    SITE_FILE: siteFile, HTTP_PORT: String(httpPort), MQTT_PORT: String(await freePort()), TZ_REPORTS: TZ,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir! }),
  }, 'read bench', args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof']}`] : []);
  const base = `http://127.0.0.1:${httpPort}`;
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const token = ((await login.json()) as { token: string }).token;
  const get = async (path: string): Promise<{ ms: number; bytes: number; body: unknown }> => {
    const t = performance.now();
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
    const buf = Buffer.from(await res.arrayBuffer());
    const ms = performance.now() - t;
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${buf.toString().slice(0, 300)}`);
    return { ms, bytes: buf.length, body: JSON.parse(buf.toString()) as unknown };
  };
  const qs = (q: Record<string, string | number | readonly string[]>): string => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, String(x));
    return `?${p}`;
  };

  const at = Date.now();
  const today = periodOf('daily', at, TZ);
  const iso = (ms: number) => new Date(ms).toISOString();
  const pastMonth = { from: iso(today.from - 30 * DAY), to: iso(today.from) };
  const rolling = { from: iso(at - 30 * DAY), to: iso(at) };
  const week = { from: iso(today.from - 7 * DAY), to: iso(today.from) };
  const offset = { utcOffsetMin: 480 };
  const someTicket = ((await get(`/api/tickets${qs({ siteId: SITE_ID, status: ['closed'], limit: 1 })}`)).body as { items: Array<{ id: string; deviceId?: string; openedAt: string }> }).items[0]!;
  const dev = devices.find((d) => d.family === 'bin')!;
  /** The board: every live ticket, page by page, as app.svelte.ts loads it. */
  const board = async (): Promise<{ ms: number; bytes: number }> => {
    let cursor: string | null = null;
    let ms = 0;
    let bytes = 0;
    let pages = 0;
    do {
      const r = await get(`/api/tickets${qs({ siteId: SITE_ID, status: [...ACTIVE_TICKET_STATUSES], limit: 500, ...(cursor ? { cursor } : {}) })}`);
      ms += r.ms; bytes += r.bytes; pages++;
      cursor = (r.body as { nextCursor: string | null }).nextCursor;
    } while (cursor !== null && pages < 10);
    return { ms, bytes };
  };
  const calls: Array<[name: string, run: () => Promise<{ ms: number; bytes: number }>]> = [
    ['/api/kpi today (header)', () => get(`/api/kpi${qs({ siteId: SITE_ID })}`)],
    ['/api/kpi past 30 whole days', () => get(`/api/kpi${qs({ siteId: SITE_ID, ...pastMonth })}`)],
    ['/api/kpi rolling 30 d', () => get(`/api/kpi${qs({ siteId: SITE_ID, ...rolling })}`)],
    ['/api/kpi past week', () => get(`/api/kpi${qs({ siteId: SITE_ID, ...week })}`)],
    ['/api/kpi all sites, past 30 days', () => get(`/api/kpi${qs(pastMonth)}`)],
    ['/api/stats/events 24 h at 5 min', () => get(`/api/stats/events${qs({ siteId: SITE_ID, from: iso(at - DAY), to: iso(at), bucket: '5m', ...offset })}`)],
    ['/api/stats/events 24 h at 1 h', () => get(`/api/stats/events${qs({ siteId: SITE_ID, from: iso(at - DAY), to: iso(at), bucket: '1h', ...offset })}`)],
    ['/api/stats/events 7 d at 1 h', () => get(`/api/stats/events${qs({ siteId: SITE_ID, from: iso(at - 7 * DAY), to: iso(at), bucket: '1h', ...offset })}`)],
    ['/api/stats/events 30 d at 1 d', () => get(`/api/stats/events${qs({ siteId: SITE_ID, from: iso(at - 30 * DAY), to: iso(at), bucket: '1d', ...offset })}`)],
    ['/api/stats/tickets 30 d at 1 d', () => get(`/api/stats/tickets${qs({ siteId: SITE_ID, from: iso(at - 30 * DAY), to: iso(at), bucket: '1d', ...offset })}`)],
    ['/api/stats/tickets 24 h at 1 h', () => get(`/api/stats/tickets${qs({ siteId: SITE_ID, from: iso(at - DAY), to: iso(at), bucket: '1h', ...offset })}`)],
    ['/api/tickets live board, all pages', board],
    ['/api/tickets finished, limit 200', () => get(`/api/tickets${qs({ siteId: SITE_ID, status: ['resolved', 'closed', 'dismissed'], limit: 200 })}`)],
    ['/api/tickets unfiltered, limit 200 (phone)', () => get(`/api/tickets${qs({ limit: 200 })}`)],
    ['/api/tickets/:id', () => get(`/api/tickets/${encodeURIComponent(someTicket.id)}`)],
    ['/api/events ticker, limit 100', () => get(`/api/events${qs({ siteId: SITE_ID, limit: 100 })}`)],
    ['/api/readings 1 device, 24 h at 5 min', () => get(`/api/readings${qs({ siteId: SITE_ID, deviceId: dev.id, metric: 'fill_pct', port: 0, from: iso(at - DAY), to: iso(at), bucket: '5m', ...offset })}`)],
    ['/api/devices', () => get(`/api/devices${qs({ siteId: SITE_ID })}`)],
    ['/api/grid', () => get(`/api/grid${qs({ siteId: SITE_ID })}`)],
    ['/api/reports/daily/figures', () => get(`/api/reports/daily/figures${qs({ siteId: SITE_ID })}`)],
    ['/api/reports/weekly/figures', () => get(`/api/reports/weekly/figures${qs({ siteId: SITE_ID })}`)],
    ['/api/reports/monthly/figures', () => get(`/api/reports/monthly/figures${qs({ siteId: SITE_ID })}`)],
    ['/api/kpi/drill worker, past 30 days', () => get(`/api/kpi/drill${qs({ siteId: SITE_ID, ...pastMonth, dimension: 'worker', id: 'w-1', figure: 'respondMissed' })}`)],
    ['/api/insights/monthly-problem', () => get(`/api/insights/monthly-problem${qs({ siteId: SITE_ID, month: localDateLabel(at, TZ).slice(0, 7) })}`)],
    ['/api/insights/seasonal', () => get(`/api/insights/seasonal${qs({ siteId: SITE_ID })}`)],
    ['/api/follow-ups/second-handling', () => get(`/api/follow-ups/second-handling${qs({ siteId: SITE_ID })}`)],
  ];
  const rows: Array<{ name: string; p50: number; p95: number; max: number; bytes: number }> = [];
  const only = args.only ? new RegExp(args.only) : null;
  for (const [name, run] of calls) {
    if (only && !only.test(name)) continue;
    const times: number[] = [];
    let bytes = 0;
    try {
      for (let i = 0; i < 2; i++) await run();
      for (let i = 0; i < reps; i++) { const r = await run(); times.push(r.ms); bytes = r.bytes; }
    } catch (err) {
      console.log(`  ${name}: ${(err as Error).message}`);
      continue;
    }
    times.sort((a, b) => a - b);
    const q = (p: number) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)]!;
    rows.push({ name, p50: q(0.5), p95: q(0.95), max: times[times.length - 1]!, bytes });
  }
  const load1 = loadavg();
  console.log(`\n**Read side** — ${store === 'pg' ? 'PostgreSQL 15 + TimescaleDB 2.28.3 server' : 'embedded PGlite'}, ${days} days × ${deviceCount.toLocaleString('en')} devices `
    + `(${loaded.events.toLocaleString('en')} events, ${loaded.readings.toLocaleString('en')} readings, ${loaded.tickets.toLocaleString('en')} tickets, ${loaded.audit.toLocaleString('en')} audit rows); `
    + `${reps} sequential requests per call after 2 warm-ups, over HTTP to the hub process.\n`);
  console.log('| call | p50 ms | p95 ms | max ms | reply |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.p50.toFixed(1)} | ${r.p95 >= 100 ? `**${r.p95.toFixed(1)}**` : r.p95.toFixed(1)} | ${r.max.toFixed(1)} | ${r.bytes >= 1e6 ? `${(r.bytes / 1e6).toFixed(1)} MB` : `${(r.bytes / 1e3).toFixed(1)} kB`} |`);
  const over = rows.filter((r) => r.p95 >= 100);
  console.log(`\n${over.length === 0 ? 'Every call p95 < 100 ms.' : `p95 ≥ 100 ms: ${over.map((r) => r.name).join(', ')}.`}`);
  console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, Node ${process.version}; load average 1/5/15 min at start ${load0.map((x) => x.toFixed(2)).join(' / ')}, at end ${load1.map((x) => x.toFixed(2)).join(' / ')}. `
    + `Command: \`npx tsx bench/read/run.ts --store ${store} --days ${days} --devices ${deviceCount} --reps ${reps}${reused ? ` (reusing ${keptDir})` : ''}\`; ${((Date.now() - startedAt) / 1000).toFixed(0)} s.`);
  if (logFile) {
    const text = readFileSync(logFile, 'utf8');
    const plans = text.split(/\n(?=\S.*LOG: {2}duration: )/).filter((b) => b.includes('Query Text:'));
    console.log(`\nauto_explain: ${plans.length} hub statements ≥ 30 ms (newest 8 below; full log ${logFile})`);
    for (const p of plans.slice(-8)) console.log(`\n${p.slice(0, 4000)}`);
  }
} finally {
  await hub?.stop();
  await cluster?.stop();
  if (dataDir && !keptDir) rmSync(dataDir, { recursive: true, force: true });
}
