import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CATEGORIES, SiteFile, Validator, type SiteFile as SiteFileT } from '@shaobing/schemas';

export class SiteFileError extends Error {}

const validator = new Validator(SiteFile);

/** Reads a site file (JSON or YAML), checks it against the schema and its cross-references. */
export async function loadSiteFile(path: string): Promise<SiteFileT> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SiteFileError(`site file ${path}: cannot read (${(err as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = ['.yaml', '.yml'].includes(extname(path)) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new SiteFileError(`site file ${path}: not valid ${extname(path) || 'JSON'} (${(err as Error).message})`);
  }
  return checkSiteFile(doc, path);
}

export function checkSiteFile(doc: unknown, path = '<site file>'): SiteFileT {
  const result = validator.validate(doc);
  if (!result.ok) {
    const i = result.issues[0]!;
    throw new SiteFileError(`site file ${path}: ${i.path}: ${i.message}`);
  }
  const problem = crossReferenceProblem(result.value);
  if (problem) throw new SiteFileError(`site file ${path}: ${problem}`);
  return result.value;
}

/** What the schema cannot say: unique ids, references that resolve, a well-formed grid tree. */
function crossReferenceProblem(file: SiteFileT): string | null {
  const siteIds = new Set<string>();
  for (const [s, site] of file.sites.entries()) {
    if (siteIds.has(site.id)) return `/sites/${s}/id: duplicate site id "${site.id}"`;
    siteIds.add(site.id);
    const cells = new Map(site.grid.map((c) => [c.id, c]));
    if (cells.size !== site.grid.length) return `/sites/${s}/grid: duplicate cell id`;
    for (const [i, cell] of site.grid.entries()) {
      if (cell.parentId === undefined) {
        if (cell.level !== 'street') return `/sites/${s}/grid/${i}/parentId: only a street cell may have no parent`;
        continue;
      }
      if (!cells.has(cell.parentId)) return `/sites/${s}/grid/${i}/parentId: unknown cell "${cell.parentId}"`;
      // Walk up to catch cycles.
      const seen = new Set<string>([cell.id]);
      for (let p = cells.get(cell.parentId); p; p = p.parentId ? cells.get(p.parentId) : undefined) {
        if (seen.has(p.id)) return `/sites/${s}/grid/${i}/parentId: cycle through "${p.id}"`;
        seen.add(p.id);
      }
    }
    for (const c of Object.keys(site.offerNearest ?? {})) {
      if (!(CATEGORIES as readonly string[]).includes(c)) return `/sites/${s}/offerNearest/${c}: unknown category (one of ${CATEGORIES.join(', ')})`;
    }
    for (const c of Object.keys(site.aiReview?.byCategory ?? {})) {
      if (!(CATEGORIES as readonly string[]).includes(c)) return `/sites/${s}/aiReview/byCategory/${c}: unknown category (one of ${CATEGORIES.join(', ')})`;
    }
    const principals = new Set<string>();
    for (const [i, gw] of site.gateways.entries()) {
      if (principals.has(gw.id)) return `/sites/${s}/gateways/${i}/id: duplicate id "${gw.id}"`;
      principals.add(gw.id);
    }
    for (const [i, d] of site.devices.entries()) {
      if (principals.has(d.id)) return `/sites/${s}/devices/${i}/id: duplicate id "${d.id}" (device and gateway ids share one namespace)`;
      principals.add(d.id);
      if (!cells.has(d.cellId)) return `/sites/${s}/devices/${i}/cellId: unknown cell "${d.cellId}"`;
      if (d.gatewayId !== undefined && !site.gateways.some((g) => g.id === d.gatewayId)) return `/sites/${s}/devices/${i}/gatewayId: unknown gateway "${d.gatewayId}"`;
    }
    for (const [i, w] of site.workers.entries()) {
      if (!cells.has(w.cellId)) return `/sites/${s}/workers/${i}/cellId: unknown cell "${w.cellId}"`;
    }
  }
  const usernames = new Set<string>();
  for (const [i, op] of file.operators.entries()) {
    if (usernames.has(op.username)) return `/operators/${i}/username: duplicate "${op.username}"`;
    usernames.add(op.username);
  }
  // Workers with a password log in with their worker id: it must name one account only.
  for (const [s, site] of file.sites.entries()) {
    for (const [i, w] of site.workers.entries()) {
      if (w.passwordHash === undefined) continue;
      if (usernames.has(w.id)) return `/sites/${s}/workers/${i}/id: "${w.id}" is already a login (an operator or a worker of another site)`;
      usernames.add(w.id);
    }
  }
  return null;
}
