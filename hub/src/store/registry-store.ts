import type { SiteFile } from '@shaobing/schemas';
import type { Logger } from 'pino';
import { checkSiteFile, loadSiteFile } from '../site/load-site-file.ts';
import { Registry } from '../site/registry.ts';
import { fileToRows, rowsToDocument, type RegistryRows } from '../site/registry-rows.ts';
import type { Db, Queryable } from './db.ts';

/*
 * The registry in the database (080_registry.sql). Every write goes through `writeRegistry`:
 * one transaction that locks the version row (writers queue), builds the next registry from the
 * current one, checks it with the site file's own check (same rules, same messages), replaces
 * the rows, bumps the version and NOTIFYs it; the notification is delivered at COMMIT, so a hub
 * that hears it reads the new rows. Writes are rare (an operator's command), so a write
 * replaces all rows rather than diffing them.
 */

/** NOTIFY channel of registry changes; the payload is the new version. */
export const REGISTRY_CHANNEL = 'shaobing_registry';

export interface StoredRegistry {
  version: number;
  /** null while the registry is empty (nothing imported yet). */
  file: SiteFile | null;
}

export async function readRegistryVersion(q: Queryable): Promise<number> {
  const rows = await q.query<{ version: number }>('SELECT version FROM registry_version');
  return rows[0]?.version ?? 0;
}

async function readRows(q: Queryable): Promise<RegistryRows> {
  const [sites, cells, workers, gateways, devices, operators] = [
    await q.query<RegistryRows['sites'][number] & Record<string, unknown>>('SELECT id, position, doc FROM registry_sites'),
    await q.query<RegistryRows['cells'][number] & Record<string, unknown>>('SELECT site_id, id, position, doc FROM registry_cells'),
    await q.query<RegistryRows['workers'][number] & Record<string, unknown>>('SELECT site_id, id, position, password_hash, doc FROM registry_workers'),
    await q.query<RegistryRows['gateways'][number] & Record<string, unknown>>('SELECT site_id, id, position, secret_hash, doc FROM registry_gateways'),
    await q.query<RegistryRows['devices'][number] & Record<string, unknown>>('SELECT site_id, id, position, secret_hash, doc FROM registry_devices'),
    await q.query<RegistryRows['operators'][number] & Record<string, unknown>>('SELECT username, position, password_hash, doc FROM registry_operators'),
  ];
  return { sites, cells, workers, gateways, devices, operators };
}

/** Rows → checked SiteFile; rows edited by hand into something invalid fail like a bad file. */
function fileOf(rows: RegistryRows, version: number): SiteFile | null {
  const doc = rowsToDocument(rows);
  return doc === null ? null : checkSiteFile(doc, `<registry version ${version}>`);
}

/** The registry as one consistent snapshot (REPEATABLE READ: all tables at one moment). */
export async function loadRegistry(db: Db): Promise<StoredRegistry> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const version = await readRegistryVersion(tx);
    return { version, file: fileOf(await readRows(tx), version) };
  });
}

const INSERTS: { [K in keyof RegistryRows]: string } = {
  sites: 'INSERT INTO registry_sites (id, position, doc) SELECT id, position, doc FROM json_to_recordset($1::json) AS r(id text, position int, doc jsonb)',
  cells: 'INSERT INTO registry_cells (site_id, id, position, doc) SELECT site_id, id, position, doc FROM json_to_recordset($1::json) AS r(site_id text, id text, position int, doc jsonb)',
  workers: 'INSERT INTO registry_workers (site_id, id, position, password_hash, doc) SELECT site_id, id, position, password_hash, doc FROM json_to_recordset($1::json) AS r(site_id text, id text, position int, password_hash text, doc jsonb)',
  gateways: 'INSERT INTO registry_gateways (site_id, id, position, secret_hash, doc) SELECT site_id, id, position, secret_hash, doc FROM json_to_recordset($1::json) AS r(site_id text, id text, position int, secret_hash text, doc jsonb)',
  devices: 'INSERT INTO registry_devices (site_id, id, position, secret_hash, doc) SELECT site_id, id, position, secret_hash, doc FROM json_to_recordset($1::json) AS r(site_id text, id text, position int, secret_hash text, doc jsonb)',
  operators: 'INSERT INTO registry_operators (username, position, password_hash, doc) SELECT username, position, password_hash, doc FROM json_to_recordset($1::json) AS r(username text, position int, password_hash text, doc jsonb)',
};

/**
 * Applies `next` to the current registry (a copy; null when empty) and stores the result once it
 * passes the site-file check (so `next` may return any document). `next` returns null for "no change" (nothing written, no new version). Throws SiteFileError
 * (nothing written) when the result fails the site-file check.
 */
export async function writeRegistry(
  db: Db, change: string, next: (current: SiteFile | null) => object | null, opts: { replaceAll?: boolean } = {},
): Promise<StoredRegistry & { changed: boolean }> {
  return db.transaction(async (tx) => {
    const [row] = await tx.query<{ version: number }>('SELECT version FROM registry_version FOR UPDATE');
    const version = row?.version ?? 0;
    // An import replaces everything: it must also work over rows that no longer pass the check.
    const current = opts.replaceAll ? null : fileOf(await readRows(tx), version);
    const wanted = next(current === null ? null : structuredClone(current));
    if (wanted === null) return { version, file: current, changed: false };
    const file = checkSiteFile(wanted, `<registry after ${change}>`);
    // Sites cascade to their cells, workers, gateways and devices.
    await tx.query('DELETE FROM registry_sites');
    await tx.query('DELETE FROM registry_operators');
    const rows = fileToRows(file);
    for (const table of Object.keys(INSERTS) as (keyof RegistryRows)[]) {
      if (rows[table].length) await tx.query(INSERTS[table], [JSON.stringify(rows[table])]);
    }
    const [bumped] = await tx.query<{ version: number }>(
      'UPDATE registry_version SET version = version + 1, changed_at = now(), change = $1 RETURNING version', [change.slice(0, 200)]);
    await tx.query('SELECT pg_notify($1, $2)', [REGISTRY_CHANNEL, String(bumped!.version)]);
    return { version: bumped!.version, file, changed: true };
  });
}

/** Counts for `check` and the logs. */
export async function registryCounts(q: Queryable): Promise<{ version: number; sites: number; cells: number; devices: number; gateways: number; workers: number; operators: number }> {
  const [r] = await q.query<{ sites: number; cells: number; devices: number; gateways: number; workers: number; operators: number }>(`SELECT
    (SELECT count(*)::int FROM registry_sites) AS sites, (SELECT count(*)::int FROM registry_cells) AS cells,
    (SELECT count(*)::int FROM registry_devices) AS devices, (SELECT count(*)::int FROM registry_gateways) AS gateways,
    (SELECT count(*)::int FROM registry_workers) AS workers, (SELECT count(*)::int FROM registry_operators) AS operators`);
  return { version: await readRegistryVersion(q), ...r! };
}

/**
 * The hub's registry at start-up: the database's; when it is empty, SITE_FILE is imported first
 * (the embedded demo imports the bundled site this way on its first start). A non-empty registry
 * is never overwritten by SITE_FILE: `npm run hub -- site import <file>` replaces it on purpose.
 */
export async function openRegistry(db: Db, siteFile: string, log: Logger): Promise<Registry> {
  let stored = await loadRegistry(db);
  if (stored.file === null) {
    const file = await loadSiteFile(siteFile);
    // Another hub may import at the same moment: the write re-checks under its lock.
    const w = await writeRegistry(db, `import ${siteFile} (empty registry at start)`, (current) => (current === null ? file : null));
    if (w.changed) log.info({ siteFile, version: w.version }, 'registry was empty: site file imported');
    stored = w;
  } else {
    log.info({ version: stored.version }, 'registry loaded from the database (SITE_FILE is imported only into an empty registry)');
  }
  return new Registry(stored.file!, stored.version);
}
