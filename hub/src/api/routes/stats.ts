import { EventStats, EventStatsQuery, FAMILIES, Readings, ReadingsQuery, TicketStats, TicketStatsQuery } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../../store/db.ts';
import { HubError } from '../../errors.ts';
import { visibleSites } from '../auth.ts';
import { toIso } from '../../store/query/cursor.ts';
import { oneOf } from '../../store/query/row-values.ts';
import { Where } from '../../store/query/sql-where.ts';

/*
 * Time-bucketed counts for the dashboard charts. TimescaleDB's time_bucket where the extension
 * is, PostgreSQL's date_bin (PG14+) elsewhere: same buckets, same origin. Buckets start at
 * local midnight of the caller's UTC offset (`utcOffsetMin`, minutes east of UTC), so "1d"
 * means the control room's day, not UTC's.
 */

const BUCKETS = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
type BucketName = keyof typeof BUCKETS;
const INTERVAL: Record<BucketName, string> = { '1m': '1 minute', '5m': '5 minutes', '1h': '1 hour', '1d': '1 day' };
/** Upper bound of points per series, so one request can't ask for a year in minutes. */
export const MAX_BUCKETS = 2000;
const DEFAULT_RANGE_MS = 24 * 3_600_000;
// A Monday at midnight UTC; shifted by the offset it becomes local midnight.
const ORIGIN_MS = Date.UTC(2000, 0, 3);

export { EventStats, EventStatsQuery, Readings, ReadingsQuery, TicketStats, TicketStatsQuery } from '@shaobing/schemas';

interface Window<B extends BucketName = BucketName> { bucket: B; from: Date; to: Date; interval: string; origin: string }

/** Resolves defaults, aligns `from` to a bucket start and bounds the number of buckets. */
export function bucketWindow<B extends BucketName>(q: { from?: string; to?: string; utcOffsetMin?: number }, bucket: B, nowMs = Date.now()): Window<B> {
  const width = BUCKETS[bucket];
  const toMs = q.to ? Date.parse(q.to) : nowMs;
  const rawFrom = q.from ? Date.parse(q.from) : toMs - DEFAULT_RANGE_MS;
  const originMs = ORIGIN_MS - (q.utcOffsetMin ?? 0) * 60_000;
  const fromMs = originMs + Math.floor((rawFrom - originMs) / width) * width;
  if (!(toMs > fromMs)) throw new HubError('HUB_ERR_VALIDATION', '`to` must be after `from`');
  if ((toMs - fromMs) / width > MAX_BUCKETS) throw new HubError('HUB_ERR_VALIDATION', `at most ${MAX_BUCKETS} buckets per request: widen the bucket or shorten the range`);
  return { bucket, from: new Date(fromMs), to: new Date(toMs), interval: INTERVAL[bucket], origin: new Date(originMs).toISOString() };
}

/** SQL for the bucket start of `col`; $1 = interval, $2 = origin. */
function bucketExpr(db: Db, col: string): string {
  return db.timescale ? `time_bucket($1::interval, ${col}, $2::timestamptz)` : `date_bin($1::interval, ${col}, $2::timestamptz)`;
}

type ChartQuery = { siteId?: string; from?: string; to?: string; utcOffsetMin?: number };

/**
 * What every chart query starts with: its bucket window, and a filter whose $1, $2 are the
 * interval and origin of bucketExpr (then `lead(win)` in order), keeping to the requested site
 * within the operator's visible ones.
 */
function chartQuery<B extends BucketName>(req: FastifyRequest, q: ChartQuery, bucket: B, lead: (win: Window<B>) => unknown[] = () => []): { win: Window<B>; w: Where } {
  const win = bucketWindow(q, bucket);
  const sites = visibleSites(req);
  if (q.siteId && sites && !sites.includes(q.siteId)) throw new HubError('HUB_ERR_FORBIDDEN', `site ${q.siteId} is not visible to you`);
  const w = new Where();
  w.params.push(win.interval, win.origin, ...lead(win));
  w.add('site_id = ?', q.siteId).inSites(sites);
  return { win, w };
}

/** The window part of a chart reply. */
const windowOf = <B extends BucketName>(win: Window<B>) => ({ bucket: win.bucket, from: win.from.toISOString(), to: win.to.toISOString() });

const num = (v: unknown) => Number(v);

/** GET /api/stats/events, /api/stats/tickets, /api/readings — chart series (role viewer). */
export async function statsRoutes(app: FastifyInstance, opts: { db: Db }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = opts;

  api.get('/api/stats/events', {
    schema: { tags: ['stats'], querystring: EventStatsQuery, response: { 200: EventStats } },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const { win, w } = chartQuery(req, q, q.bucket ?? '1h');
    // Charts read a continuous aggregate (real-time: includes the newest rows) whose buckets
    // nest in the requested ones: hourly for 1 h / 1 d on the hour, else 5-minute (106; time
    // zones are whole multiples of 15 minutes).
    const offset = q.utcOffsetMin ?? 0;
    const view = !db.features.licensed || offset % 5 !== 0 ? null
      : win.bucket !== '5m' && offset % 60 === 0 ? 'events_hourly' : 'events_5m';
    const [table, tsCol, countExpr] = view !== null ? [view, 'bucket', 'sum(count)'] : ['events', 'ts', 'count(*)'];
    w.during(tsCol, win.from.toISOString(), win.to.toISOString());
    const rows = await db.query(
      `SELECT ${bucketExpr(db, tsCol)} AS t, family, ${countExpr} AS count FROM ${table} ${w} GROUP BY 1, 2 ORDER BY 1, 2`, w.params);
    return {
      ...windowOf(win),
      items: rows.map((r) => ({ t: toIso(r.t), family: oneOf(FAMILIES, r.family, 'family'), count: num(r.count) })),
    };
  });

  api.get('/api/stats/tickets', {
    schema: { tags: ['stats'], querystring: TicketStatsQuery, response: { 200: TicketStats } },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const { win, w } = chartQuery(req, q, q.bucket ?? '1h', (x) => [x.from.toISOString(), x.to.toISOString()]); // $3, $4
    const scope = w.toString().replace(/^WHERE /, ' AND ');
    const sql = `SELECT t, sum(opened)::int AS opened, sum(resolved)::int AS resolved FROM (
        SELECT ${bucketExpr(db, 'opened_at')} AS t, 1 AS opened, 0 AS resolved FROM tickets
         WHERE opened_at >= $3::timestamptz AND opened_at < $4::timestamptz${scope}
        UNION ALL
        SELECT ${bucketExpr(db, 'resolved_at')} AS t, 0, 1 FROM tickets
         WHERE resolved_at >= $3::timestamptz AND resolved_at < $4::timestamptz${scope}
      ) x GROUP BY t ORDER BY t`;
    let rows: Record<string, unknown>[];
    try {
      rows = await db.query(sql, w.params);
    } catch (err) {
      // 42P01 undefined_table: the tickets migration hasn't run on this store.
      if ((err as { code?: string }).code === '42P01') throw new HubError('HUB_ERR_STORE_UNAVAILABLE', 'ticket statistics unavailable: the store has no tickets table yet');
      throw err;
    }
    return {
      ...windowOf(win),
      items: rows.map((r) => ({ t: toIso(r.t), opened: num(r.opened), resolved: num(r.resolved) })),
    };
  });

  api.get('/api/readings', {
    schema: { tags: ['stats'], querystring: ReadingsQuery, response: { 200: Readings } },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const { win, w } = chartQuery(req, q, q.bucket ?? '5m');
    const port = q.port ?? 0;
    w.add('device_id = ?', q.deviceId).add('metric = ?', q.metric).add('port = ?', port)
      .during('ts', win.from.toISOString(), win.to.toISOString());
    // One device's series over hours: the (site, device, metric, port, ts) index makes the raw
    // table cheap enough that the 5-minute aggregate isn't worth its coarser grain here.
    const rows = await db.query(
      `SELECT ${bucketExpr(db, 'ts')} AS t, avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS count
         FROM readings ${w} GROUP BY 1 ORDER BY 1`, w.params);
    return {
      ...windowOf(win), metric: q.metric, port,
      items: rows.map((r) => ({ t: toIso(r.t), avg: num(r.avg), min: num(r.min), max: num(r.max), count: num(r.count) })),
    };
  });
}
