import type { SiteFile } from '@shaobing/schemas';

/*
 * The site file as rows of the registry tables (store/migrations/080_registry.sql) and back.
 * Pure: no I/O. Each row carries its keys, its position in the file and its credential hash in
 * columns, and the rest of the entity unchanged in `doc`, so rows → file gives back the file.
 * The way back yields `unknown`-shaped JSON on purpose: what comes out of the database is
 * checked by checkSiteFile like any site file before the hub uses it.
 */

type Json = { [key: string]: unknown };

export interface SiteRow { id: string; position: number; doc: Json }
export interface SiteChildRow { site_id: string; id: string; position: number; doc: Json }
export interface WorkerRow extends SiteChildRow { password_hash: string | null }
export interface GatewayRow extends SiteChildRow { secret_hash: string }
export interface DeviceRow extends SiteChildRow { secret_hash: string | null }
export interface OperatorRow { username: string; position: number; password_hash: string; doc: Json }

export interface RegistryRows {
  sites: SiteRow[];
  cells: SiteChildRow[];
  workers: WorkerRow[];
  gateways: GatewayRow[];
  devices: DeviceRow[];
  operators: OperatorRow[];
}

/** Removes `keys` from a copy of `o`: the parts stored in their own columns. */
function rest(o: object, keys: readonly string[]): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) if (!keys.includes(k)) out[k] = v;
  return out;
}

export function fileToRows(file: SiteFile): RegistryRows {
  const rows: RegistryRows = { sites: [], cells: [], workers: [], gateways: [], devices: [], operators: [] };
  for (const [position, site] of file.sites.entries()) {
    rows.sites.push({ id: site.id, position, doc: rest(site, ['id', 'grid', 'workers', 'gateways', 'devices']) });
    for (const [i, c] of site.grid.entries()) rows.cells.push({ site_id: site.id, id: c.id, position: i, doc: rest(c, ['id']) });
    for (const [i, w] of site.workers.entries()) rows.workers.push({ site_id: site.id, id: w.id, position: i, password_hash: w.passwordHash ?? null, doc: rest(w, ['id', 'passwordHash']) });
    for (const [i, g] of site.gateways.entries()) rows.gateways.push({ site_id: site.id, id: g.id, position: i, secret_hash: g.secretHash, doc: rest(g, ['id', 'secretHash']) });
    for (const [i, d] of site.devices.entries()) rows.devices.push({ site_id: site.id, id: d.id, position: i, secret_hash: d.secretHash ?? null, doc: rest(d, ['id', 'secretHash']) });
  }
  for (const [position, op] of file.operators.entries()) {
    rows.operators.push({ username: op.username, position, password_hash: op.passwordHash, doc: rest(op, ['username', 'passwordHash']) });
  }
  return rows;
}

const byPosition = (a: { position: number }, b: { position: number }) => a.position - b.position;

/** The site-file document the rows describe (not yet validated: pass it to checkSiteFile). */
export function rowsToDocument(rows: RegistryRows): Json | null {
  if (rows.sites.length === 0 && rows.operators.length === 0) return null;
  const of = <R extends SiteChildRow>(list: R[], siteId: string) => list.filter((r) => r.site_id === siteId).sort(byPosition);
  const sites = [...rows.sites].sort(byPosition).map((s) => ({
    id: s.id,
    ...s.doc,
    grid: of(rows.cells, s.id).map((c) => ({ id: c.id, ...c.doc })),
    workers: of(rows.workers, s.id).map((w) => ({ id: w.id, ...w.doc, ...(w.password_hash !== null ? { passwordHash: w.password_hash } : {}) })),
    gateways: of(rows.gateways, s.id).map((g) => ({ id: g.id, ...g.doc, secretHash: g.secret_hash })),
    devices: of(rows.devices, s.id).map((d) => ({ id: d.id, ...d.doc, ...(d.secret_hash !== null ? { secretHash: d.secret_hash } : {}) })),
  }));
  const operators = [...rows.operators].sort(byPosition).map((o) => ({ username: o.username, ...o.doc, passwordHash: o.password_hash }));
  return { version: 1, sites, operators };
}
