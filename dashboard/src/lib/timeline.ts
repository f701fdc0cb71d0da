import type { AttachmentInfo, AuditEntry } from './contract.ts';

/** One line of a ticket's timeline: an audit row and the photos it added. */
export interface TimelineEntry { entry: AuditEntry; photos: AttachmentInfo[] }

/**
 * The timeline of board and phone: audit rows in order, each 'attach' row carrying the photo
 * it recorded (the hub writes the attachment id into that row's note, in the same transaction).
 * A photo no row names (stored before its audit row existed) gets a line of its own at its time.
 */
export function timelineOf(audit: readonly AuditEntry[], attachments: readonly AttachmentInfo[]): TimelineEntry[] {
  const left = new Map(attachments.map((a) => [a.id, a]));
  const out: TimelineEntry[] = audit.map((entry) => {
    if (entry.action !== 'attach' || entry.note === undefined) return { entry, photos: [] };
    const photos = [...left.values()].filter((a) => entry.note!.split(/[\s(),]+/).includes(a.id));
    for (const p of photos) left.delete(p.id);
    return { entry, photos };
  });
  for (const a of left.values()) {
    out.push({ entry: { ticketId: a.ticketId, at: a.at, actor: a.by, action: 'attach', from: null, to: 'open', note: a.id }, photos: [a] });
  }
  return out.sort((x, y) => Date.parse(x.entry.at) - Date.parse(y.entry.at));
}

/** The image URL (`<img>` cannot send a header, so the token rides in the query). */
export const attachmentUrl = (ticketId: string, attachmentId: string, token: string | null): string =>
  `/api/tickets/${encodeURIComponent(ticketId)}/attachments/${encodeURIComponent(attachmentId)}?token=${encodeURIComponent(token ?? '')}`;
