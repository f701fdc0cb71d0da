import type { Category, Ticket } from '@shaobing/schemas';
import type { Queryable } from '../store/db.ts';
import { LIVE_SQL } from '../tickets/ticket-repo.ts';

/** The fields of a ticket the KPI core reads (kpi/core/accumulate.ts), all kept as columns. */
export interface KpiRow {
  id: string; siteId: string; origin: Ticket['origin']; status: Ticket['status']; severity: Ticket['severity']; category: Category;
  cellId: string; assigneeId: string | null; preempted: boolean; rating: Ticket['rating'] | null;
  /** ISO-8601 (toISOString form). */
  openedAt: string; slaStartedAt: string; respondBy: string; resolveBy: string; acceptedAt: string | null; resolvedAt: string | null; closedAt: string | null;
}

/**
 * A timestamptz as `toISOString()` text, formatted by the database: on a PostgreSQL server the
 * driver's text → Date parsing (and back to ISO for the KPI core) costs 3-4× the whole rest of
 * a 10k-row KPI read; in the embedded store it is a wash (measured, bench/sla-sweep-db.ts).
 */
const isoText = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${col}`;

/** Which tickets kpiRows reads: the period's window and the live ones (a recount), or either alone (kpi-rollup.ts). */
export type KpiRowParts = 'both' | 'window' | 'live';

/** Only the tickets of one assignee, category, or set of cells (a drill into one group: drill-scope.ts). */
export interface KpiRowFilter { assigneeId?: string; category?: Category; cellIds?: readonly string[] }

/**
 * The tickets a KPI period [from, to) depends on, from columns only (no jsonb): every live one
 * (open / overdue "now") and those whose current SLA cycle started since `from − lookbackMs`
 * (the response deadline, and so the 响应率 outcome, can fall in the period) and that opened
 * before `to`.
 */
export async function kpiRows(q: Queryable, siteIds: readonly string[], from: number, to: number, lookbackMs: number, parts: KpiRowParts = 'both', filter: KpiRowFilter = {}): Promise<KpiRow[]> {
  const window = '(sla_started_at >= $2::timestamptz AND opened_at < $3::timestamptz)';
  const params: unknown[] = [siteIds, new Date(from - lookbackMs).toISOString(), new Date(to).toISOString()];
  let only = '';
  if (filter.assigneeId !== undefined) { params.push(filter.assigneeId); only += ` AND assignee_id = $${params.length}`; }
  if (filter.category !== undefined) { params.push(filter.category); only += ` AND category = $${params.length}`; }
  if (filter.cellIds !== undefined) { params.push(filter.cellIds); only += ` AND cell_id = ANY($${params.length}::text[])`; }
  const rows = await q.query(
    `SELECT id, site_id, origin, status, severity, category, cell_id, assignee_id, preempted, rating,
            ${['opened_at', 'sla_started_at', 'respond_by', 'resolve_by', 'accepted_at', 'resolved_at', 'closed_at'].map(isoText).join(', ')}
       FROM tickets WHERE site_id = ANY($1::text[])
        AND ${parts === 'both' ? `(${LIVE_SQL} OR ${window})` : parts === 'live' ? `${LIVE_SQL} AND $2::timestamptz IS NOT NULL AND $3::timestamptz IS NOT NULL` : window}${only}`,
    params);
  return rows.map((r) => ({
    id: r.id as string, siteId: r.site_id as string, origin: r.origin as KpiRow['origin'], status: r.status as KpiRow['status'],
    severity: r.severity as KpiRow['severity'], category: r.category as Category, cellId: r.cell_id as string,
    assigneeId: r.assignee_id as string | null, preempted: r.preempted as boolean, rating: r.rating as KpiRow['rating'],
    openedAt: r.opened_at as string, slaStartedAt: r.sla_started_at as string, respondBy: r.respond_by as string, resolveBy: r.resolve_by as string,
    acceptedAt: r.accepted_at as string | null, resolvedAt: r.resolved_at as string | null, closedAt: r.closed_at as string | null,
  }));
}
