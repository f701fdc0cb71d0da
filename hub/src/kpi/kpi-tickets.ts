import type { Queryable } from '../store/db.ts';
import type { KpiTicket } from './core/index.ts';
import { kpiFacts } from './kpi-facts-repo.ts';
import { kpiRows, type KpiRowFilter, type KpiRowParts } from './kpi-repo.ts';
import { ticketForKpi } from './kpi-row.ts';

/** The tickets a KPI period [from, to) depends on (kpiRows), with arrivals, resolvers and follow-ups (kpiFacts). */
export async function kpiTickets(q: Queryable, siteIds: readonly string[], from: number, to: number, lookbackMs: number, parts: KpiRowParts = 'both', filter: KpiRowFilter = {}): Promise<KpiTicket[]> {
  const rows = await kpiRows(q, siteIds, from, to, lookbackMs, parts, filter);
  const facts = await kpiFacts(q, rows.map((r) => r.id));
  return rows.map((r) => ticketForKpi(r, facts.get(r.id)));
}
