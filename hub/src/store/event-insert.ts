import type { IngestedEvent, Reading } from '../events.ts';
import type { Queryable } from './db.ts';

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

/**
 * One constant statement for a whole batch: events and readings each arrive as a single JSON
 * array parameter (json_to_recordset), so there is no bind-parameter limit to chunk around, no
 * SQL text rebuilt per batch, and the driver serialises one string natively instead of
 * thousands of parameters. Both inserts run in one statement, which PostgreSQL commits
 * atomically on its own: no BEGIN/COMMIT round trips.
 *
 * ON CONFLICT DO NOTHING skips redelivered messages, and a message's readings are inserted only
 * when its event row is new in this statement (joined to the RETURNING rows): readings need no
 * unique index of their own (migration 040). The statement answers with the number of
 * new events and, only when that is short of the batch (some were duplicates), which keys were
 * new: in the common all-new case nothing is parsed back.
 */
const INSERT_SQL = `
WITH ev AS (
  INSERT INTO events (ts, received_at, site_id, device_id, family, channel, type, msg_id, data)
  SELECT ts, received_at, site_id, device_id, family, channel, type, msg_id, data
  FROM json_to_recordset($1::json) AS x(ts timestamptz, received_at timestamptz, site_id text, device_id text, family text, channel text, type text, msg_id text, data jsonb)
  ON CONFLICT DO NOTHING
  RETURNING site_id, device_id, msg_id, ts
), rd AS (
  INSERT INTO readings (ts, site_id, device_id, metric, port, value, msg_id)
  SELECT x.ts, x.site_id, x.device_id, x.metric, x.port, x.value, x.msg_id
  FROM json_to_recordset($2::json) AS x(ts timestamptz, site_id text, device_id text, metric text, port int2, value float8, msg_id text, ev_ts timestamptz)
  JOIN ev ON ev.site_id = x.site_id AND ev.device_id = x.device_id AND ev.msg_id = x.msg_id AND ev.ts = x.ev_ts
  RETURNING 1
)
SELECT n, CASE WHEN n < $3::int THEN (SELECT json_agg(json_build_array(site_id, device_id, msg_id, (extract(epoch FROM ts) * 1000)::float8)) FROM ev) END AS keys
FROM (SELECT count(*)::int AS n FROM ev) c, (SELECT count(*) FROM rd) r`;

/** After a failed attempt: which of these (key, received_at) rows are already stored. */
const RECHECK_SQL = `
SELECT e.site_id, e.device_id, e.msg_id, (extract(epoch FROM e.ts) * 1000)::float8 AS ts_ms
FROM events e
JOIN json_to_recordset($1::json) AS x(ts timestamptz, received_at timestamptz, site_id text, device_id text, msg_id text)
  ON e.site_id = x.site_id AND e.device_id = x.device_id AND e.msg_id = x.msg_id AND e.ts = x.ts AND e.received_at = x.received_at`;

/** The idempotence key, as the unique constraint on events sees it. */
function eventKey(siteId: string, deviceId: string, msgId: string, tsMs: number): string {
  return `${siteId}\u0000${deviceId}\u0000${msgId}\u0000${tsMs}`;
}

interface EventRow { ts: string; received_at: string; site_id: string; device_id: string; family: string; channel: string; type: string; msg_id: string; data: Record<string, unknown> }
/** ev_ts: the event's ts, which joins the reading to its event row (a reading's own ts may differ). */
interface ReadingRow { ts: string; site_id: string; device_id: string; metric: string; port: number; value: number; msg_id: string; ev_ts: string }

/**
 * Inserts one batch of events and their readings as one atomic statement. Knowing which events
 * were new is what keeps a redelivered message from reaching the rule engine twice.
 * `afterFailure`: an earlier attempt of this batch failed, possibly after its commit went
 * through (the answer was lost); rows stored with this batch's own received_at count as new.
 */
export async function insertBatch(db: Queryable, items: readonly WriteItem[], opts: { afterFailure?: boolean } = {}): Promise<InsertOutcome> {
  const events: EventRow[] = new Array(items.length);
  const readings: ReadingRow[] = [];
  const keys = new Set<string>();
  let readingsSent = 0;
  for (let i = 0; i < items.length; i++) {
    const { event: e, readings: rs } = items[i]!;
    const ts = new Date(e.ts).toISOString();
    events[i] = { ts, received_at: new Date(e.receivedAt).toISOString(), site_id: e.siteId, device_id: e.deviceId, family: e.family, channel: e.channel, type: e.type, msg_id: e.msgId, data: e.data };
    readingsSent += rs.length;
    const key = eventKey(e.siteId, e.deviceId, e.msgId, e.ts);
    if (keys.has(key)) continue; // a second copy in this batch: its readings would join the first's row
    keys.add(key);
    for (const r of rs) readings.push({ ts: r.ts === e.ts ? ts : new Date(r.ts).toISOString(), site_id: e.siteId, device_id: e.deviceId, metric: r.metric, port: r.port, value: r.value, msg_id: e.msgId, ev_ts: ts });
  }
  const eventsJson = JSON.stringify(events);
  const [row] = await db.query<{ n: number; keys: [string, string, string, number][] | null }>(INSERT_SQL, [eventsJson, JSON.stringify(readings), keys.size]);

  let newKeys: Set<string> | null = null; // null: every distinct key is new
  if (row!.n < keys.size) {
    newKeys = new Set((row!.keys ?? []).map(([s, d, m, t]) => eventKey(s, d, m, t)));
  }
  if (opts.afterFailure && newKeys) {
    for (const r of await db.query<{ site_id: string; device_id: string; msg_id: string; ts_ms: number }>(RECHECK_SQL, [eventsJson])) {
      newKeys.add(eventKey(r.site_id, r.device_id, r.msg_id, r.ts_ms));
    }
  }

  if (!newKeys && keys.size === items.length) return { inserted: items.map((i) => i.event), readings: readingsSent };
  // The first copy of each new key is the new event; a second copy in this batch is a duplicate.
  const inserted: IngestedEvent[] = [];
  const seen = new Set<string>();
  for (const { event: e } of items) {
    const key = eventKey(e.siteId, e.deviceId, e.msgId, e.ts);
    if (seen.has(key)) continue;
    seen.add(key);
    if (!newKeys || newKeys.has(key)) inserted.push(e);
  }
  return { inserted, readings: readingsSent };
}
