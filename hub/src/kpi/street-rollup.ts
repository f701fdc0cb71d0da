import type { StreetKpis } from '@shaobing/schemas';
import type { Db } from '../store/db.ts';
import { StreetGroups, type KpiSite } from './core/index.ts';
import { addTallyTo } from './day-rollup.ts';
import { rollupLeaves, type RollupReadOptions } from './kpi-rollup.ts';

/**
 * The street figures (report screen, Excel) of a period from the per-day rollup: every group
 * is a union of stored leaves (cell × category × assignee), so its figures are the leaves'
 * sums, the same as computeStreetKpis over the tickets (street-rollup.test.ts). null when the
 * period holds no complete past day (the caller recounts).
 */
export async function rollupStreet(db: Db, o: RollupReadOptions & { sites: ReadonlyMap<string, KpiSite> }): Promise<StreetKpis | null> {
  const leaves = await rollupLeaves(db, o);
  if (leaves === null) return null;
  const g = new StreetGroups(o.sites);
  for (const l of leaves) for (const acc of g.accsOf(l.siteId, l.cellId, l.category, l.assigneeId)) addTallyTo(acc, l.tally);
  return g.report(o.period, o.now);
}
