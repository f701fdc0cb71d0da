import type { Category, KpiDimension } from '@shaobing/schemas';
import { ancestry, cellsWithin } from '../tickets/core/index.ts';
import type { KpiSite } from './core/index.ts';
import type { KpiRowFilter } from './kpi-repo.ts';

/**
 * Which tickets can belong to one street group (失分溯源 reads only those): a superset is
 * enough, since computeStreetKpis puts each ticket in its own groups and a group's lists depend
 * on its tickets alone. null: the group cannot exist in this scope. `sites` are the scope's
 * sites with a grid (KpiService.sites), `siteIds` the whole scope.
 */
export function drillScope(siteIds: readonly string[], sites: ReadonlyMap<string, KpiSite>, dimension: KpiDimension | 'total', id: string): { siteIds: string[]; filter: KpiRowFilter } | null {
  const all = [...siteIds];
  switch (dimension) {
    case 'total': return { siteIds: all, filter: {} };
    case 'site': return all.includes(id) ? { siteIds: [id], filter: {} } : null;
    case 'worker': return { siteIds: all, filter: { assigneeId: id } };
    case 'category': return { siteIds: all, filter: { category: id as Category } };
    case 'community':
    case 'compound': {
      // Cell groups are keyed `siteId/cellId` when several sites are summed (street.ts).
      const slash = id.indexOf('/');
      const [siteId, cellId] = sites.size > 1 ? (slash < 0 ? [null, null] : [id.slice(0, slash), id.slice(slash + 1)]) : [[...sites.keys()][0] ?? null, id];
      const site = siteId === null ? undefined : sites.get(siteId);
      if (site === undefined || cellId === null) return null;
      const cellIds = site.index.cells.get(cellId)?.level === dimension ? cellsWithin(site.index, cellId) : [];
      return cellIds.length === 0 ? null : { siteIds: [siteId!], filter: { cellIds } };
    }
    case 'propertyCompany': {
      const cellIds = new Set<string>();
      const withCells: string[] = [];
      for (const [sid, s] of sites) {
        const before = cellIds.size;
        for (const c of s.index.cells.keys()) if (ancestry(s.index, c).find((a) => a.propertyCompany !== undefined)?.propertyCompany === id) cellIds.add(c);
        if (cellIds.size > before) withCells.push(sid);
      }
      return cellIds.size === 0 ? null : { siteIds: withCells, filter: { cellIds: [...cellIds] } };
    }
  }
}
