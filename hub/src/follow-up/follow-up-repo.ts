import type { FollowUp, FollowUpOutcome, Ticket } from '@shaobing/schemas';
import type { Queryable } from '../store/db.ts';

export async function insertFollowUp(q: Queryable, f: FollowUp): Promise<void> {
  await q.query(
    `INSERT INTO follow_ups (ticket_id, at, actor, solved, satisfied, outcome, rating, note)
     VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, $8)`,
    [f.ticketId, f.at, f.actor, f.solved, f.satisfied, f.outcome, f.rating, f.note ?? null]);
}

export interface SecondHandlingRow { followUp: FollowUp; ticket: Ticket }

/** Latest follow-up per ticket since `since`, kept when it is not 双是 (migrations/060). */
export async function secondHandlingList(q: Queryable, siteIds: readonly string[], since: number, limit: number): Promise<SecondHandlingRow[]> {
  const rows = await q.query<{ ticket_id: string; at: Date; actor: string; solved: boolean; satisfied: boolean; outcome: string; rating: string; note: string | null; doc: Ticket }>(
    `SELECT f.ticket_id, f.at, f.actor, f.solved, f.satisfied, f.outcome, f.rating, f.note, t.doc
       FROM (SELECT DISTINCT ON (ticket_id) * FROM follow_ups WHERE at >= $2::timestamptz ORDER BY ticket_id, id DESC) f
       JOIN tickets t ON t.id = f.ticket_id
      WHERE t.site_id = ANY($1::text[]) AND f.outcome <> 'double_yes'
      ORDER BY f.at DESC LIMIT ${Math.max(1, Math.min(limit, 1000))}`,
    [siteIds, new Date(since).toISOString()]);
  return rows.map((r) => ({
    ticket: r.doc,
    followUp: {
      ticketId: r.ticket_id, at: r.at.toISOString(), actor: r.actor, solved: r.solved, satisfied: r.satisfied,
      outcome: r.outcome as FollowUpOutcome, rating: r.rating as FollowUp['rating'], ...(r.note !== null ? { note: r.note } : {}),
    },
  }));
}
