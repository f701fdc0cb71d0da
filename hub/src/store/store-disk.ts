import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './db.ts';

/** Bytes under `dir` (files only, recursively); 0 when it does not exist. */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = join(e.parentPath ?? dir, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else if (e.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/**
 * The store's disk use: the embedded store's whole data directory (WAL included, which is
 * what grows when nothing checkpoints), or the server database's size (pg_database_size; the
 * server's WAL is the DBA's). null for an in-memory store.
 */
export async function storeDiskBytes(db: Db, pgliteDir: string | null): Promise<number | null> {
  if (db.kind === 'pglite') return pgliteDir && !pgliteDir.startsWith('memory://') ? dirBytes(pgliteDir) : null;
  const rows = await db.query<{ bytes: number }>('SELECT pg_database_size(current_database())::bigint AS bytes');
  return rows[0]?.bytes ?? null;
}
