import { ACTIVE_TICKET_STATUSES, SEVERITIES } from '@shaobing/schemas';
import type { Ticket, TicketsQuery } from '@shaobing/schemas';
import { decodeCursor, keysetPage } from '../store/query/cursor.ts';
import { Where } from '../store/query/sql-where.ts';
import { HubError } from '../errors.ts';
import type { Queryable } from '../store/db.ts';
import { LIVE_SQL } from './ticket-repo.ts';

const LIVE_STATUSES = ACTIVE_TICKET_STATUSES;

export interface TicketPage { items: Ticket[]; nextCursor: string | null }

/**
 * The board's order (DESIGN §11): overdue first, then live, then finished; within each, by
 * severity (critical first), then the oldest. "Overdue" depends on the clock, so the first
 * page's `now` travels in the cursor: every page of one listing agrees on who was overdue,
 * and a ticket that crosses its deadline mid-scroll is neither skipped nor shown twice.
 */
function groupExpr(nowParam: string): string {
  return `(CASE WHEN ${LIVE_SQL} THEN CASE WHEN resolve_by < ${nowParam} OR (accepted_at IS NULL AND respond_by < ${nowParam}) THEN 0 ELSE 1 END ELSE 2 END)`;
}

/** Filters of TicketsQuery; `sites` = the operator's visible sites (null = all); `cells`: `within` resolved to cell ids. */
export async function listTickets(db: Queryable, q: TicketsQuery, sites: readonly string[] | null, nowMs: number, cells?: readonly string[]): Promise<TicketPage> {
  const limit = q.limit ?? 100;
  let now = nowMs;
  let after: (string | number)[] | null = null;
  if (q.cursor) {
    const key = decodeCursor(q.cursor, 5);
    if (typeof key[0] !== 'number') throw new HubError('HUB_ERR_BAD_CURSOR');
    now = key[0];
    after = key.slice(1);
  }
  const w = new Where();
  w.params.push(new Date(now).toISOString()); // $1, used by the group expression everywhere
  const nowSql = '$1::timestamptz';
  const group = groupExpr(nowSql);
  w.add('site_id = ?', q.siteId)
    .add('status = ANY(?::text[])', q.status && q.status.length > 0 ? q.status : undefined)
    .add('severity = ?', q.severity)
    .add('category = ?', q.category)
    .add('cell_id = ?', q.cellId)
    .add('cell_id = ANY(?::text[])', cells)
    .add('device_id = ?', q.deviceId)
    .add('assignee_id = ?', q.assigneeId)
    .add('origin = ?', q.origin)
    .during('opened_at', q.from, q.to)
    .inSites(sites);
  if (q.hasDevice !== undefined) w.addMany(q.hasDevice ? 'device_id IS NOT NULL' : 'device_id IS NULL', []);
  // Two index-ordered parts instead of one ORDER BY over a CASE no index matches: the live
  // tickets (few; their group depends on `now`, so they are sorted) and the finished ones
  // (group 2, nearly every row of a month: read in index order, tickets_board*, migration 105).
  // A part the filters or the cursor rule out is not queried at all.
  let liveCursor = '';
  let doneCursor = '';
  let liveWanted = !q.status || q.status.length === 0 || q.status.some((x) => (LIVE_STATUSES as readonly string[]).includes(x));
  let doneWanted = q.overdue !== true && (!q.status || q.status.length === 0 || q.status.some((x) => !(LIVE_STATUSES as readonly string[]).includes(x)));
  const param = (v: unknown): string => { w.params.push(v); return `$${w.params.length}`; };
  if (after) {
    const [grp, sev, openedMs, id] = after;
    if (typeof grp !== 'number' || typeof sev !== 'number' || typeof openedMs !== 'number' || typeof id !== 'string') throw new HubError('HUB_ERR_BAD_CURSOR');
    const key = `(${param(sev)}::int, ${param(new Date(Number(openedMs)).toISOString())}::timestamptz, ${param(id)})`;
    if (grp >= 2) { liveWanted = false; doneCursor = ` AND (severity_rank, opened_at, id) > ${key}`; }
    else liveCursor = ` AND (${group}, severity_rank, opened_at, id) > (${param(grp)}::int, ${key.slice(1)}`;
  }
  const overdue = q.overdue !== undefined ? ` AND (${group} = 0) = ${param(q.overdue)}` : '';
  const where = w.toString() || 'WHERE true';
  const parts = [
    ...(liveWanted ? [`(SELECT doc, ${group} AS grp, severity_rank, opened_at, id FROM tickets ${where} AND ${LIVE_SQL}${overdue}${liveCursor}
        ORDER BY 2, severity_rank, opened_at, id LIMIT ${limit + 1})`] : []),
    // ($1, the listing's `now`, is typed here too: a statement must use every parameter it binds.)
    ...(doneWanted ? [`(SELECT doc, 2 AS grp, severity_rank, opened_at, id FROM tickets ${where} AND NOT ${LIVE_SQL} AND ${nowSql} IS NOT NULL${doneCursor}
        ORDER BY severity_rank, opened_at, id LIMIT ${limit + 1})`] : []),
  ];
  const rows = parts.length === 0 ? [] : await db.query<{ doc: Ticket; grp: number }>(
    `SELECT doc, grp FROM (${parts.join(' UNION ALL ')}) x ORDER BY grp, severity_rank, opened_at, id LIMIT ${limit + 1}`, w.params);
  const page = keysetPage(rows, limit, (last) => [now, last.grp, SEVERITIES.indexOf(last.doc.severity), Date.parse(last.doc.openedAt), last.doc.id]);
  return { items: page.items.map((r) => r.doc), nextCursor: page.nextCursor };
}
