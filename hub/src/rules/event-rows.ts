import type { Channel, Family, MessageType } from '@shaobing/schemas';
import type { IngestedEvent } from '../events.ts';
import type { Queryable } from '../store/db.ts';

const COLUMNS = 'ts, received_at, site_id, device_id, family, channel, type, msg_id, data';

function toEvent(r: Record<string, unknown>): IngestedEvent {
  return {
    siteId: String(r.site_id), deviceId: String(r.device_id), family: r.family as Family, channel: r.channel as Channel,
    type: r.type as MessageType, msgId: String(r.msg_id), ts: (r.ts as Date).getTime(), receivedAt: (r.received_at as Date).getTime(),
    data: r.data as Record<string, unknown>,
  };
}

/** Stored events of the given sites with device time in [from, to), oldest first (history replay, dry runs). */
export async function eventsByTs(db: Queryable, siteIds: string[], from: number, to: number, limit: number): Promise<IngestedEvent[]> {
  const rows = await db.query(
    `SELECT ${COLUMNS} FROM events WHERE site_id = ANY($1::text[]) AND ts >= $2 AND ts < $3 ORDER BY ts, received_at LIMIT ${limit}`,
    [siteIds, new Date(from).toISOString(), new Date(to).toISOString()]);
  return rows.map(toEvent);
}

/** Events received after a watermark, in receive order (replaying the tail after a snapshot). */
export async function eventsReceivedAfter(db: Queryable, siteIds: string[], watermark: number, limit: number): Promise<IngestedEvent[]> {
  const rows = await db.query(
    `SELECT ${COLUMNS} FROM events WHERE site_id = ANY($1::text[]) AND received_at > $2 ORDER BY received_at, ts LIMIT ${limit}`,
    [siteIds, new Date(watermark).toISOString()]);
  return rows.map(toEvent);
}

/** When the first event of the given sites was stored (monitoring began then), or null. */
export async function firstReceivedAt(db: Queryable, siteIds: string[]): Promise<number | null> {
  const [first] = await db.query('SELECT min(received_at) AS at FROM events WHERE site_id = ANY($1::text[])', [siteIds]);
  return first?.at instanceof Date ? first.at.getTime() : null;
}
