import type { Ticket } from '@shaobing/schemas';
import type { Queryable } from '../store/db.ts';
import { LIVE_SQL } from '../tickets/ticket-repo.ts';

export interface RequestFilter {
  siteIds: readonly string[];
  ids?: readonly string[];
  categories?: readonly string[];
  /** requested (opened) in [from, to]. */
  from: number;
  to: number;
  status?: 'open' | 'closed';
  limit: number;
}

/** Tickets for GET requests.json, newest first (GeoReport v2: default 90 days, at most 1000). */
export async function findRequests(q: Queryable, f: RequestFilter): Promise<Ticket[]> {
  // An AI alert under review (人工核准) is no service request yet: the public sees it once confirmed.
  const where = ['site_id = ANY($1::text[])', "status <> 'pending_review'"];
  const args: unknown[] = [f.siteIds];
  const arg = (v: unknown): string => { args.push(v); return `$${args.length}`; };
  if (f.ids !== undefined) where.push(`id = ANY(${arg(f.ids)}::text[])`);
  else where.push(`opened_at >= ${arg(new Date(f.from).toISOString())}::timestamptz AND opened_at <= ${arg(new Date(f.to).toISOString())}::timestamptz`);
  if (f.categories !== undefined) where.push(`category = ANY(${arg(f.categories)}::text[])`);
  if (f.status === 'open') where.push(LIVE_SQL);
  if (f.status === 'closed') where.push(`NOT ${LIVE_SQL}`);
  const rows = await q.query<{ doc: Ticket }>(
    `SELECT doc FROM tickets WHERE ${where.join(' AND ')} ORDER BY opened_at DESC, id LIMIT ${Math.max(1, Math.min(f.limit, 1000))}`, args);
  return rows.map((r) => r.doc);
}
