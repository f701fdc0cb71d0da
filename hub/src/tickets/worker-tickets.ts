import type { Ticket } from '@shaobing/schemas';
import type { Queryable } from '../store/db.ts';
import type { WorkerScope } from './core/index.ts';
import { workerSees } from './core/worker-scope.ts';
import { LIVE_SQL } from './ticket-repo.ts';

/** Finished tickets stay on the phone this long, so a worker sees what they just closed. */
const RECENT_DONE_MS = 3 * 24 * 3600_000;

/**
 * The phone page's list (我的工单): the worker's tickets, their teams' unassigned live tickets
 * in their cells and the tickets offered to them (抢单), live ones first by the nearest deadline. The SQL narrows, the core's
 * workerSees decides, so the list and the per-ticket access check can never disagree.
 */
export async function workerTickets(db: Queryable, s: WorkerScope, now: number, limit = 200): Promise<Ticket[]> {
  const rows = await db.query<{ doc: Ticket }>(
    `SELECT doc FROM tickets
      WHERE site_id = $1
        AND ((assignee_id = $2 AND (${LIVE_SQL} OR updated_at > $5::timestamptz))
          OR (assignee_id IS NULL AND ${LIVE_SQL} AND team = ANY($3::text[]) AND cell_id = ANY($4::text[]))
          OR (assignee_id IS NULL AND ${LIVE_SQL} AND (doc->'offeredTo') ? $2))
      ORDER BY (CASE WHEN ${LIVE_SQL} THEN 0 ELSE 1 END), (CASE WHEN accepted_at IS NULL THEN respond_by ELSE resolve_by END), id
      LIMIT ${limit}`,
    [s.siteId, s.workerId, [...s.teams], [...s.cellIds], new Date(now - RECENT_DONE_MS).toISOString()]);
  return rows.map((r) => r.doc).filter((t) => workerSees(t, s));
}
