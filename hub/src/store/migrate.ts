import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Db, SqlTransaction } from './db.ts';

/**
 * Versioned SQL migrations, applied in order at start-up.
 *
 * Files in ./migrations are named `NNN_name.sql`; `NNN_name.timescale.sql` holds TimescaleDB-only
 * DDL of the Apache-licensed part (hypertables); `NNN_name.tsl.sql` DDL that needs the Timescale
 * license (compression, continuous aggregates, policies). Numbers 001-009 and 030-039 belong to
 * the store; later features take the next free numbers.
 *
 * Each file runs in its own transaction together with its row in schema_migrations, so a file
 * is applied completely or not at all. Every step holds a transaction-scoped advisory lock and
 * re-checks schema_migrations under it: two hubs starting together apply each file once.
 *
 * On a database without TimescaleDB (or, for `.tsl.sql`, under the Apache-only license) the
 * file is recorded with skipped = true and never retried automatically: applying hypertable DDL later, under tables that by then
 * hold data and newer migrations, is an operator's decision (a warning says so at start-up).
 */

export interface Migration {
  version: number;
  name: string;
  /** `.timescale.sql` or `.tsl.sql`: needs the extension. */
  timescaleOnly: boolean;
  /** `.tsl.sql`: needs the Timescale license too. */
  licensed: boolean;
  sql: string;
}

export interface MigrateResult {
  applied: number[];
  skipped: number[];
}

/** Arbitrary constant; only needs to be distinct from other advisory locks of the hub. */
const MIGRATION_LOCK_KEY = 0x5348_4d47; // "SHMG"

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

const FILE_PATTERN = /^(\d{3})_([a-z0-9_]+?)(\.timescale|\.tsl)?\.sql$/;

export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const out: Migration[] = [];
  for (const file of files) {
    const m = FILE_PATTERN.exec(file);
    if (!m) throw new Error(`migration file name not understood: ${file} (expected NNN_name.sql, NNN_name.timescale.sql or NNN_name.tsl.sql)`);
    const version = Number(m[1]);
    const dup = out.find((x) => x.version === version);
    if (dup) throw new Error(`two migrations numbered ${m[1]}: ${dup.name} and ${m[2]}`);
    out.push({ version, name: m[2]!, timescaleOnly: m[3] !== undefined, licensed: m[3] === '.tsl', sql: await readFile(`${dir}/${file}`, 'utf8') });
  }
  return out;
}

export async function migrate(db: Db, log: Logger, opts: { dir?: string } = {}): Promise<MigrateResult> {
  const migrations = await loadMigrations(opts.dir);
  await db.transaction(async (tx) => {
    await lock(tx);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      skipped boolean NOT NULL DEFAULT false
    )`);
  });

  const result: MigrateResult = { applied: [], skipped: [] };
  for (const m of migrations) {
    const started = Date.now();
    const outcome = await db.transaction(async (tx) => {
      await lock(tx);
      const done = await tx.query<{ name: string }>('SELECT name FROM schema_migrations WHERE version = $1', [m.version]);
      if (done[0]) {
        if (done[0].name !== m.name) log.warn({ version: m.version, recorded: done[0].name, file: m.name }, 'migration recorded under another name');
        return 'present' as const;
      }
      if (!supported(db, m)) {
        await tx.query('INSERT INTO schema_migrations (version, name, skipped) VALUES ($1, $2, true)', [m.version, m.name]);
        return 'skipped' as const;
      }
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      return 'applied' as const;
    });
    if (outcome === 'applied') {
      result.applied.push(m.version);
      log.info({ version: m.version, name: m.name, ms: Date.now() - started }, 'migration applied');
    } else if (outcome === 'skipped') {
      result.skipped.push(m.version);
      log.info({ version: m.version, name: m.name }, m.licensed ? 'migration skipped: needs timescaledb under the Timescale license' : 'migration skipped: needs timescaledb');
    }
  }
  await reportDrift(db, log, migrations);
  return result;
}

/** Whether this database can run the migration (see the file-name suffixes above). */
export function supported(db: Pick<Db, 'timescale' | 'features'>, m: Pick<Migration, 'timescaleOnly' | 'licensed'>): boolean {
  if (m.licensed) return db.timescale && db.features.licensed;
  return !m.timescaleOnly || db.timescale;
}

async function lock(tx: SqlTransaction): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
}

/** Warns about states a human should look at; never fails start-up over them. */
async function reportDrift(db: Db, log: Logger, migrations: Migration[]): Promise<void> {
  const rows = await db.query<{ version: number; name: string; skipped: boolean }>(
    'SELECT version, name, skipped FROM schema_migrations ORDER BY version',
  );
  const known = new Set(migrations.map((m) => m.version));
  const unknown = rows.filter((r) => !known.has(r.version));
  if (unknown.length > 0) {
    log.warn({ versions: unknown.map((r) => r.version) }, 'database has migrations this hub does not know (newer hub ran here?)');
  }
  // Skipped then, runnable now (extension installed or license changed since).
  const runnable = new Map(migrations.filter((m) => supported(db, m)).map((m) => [m.version, m]));
  const skipped = rows.filter((r) => r.skipped && runnable.has(r.version));
  if (skipped.length > 0) {
    log.warn(
      { versions: skipped.map((r) => `${r.version}_${r.name}`) },
      'timescaledb (or its Timescale license) is now available but these migrations were skipped when it was not; apply them by hand',
    );
  }
}
