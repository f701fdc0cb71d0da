import type { DeliveryInfo, NotifyChannel } from '@shaobing/schemas';
import type { Db, Queryable } from '../store/db.ts';

/** SQL of `notify_outbox` (migrations/051): the notifications' transactional outbox. */

export interface OutboxRow {
  ticketId: string | null;
  siteId: string;
  event: string;
  severity: string;
  /** Worker id or group cell id (for the timeline and the grouping). */
  recipient: string;
  channel: NotifyChannel;
  payload: NotifyPayload;
  dueAt: string;
  createdAt: string;
}

/** The message body every channel renders from (webhooks get it as JSON). */
export interface NotifyPayload {
  event: string;
  siteId: string;
  ticketId: string | null;
  severity: string;
  title: string;
  text: string;
  at: string;
  /** Deep link to the phone page. */
  url?: string;
  /** Several similar notifications grouped into one (a burst). */
  count?: number;
}

export interface ClaimedRow extends OutboxRow { id: string; attempts: number }

export async function insertOutbox(q: Queryable, rows: readonly OutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO notify_outbox (ticket_id, site_id, event, severity, recipient, channel, payload, due_at, created_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::timestamptz[], $9::timestamptz[])`,
    [rows.map((r) => r.ticketId), rows.map((r) => r.siteId), rows.map((r) => r.event), rows.map((r) => r.severity), rows.map((r) => r.recipient),
      rows.map((r) => JSON.stringify(r.channel)), rows.map((r) => JSON.stringify(r.payload)), rows.map((r) => r.dueAt), rows.map((r) => r.createdAt)]);
}

interface RawRow {
  id: string | number; ticket_id: string | null; site_id: string; event: string; severity: string; recipient: string;
  channel: NotifyChannel; payload: NotifyPayload; attempts: number; due_at: Date | string; created_at: Date | string;
  status?: string; sent_at?: Date | string | null; last_error?: string | null;
}
const iso = (v: Date | string): string => (v instanceof Date ? v : new Date(v)).toISOString();

/**
 * Claims up to `limit` due rows: in one transaction the rows are locked (FOR UPDATE SKIP LOCKED:
 * another loop skips them, never waits or double-claims) and their due time pushed by
 * `leaseMs`, so a hub that dies mid-send leaves them due again after the lease, not lost.
 * Sending happens after this commits; markSent/markRetry settle each row.
 */
export async function claimDue(db: Db, now: number, limit: number, leaseMs: number): Promise<ClaimedRow[]> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<RawRow & Record<string, unknown>>(
      `SELECT id, ticket_id, site_id, event, severity, recipient, channel, payload, attempts, due_at, created_at FROM notify_outbox
        WHERE status = 'pending' AND due_at <= $1::timestamptz ORDER BY due_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
      [new Date(now).toISOString()]);
    if (rows.length === 0) return [];
    await tx.query(`UPDATE notify_outbox SET due_at = $2::timestamptz, attempts = attempts + 1 WHERE id = ANY($1::bigint[])`,
      [rows.map((r) => String(r.id)), new Date(now + leaseMs).toISOString()]);
    return rows.map((r) => ({
      id: String(r.id), ticketId: r.ticket_id, siteId: r.site_id, event: r.event, severity: r.severity, recipient: r.recipient,
      channel: r.channel, payload: r.payload, attempts: Number(r.attempts) + 1, dueAt: iso(r.due_at), createdAt: iso(r.created_at),
    }));
  });
}

export async function markSent(q: Queryable, id: string, now: number): Promise<void> {
  await q.query(`UPDATE notify_outbox SET status = 'sent', sent_at = $2::timestamptz, last_error = NULL WHERE id = $1::bigint`, [id, new Date(now).toISOString()]);
}

/** A failed attempt: due again at `retryAt`, or failed for good (retryAt null). */
export async function markRetry(q: Queryable, id: string, error: string, retryAt: number | null): Promise<void> {
  await q.query(
    `UPDATE notify_outbox SET last_error = $2, status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
       due_at = COALESCE($3::timestamptz, due_at) WHERE id = $1::bigint`,
    [id, error.slice(0, 500), retryAt === null ? null : new Date(retryAt).toISOString()]);
}

/** Rows per status, for /metrics. */
export async function counts(q: Queryable): Promise<Record<'pending' | 'sent' | 'failed', number>> {
  const rows = await q.query<{ status: 'pending' | 'sent' | 'failed'; n: string | number }>('SELECT status, count(*) AS n FROM notify_outbox GROUP BY status');
  const out = { pending: 0, sent: 0, failed: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

/** Delivery status of a ticket's notifications, for its timeline. */
export async function deliveriesOf(q: Queryable, ticketId: string): Promise<DeliveryInfo[]> {
  const rows = await q.query<RawRow & Record<string, unknown>>(
    `SELECT id, event, channel, recipient, status, attempts, created_at, sent_at, last_error FROM notify_outbox WHERE ticket_id = $1 ORDER BY id LIMIT 200`, [ticketId]);
  return rows.map((r) => ({
    id: String(r.id), event: r.event, channel: r.channel.kind, recipient: r.recipient,
    status: (r.status ?? 'pending') as DeliveryInfo['status'], attempts: Number(r.attempts), createdAt: iso(r.created_at),
    sentAt: r.sent_at ? iso(r.sent_at) : null, lastError: r.last_error ?? null,
  }));
}
