import type { IngestedEvent, Reading } from '../events.ts';
import type { Queryable } from './db.ts';
import { chunkRows, valuesList } from './sql-values.ts';

export interface WriteItem {
  event: IngestedEvent;
  readings: readonly Reading[];
}

export interface InsertOutcome {
  /** Events that were new, in batch order; duplicates (already stored, or twice in the batch) are left out. */
  inserted: IngestedEvent[];
  /** Readings sent (duplicates included). */
  readings: number;
}

const EVENT_TYPES = ['timestamptz', 'timestamptz', 'text', 'text', 'text', 'text', 'text', 'text', 'jsonb'];
const READING_TYPES = ['timestamptz', 'text', 'text', 'text', 'int2', 'float8', 'text'];
const RECHECK_TYPES = ['text', 'text', 'text', 'timestamptz', 'timestamptz'];

/** The idempotence key, as the unique constraint on events sees it. */
function eventKey(siteId: string, deviceId: string, msgId: string, tsMs: number): string {
  return `${siteId}\u0000${deviceId}\u0000${msgId}\u0000${tsMs}`;
}

/**
 * Inserts one batch of events and their readings (call inside a transaction). Redelivered
 * messages are skipped by ON CONFLICT DO NOTHING; RETURNING tells which events were new, which
 * is what keeps a redelivered message from reaching the rule engine twice.
 */
export async function insertBatch(tx: Queryable, items: readonly WriteItem[], opts: { afterFailure?: boolean } = {}): Promise<InsertOutcome> {
  const newKeys = new Set<string>();
  for (const chunk of chunkRows(items, EVENT_TYPES.length)) {
    const params: unknown[] = [];
    for (const { event: e } of chunk) {
      params.push(
        new Date(e.ts).toISOString(),
        new Date(e.receivedAt).toISOString(),
        e.siteId,
        e.deviceId,
        e.family,
        e.channel,
        e.type,
        e.msgId,
        JSON.stringify(e.data),
      );
    }
    const rows = await tx.query<{ site_id: string; device_id: string; msg_id: string; ts: Date }>(
      `INSERT INTO events (ts, received_at, site_id, device_id, family, channel, type, msg_id, data)
       VALUES ${valuesList(chunk.length, EVENT_TYPES)}
       ON CONFLICT DO NOTHING
       RETURNING site_id, device_id, msg_id, ts`,
      params,
    );
    for (const r of rows) newKeys.add(eventKey(r.site_id, r.device_id, r.msg_id, r.ts.getTime()));
  }

  if (opts.afterFailure) await recoverOwnInserts(tx, items, newKeys);

  const readings = items.flatMap((i) => i.readings);
  for (const chunk of chunkRows(readings, READING_TYPES.length)) {
    const params: unknown[] = [];
    for (const r of chunk) params.push(new Date(r.ts).toISOString(), r.siteId, r.deviceId, r.metric, r.port, r.value, r.msgId);
    await tx.query(
      `INSERT INTO readings (ts, site_id, device_id, metric, port, value, msg_id)
       VALUES ${valuesList(chunk.length, READING_TYPES)}
       ON CONFLICT DO NOTHING`,
      params,
    );
  }

  // Match returned keys back to events; deleting the key makes a second copy of the same
  // message within this batch count as a duplicate.
  const inserted: IngestedEvent[] = [];
  for (const { event: e } of items) {
    const key = eventKey(e.siteId, e.deviceId, e.msgId, new Date(e.ts).getTime());
    if (newKeys.delete(key)) inserted.push(e);
  }
  return { inserted, readings: readings.length };
}

/**
 * A commit whose answer was lost (connection dropped after COMMIT was sent) may have stored the
 * batch. The retry then finds its own rows as "duplicates" and, without this, those events
 * would never reach the rule engine. A row carrying this event's exact received_at was written
 * by this hub's earlier attempt (a real redelivery is received later), so it counts as new.
 */
async function recoverOwnInserts(tx: Queryable, items: readonly WriteItem[], newKeys: Set<string>): Promise<void> {
  const missing = items.filter(({ event: e }) => !newKeys.has(eventKey(e.siteId, e.deviceId, e.msgId, new Date(e.ts).getTime())));
  for (const chunk of chunkRows(missing, RECHECK_TYPES.length)) {
    const params: unknown[] = [];
    for (const { event: e } of chunk) params.push(e.siteId, e.deviceId, e.msgId, new Date(e.ts).toISOString(), new Date(e.receivedAt).toISOString());
    const rows = await tx.query<{ site_id: string; device_id: string; msg_id: string; ts: Date }>(
      `SELECT site_id, device_id, msg_id, ts FROM events
       WHERE (site_id, device_id, msg_id, ts, received_at) IN (VALUES ${valuesList(chunk.length, RECHECK_TYPES)})`,
      params,
    );
    for (const r of rows) newKeys.add(eventKey(r.site_id, r.device_id, r.msg_id, r.ts.getTime()));
  }
}
