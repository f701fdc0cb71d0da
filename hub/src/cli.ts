import { parseArgs } from 'node:util';
import pino from 'pino';
import { configOrExit } from './config-or-exit.ts';
import { REGISTRY_COMMANDS, REGISTRY_OPTIONS, REGISTRY_USAGE, runRegistryCommand, UsageError } from './cli/registry-commands.ts';
import { loadSiteFile, SiteFileError } from './site/load-site-file.ts';
import type { Db } from './store/db.ts';
import { readJobProblems } from './store/job-health.ts';
import { registryCounts } from './store/registry-store.ts';
import { loadMigrations, migrate } from './store/migrate.ts';
import { pgliteDir } from './store/open-db.ts';
import { openPgDb } from './store/pg-db.ts';
import { openPgliteDb } from './store/pglite-db.ts';
import { storeDiskBytes } from './store/store-disk.ts';

/**
 * Operator commands: `npm run hub -- <command>`. Configuration is the hub's (environment and
 * .env). Exit codes for scripts: 0 ok, 1 a check failed, 2 bad configuration or usage.
 *
 *   migrate   apply pending migrations and print what was applied or skipped
 *   check     configuration, site file, database reachability, migrations, TimescaleDB
 *             extension/license, job health and store disk use
 */
const USAGE = `Usage: npm run hub -- <command> [--json]
  migrate   apply pending database migrations
  check     configuration, site file, database, migrations, registry, TimescaleDB license and job health
${REGISTRY_USAGE}
Exit codes: 0 ok, 1 a check or the operation failed, 2 bad configuration or usage.`;

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false }, ...REGISTRY_OPTIONS } });
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values, positionals } = parsed;
const command = positionals[0];
if (values.help || !command) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}

const config = configOrExit();
// Logs go to stderr so stdout carries only the command's report.
const log = pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel }, pino.destination(2));

async function openStore(): Promise<Db> {
  return config.databaseUrl
    ? openPgDb({ databaseUrl: config.databaseUrl, log, maxConnections: 2 })
    : openPgliteDb({ dataDir: pgliteDir(config.dataDir), log });
}

interface Check { name: string; ok: boolean; detail: string }

async function runCheck(): Promise<Check[]> {
  const checks: Check[] = [{ name: 'config', ok: true, detail: 'valid' }];
  try {
    const site = await loadSiteFile(config.siteFile);
    checks.push({ name: 'site file', ok: true, detail: `${config.siteFile}: ${site.sites.length} site(s)` });
  } catch (err) {
    checks.push({ name: 'site file', ok: false, detail: (err as Error).message });
  }
  let db: Db;
  try {
    db = await openStore();
  } catch (err) {
    checks.push({ name: 'database', ok: false, detail: (err as Error).message });
    return checks;
  }
  try {
    if (!(await db.ping())) {
      checks.push({ name: 'database', ok: false, detail: 'not reachable' });
      return checks;
    }
    checks.push({ name: 'database', ok: true, detail: config.databaseUrl ? 'server reachable' : `embedded store in ${pgliteDir(config.dataDir)}` });
    const f = db.features;
    checks.push({ name: 'timescaledb', ok: true, detail: !db.timescale ? 'not installed: plain PostgreSQL (no hypertables)' : f.licensed ? 'installed, Timescale license' : 'installed, Apache-only license: no compression or chart aggregates' });
    const files = await loadMigrations();
    const recorded = await db.query<{ version: number }>('SELECT version FROM schema_migrations').catch(() => [] as { version: number }[]);
    const have = new Set(recorded.map((r) => r.version));
    const pending = files.filter((m) => !have.has(m.version));
    checks.push({ name: 'migrations', ok: pending.length === 0, detail: pending.length === 0 ? `${files.length} recorded` : `pending: ${pending.map((m) => `${String(m.version).padStart(3, '0')}_${m.name}`).join(', ')} (run: npm run hub -- migrate)` });
    const reg = pending.some((m) => m.name === 'registry') ? null : await registryCounts(db).catch((err: Error) => err);
    if (reg instanceof Error) checks.push({ name: 'registry', ok: false, detail: reg.message });
    else if (reg) checks.push({ name: 'registry', ok: true, detail: reg.sites === 0 ? `empty: the hub imports ${config.siteFile} at its first start` : `version ${reg.version}: ${reg.sites} site(s), ${reg.cells} cell(s), ${reg.devices} device(s), ${reg.gateways} gateway(s), ${reg.workers} worker(s), ${reg.operators} operator(s)` });
    const jobs = await readJobProblems(db, Date.now()).catch((err: Error) => { checks.push({ name: 'jobs', ok: false, detail: err.message }); return null; });
    if (jobs) checks.push({ name: 'jobs', ok: jobs.length === 0, detail: !f.jobs ? 'no background jobs here (the hub maintains)' : jobs.length === 0 ? 'no failed or late jobs' : jobs.map((j) => `job ${j.jobId} ${j.proc} ${j.problem}: ${j.lastError ?? '?'}`).join('; ') });
    const disk = await storeDiskBytes(db, config.databaseUrl ? null : pgliteDir(config.dataDir)).catch(() => null);
    checks.push({ name: 'disk', ok: true, detail: disk === null ? 'unknown (in memory)' : `${(disk / 1024 / 1024).toFixed(1)} MB` });
  } finally {
    await db.close();
  }
  return checks;
}

async function main(): Promise<number> {
  if (command === 'migrate') {
    let db: Db;
    try {
      db = await openStore();
    } catch (err) {
      console.error(`database: ${(err as Error).message}`);
      return 1;
    }
    try {
      const r = await migrate(db, log);
      if (values.json) console.log(JSON.stringify(r));
      else console.log(`migrations applied: ${r.applied.join(', ') || 'none'}; skipped (database lacks the feature): ${r.skipped.join(', ') || 'none'}`);
      return 0;
    } finally {
      await db.close();
    }
  }
  if (command === 'check') {
    const checks = await runCheck();
    if (values.json) console.log(JSON.stringify(checks));
    else for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    return checks.every((c) => c.ok) ? 0 : 1;
  }
  if ((REGISTRY_COMMANDS as readonly string[]).includes(command!)) {
    try {
      return await runRegistryCommand({ positionals, values }, openStore, (line) => console.log(line), readStdin);
    } catch (err) {
      if (err instanceof UsageError) {
        console.error(`${err.message}\n${USAGE}`);
        return 2;
      }
      if (err instanceof SiteFileError) {
        console.error(err.message);
        return 1;
      }
      if ((err as { code?: string }).code === '42P01') {
        console.error('the registry tables are missing: run `npm run hub -- migrate` first');
        return 1;
      }
      throw err;
    }
  }
  console.error(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  return 2;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

process.exitCode = await main().catch((err: unknown) => {
  console.error((err as Error).message);
  return 1;
});
