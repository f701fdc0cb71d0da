import { ACTIVE_TICKET_STATUSES, DEDUP_TICKET_STATUSES, SEVERITIES } from '@shaobing/schemas';
import type { AuditEntry, AuditReason, Category, Severity, Ticket, TicketChange } from '@shaobing/schemas';
import type { SlaPolicy } from './core/index.ts';
import type { Queryable } from '../store/db.ts';

/**
 * SQL for the `tickets` and `ticket_audit` tables (migrations/010_tickets.sql). The full Ticket
 * lives in `doc`; the columns are copies written from it in the same statement, so they can
 * never disagree with it. Every function takes a Queryable: the Db, or a transaction.
 */

/** `status IN (…)` for the live statuses; literal (not a parameter) so the partial indexes apply. */
export const LIVE_SQL = `status IN (${ACTIVE_TICKET_STATUSES.map((s) => `'${s}'`).join(', ')})`;
/** The statuses holding a dedup key (live + pending_review), as the unique index of migration 090. */
const DEDUP_SQL = `status IN (${DEDUP_TICKET_STATUSES.map((s) => `'${s}'`).join(', ')})`;

const SEVERITY_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Ticket['severity'], number>;

const COLUMNS = [
  'id', 'site_id', 'origin', 'rule_id', 'dedup_key', 'status', 'severity', 'severity_rank', 'category', 'team',
  'cell_id', 'device_id', 'assignee_id', 'escalation_level', 'preempted', 'opened_at', 'sla_started_at',
  'respond_by', 'resolve_by', 'accepted_at', 'resolved_at', 'closed_at', 'warned_respond', 'warned_resolve', 'escalated_at', 'rating', 'version', 'doc',
] as const;

function values(t: Ticket): unknown[] {
  return [
    t.id, t.siteId, t.origin, t.ruleId ?? null, t.dedupKey ?? null, t.status, t.severity, SEVERITY_RANK[t.severity], t.category, t.team,
    t.cellId, t.deviceId ?? null, t.assigneeId ?? null, t.escalationLevel, t.preempted, t.openedAt, t.slaStartedAt,
    t.respondBy, t.resolveBy, t.acceptedAt, t.resolvedAt, t.closedAt, t.warnedRespond, t.warnedResolve, t.escalatedAt, t.rating ?? null, t.version, JSON.stringify(t),
  ];
}

/** SQL type of each column, for the typed arrays of the bulk update. */
const TYPES: Record<(typeof COLUMNS)[number], string> = {
  id: 'text', site_id: 'text', origin: 'text', rule_id: 'text', dedup_key: 'text', status: 'text', severity: 'text',
  severity_rank: 'smallint', category: 'text', team: 'text', cell_id: 'text', device_id: 'text', assignee_id: 'text',
  escalation_level: 'smallint', preempted: 'boolean', opened_at: 'timestamptz', sla_started_at: 'timestamptz',
  respond_by: 'timestamptz', resolve_by: 'timestamptz', accepted_at: 'timestamptz', resolved_at: 'timestamptz',
  closed_at: 'timestamptz', warned_respond: 'boolean', warned_resolve: 'boolean', escalated_at: 'timestamptz', rating: 'text', version: 'integer', doc: 'jsonb',
};

const INSERT_SQL = `INSERT INTO tickets (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c, i) => `$${i + 1}::${TYPES[c]}`).join(', ')})`;

/**
 * Many optimistic updates in one statement: one typed array per column (so any number of rows
 * fits in 25 bind parameters), each row applied only where the stored version is still the one
 * the change was computed from. The SLA sweep writes thousands of tickets this way.
 */
const UPDATE_SQL = `UPDATE tickets AS t SET ${COLUMNS.slice(1).map((c) => `${c} = v.${c}`).join(', ')}, updated_at = now()
  FROM unnest(${COLUMNS.map((c, i) => `$${i + 1}::${TYPES[c]}[]`).join(', ')}, $${COLUMNS.length + 1}::integer[])
    AS v(${COLUMNS.join(', ')}, prev_version)
  WHERE t.id = v.id AND t.version = v.prev_version
  RETURNING t.id`;

export async function insertTicket(q: Queryable, t: Ticket): Promise<void> {
  await q.query(INSERT_SQL, values(t));
}

/** Many new tickets in one statement (typed arrays, as UPDATE_SQL): bulk loads such as bench/read. */
export async function insertTickets(q: Queryable, tickets: readonly Ticket[]): Promise<void> {
  if (tickets.length === 0) return;
  const columns: unknown[][] = COLUMNS.map(() => []);
  for (const t of tickets) values(t).forEach((v, i) => columns[i]!.push(v));
  await q.query(`INSERT INTO tickets (${COLUMNS.join(', ')}) SELECT * FROM unnest(${COLUMNS.map((c, i) => `$${i + 1}::${TYPES[c]}[]`).join(', ')})`, columns);
}

export interface VersionedUpdate { ticket: Ticket; prevVersion: number }

/** Optimistic writes: the ids whose row still had `prevVersion` (and now holds the new ticket). */
export async function updateTickets(q: Queryable, updates: readonly VersionedUpdate[]): Promise<Set<string>> {
  if (updates.length === 0) return new Set();
  const columns: unknown[][] = COLUMNS.map(() => []);
  const prev: number[] = [];
  for (const u of updates) {
    values(u.ticket).forEach((v, i) => columns[i]!.push(v));
    prev.push(u.prevVersion);
  }
  const rows = await q.query<{ id: string }>(UPDATE_SQL, [...columns, prev]);
  return new Set(rows.map((r) => r.id));
}

/**
 * An audit row as stored: `was`, on the last row of a write that changed who may see the ticket,
 * is who could see it before; other hubs' live feeds read it back with the ticket (cluster
 * ticket tail) to take the ticket off the phone of a worker it no longer concerns.
 */
export type AuditRow = AuditEntry & { was?: TicketChange['was'] };

/** Appends audit rows (one statement, typed arrays: no bind-parameter limit to chunk around). */
export async function insertAudit(q: Queryable, entries: readonly AuditRow[]): Promise<void> {
  if (entries.length === 0) return;
  await q.query(
    `INSERT INTO ticket_audit (ticket_id, at, actor, action, from_status, to_status, note, reason, was)
       SELECT u.t, u.a, u.c, u.x, u.f, u.o, u.n, u.r::jsonb, u.w::jsonb
         FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS u(t, a, c, x, f, o, n, r, w)`,
    [
      entries.map((e) => e.ticketId), entries.map((e) => e.at), entries.map((e) => e.actor), entries.map((e) => e.action),
      entries.map((e) => e.from), entries.map((e) => e.to), entries.map((e) => e.note ?? null),
      entries.map((e) => (e.reason !== undefined ? JSON.stringify(e.reason) : null)),
      entries.map((e) => (e.was !== undefined ? JSON.stringify(e.was) : null)),
    ]);
}

const docs = (rows: Record<string, unknown>[]): Ticket[] => rows.map((r) => r.doc as Ticket);

export async function getTicket(q: Queryable, id: string): Promise<Ticket | null> {
  return docs(await q.query('SELECT doc FROM tickets WHERE id = $1', [id]))[0] ?? null;
}

export async function getTickets(q: Queryable, ids: readonly string[]): Promise<Ticket[]> {
  if (ids.length === 0) return [];
  return docs(await q.query('SELECT doc FROM tickets WHERE id = ANY($1::text[]) ORDER BY opened_at', [ids]));
}

/** Dedup keys that have a live ticket (or one under review) in the given sites. */
export async function liveDedupKeys(q: Queryable, siteIds: readonly string[]): Promise<string[]> {
  const rows = await q.query(`SELECT dedup_key FROM tickets WHERE site_id = ANY($1::text[]) AND ${DEDUP_SQL} AND dedup_key IS NOT NULL`, [siteIds]);
  return rows.map((r) => String(r.dedup_key));
}

/** The live ticket (or the alert under review) holding a dedup key: at most one, the unique index. */
export async function liveByDedup(q: Queryable, dedupKey: string): Promise<Ticket | null> {
  return docs(await q.query(`SELECT doc FROM tickets WHERE dedup_key = $1 AND ${DEDUP_SQL}`, [dedupKey]))[0] ?? null;
}

/** The most recently resolved ticket of a dedup key (a recurrence may reopen it). */
export async function lastResolvedByDedup(q: Queryable, dedupKey: string): Promise<Ticket | null> {
  return docs(await q.query(
    `SELECT doc FROM tickets WHERE dedup_key = $1 AND status IN ('resolved', 'closed') ORDER BY resolved_at DESC NULLS LAST LIMIT 1`, [dedupKey]))[0] ?? null;
}

/** Every live ticket (of some sites). */
export async function liveTickets(q: Queryable, siteIds?: readonly string[]): Promise<Ticket[]> {
  return siteIds === undefined
    ? docs(await q.query(`SELECT doc FROM tickets WHERE ${LIVE_SQL}`))
    : docs(await q.query(`SELECT doc FROM tickets WHERE ${LIVE_SQL} AND site_id = ANY($1::text[])`, [siteIds]));
}

/**
 * The live tickets the SLA sweep could act on at `now`: a superset of what tickets/core
 * slaSweep decides — unwarned between the warn mark and a deadline, or overdue below the top of
 * the ladder with a new deadline missed or the escalation spacing over — so a sweep reads
 * the few tickets that are due, not every open one. The core still makes the exact decision;
 * the 1 ms slack only widens the superset against rounding.
 */
export async function sweepCandidates(q: Queryable, now: number, policy: SlaPolicy, maxLevel: number): Promise<Ticket[]> {
  const spaced = (s: Severity) => new Date(now + 1 - policy.escalationSpacingMs[s]).toISOString();
  return docs(await q.query(
    `SELECT doc FROM tickets WHERE ${LIVE_SQL} AND (
       (accepted_at IS NULL AND NOT warned_respond AND $8::timestamptz <= respond_by
         AND $2::timestamptz >= sla_started_at + (respond_by - sla_started_at) * $3::float8)
       OR (NOT warned_resolve AND $8::timestamptz <= resolve_by
         AND $2::timestamptz >= sla_started_at + (resolve_by - sla_started_at) * $3::float8)
       OR (escalation_level < $4::int AND (
         ($1::timestamptz > resolve_by OR (accepted_at IS NULL AND $1::timestamptz > respond_by))
         AND (escalated_at IS NULL
              OR ($1::timestamptz > resolve_by AND escalated_at < resolve_by)
              OR ($1::timestamptz <= resolve_by AND accepted_at IS NULL AND escalated_at < respond_by)
              OR escalated_at <= (CASE severity WHEN 'critical' THEN $5 WHEN 'high' THEN $6 ELSE $7 END)::timestamptz))))`,
    [new Date(now).toISOString(), new Date(now + 1).toISOString(), policy.warnRatio, maxLevel, spaced('critical'), spaced('high'), spaced('normal'),
      new Date(now - 1).toISOString()]));
}

/** Live tickets per grid worker of a site: routing spreads work within a cell by it. */
export async function loadByWorker(q: Queryable, siteId: string): Promise<Map<string, number>> {
  const rows = await q.query<{ assignee_id: string; n: number }>(
    `SELECT assignee_id, count(*)::int AS n FROM tickets WHERE site_id = $1 AND ${LIVE_SQL} AND assignee_id IS NOT NULL GROUP BY assignee_id`, [siteId]);
  return new Map(rows.map((r) => [r.assignee_id, r.n]));
}

/** Proactive tickets a complaint may match: same site, category and nearby cells; live or resolved since `since`. */
export async function complaintCandidates(q: Queryable, siteId: string, category: Category, cellIds: readonly string[], since: string): Promise<Ticket[]> {
  return docs(await q.query(
    `SELECT doc FROM tickets WHERE site_id = $1 AND category = $2 AND origin = 'proactive' AND cell_id = ANY($3::text[])
       AND (${LIVE_SQL} OR (status IN ('resolved', 'closed') AND resolved_at >= $4::timestamptz))`,
    [siteId, category, cellIds, since]));
}

export async function auditOf(q: Queryable, ticketId: string): Promise<AuditEntry[]> {
  const rows = await q.query<{ at: Date; actor: string; action: string; from_status: string | null; to_status: string; note: string | null; reason: AuditReason | null }>(
    'SELECT at, actor, action, from_status, to_status, note, reason FROM ticket_audit WHERE ticket_id = $1 ORDER BY id', [ticketId]);
  return rows.map((r) => ({
    ticketId, at: r.at.toISOString(), actor: r.actor, action: r.action,
    from: r.from_status as AuditEntry['from'], to: r.to_status as AuditEntry['to'],
    ...(r.note !== null ? { note: r.note } : {}),
    ...(r.reason !== null ? { reason: r.reason } : {}),
  }));
}
