import type { AttachmentInfo } from '@shaobing/schemas';
import type { Queryable } from '../store/db.ts';

/** SQL of `ticket_attachments` (migrations/050): photo evidence stored in the database. */

export interface NewAttachment extends AttachmentInfo { content: Uint8Array }

interface Row { id: string; ticket_id: string; at: Date | string; by_actor: string; mime: AttachmentInfo['mime']; bytes: number; source: AttachmentInfo['source'] }

const iso = (v: Date | string): string => (v instanceof Date ? v : new Date(v)).toISOString();
const info = (r: Row): AttachmentInfo => ({ id: r.id, ticketId: r.ticket_id, at: iso(r.at), by: r.by_actor, mime: r.mime, bytes: Number(r.bytes), source: r.source });

/**
 * Inserts one attachment unless the ticket already holds `maxPerTicket`: the count and the
 * insert are one statement, so two uploads racing for the last slot cannot both land.
 * Returns false when the ticket is full.
 */
export async function insertAttachment(q: Queryable, a: NewAttachment, maxPerTicket: number): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO ticket_attachments (id, ticket_id, at, by_actor, mime, bytes, source, content)
       SELECT $1, $2, $3::timestamptz, $4, $5, $6, $7, $8
        WHERE (SELECT count(*) FROM ticket_attachments WHERE ticket_id = $2) < $9
     RETURNING id`,
    [a.id, a.ticketId, a.at, a.by, a.mime, a.bytes, a.source, a.content, maxPerTicket]);
  return rows.length === 1;
}

export async function listAttachments(q: Queryable, ticketId: string): Promise<AttachmentInfo[]> {
  const rows = await q.query<Row & Record<string, unknown>>(
    'SELECT id, ticket_id, at, by_actor, mime, bytes, source FROM ticket_attachments WHERE ticket_id = $1 ORDER BY at, id', [ticketId]);
  return rows.map(info);
}

export async function attachmentIdsOf(q: Queryable, ticketId: string): Promise<string[]> {
  return (await q.query<{ id: string }>('SELECT id FROM ticket_attachments WHERE ticket_id = $1', [ticketId])).map((r) => r.id);
}

export async function attachmentContent(q: Queryable, ticketId: string, id: string): Promise<{ info: AttachmentInfo; content: Buffer } | null> {
  const rows = await q.query<Row & { content: Uint8Array } & Record<string, unknown>>(
    'SELECT id, ticket_id, at, by_actor, mime, bytes, source, content FROM ticket_attachments WHERE ticket_id = $1 AND id = $2', [ticketId, id]);
  const r = rows[0];
  return r ? { info: info(r), content: Buffer.from(r.content) } : null;
}
