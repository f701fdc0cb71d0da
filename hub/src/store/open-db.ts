import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';
import { openPgDb } from './pg-db.ts';
import { openPgliteDb } from './pglite-db.ts';

export interface OpenDbOptions {
  /** DATABASE_URL: a PostgreSQL/TimescaleDB server. Unset → embedded PGlite. */
  databaseUrl?: string | undefined;
  /** DATA_DIR: PGlite keeps its files in `<dataDir>/pglite`; 'memory://' keeps nothing. */
  dataDir: string;
  log: Logger;
}

/** Opens the configured store and brings its schema up to date before anyone uses it. */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  const log = opts.log;
  const db = opts.databaseUrl
    ? await openPgDb({ databaseUrl: opts.databaseUrl, log })
    : await openPgliteDb({ dataDir: pgliteDir(opts.dataDir), log });
  try {
    await migrate(db, log);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

/** Where the embedded store keeps its files under DATA_DIR. */
export function pgliteDir(dataDir: string): string {
  return dataDir.startsWith('memory://') ? dataDir : join(dataDir, 'pglite');
}
