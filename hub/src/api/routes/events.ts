import { CHANNELS, EventsQuery, FAMILIES, Page, StoredEvent, type StoredEvent as E } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Queryable } from '../../store/db.ts';
import { visibleSites } from '../auth.ts';
import { decodeCursor, keysetPage, toIso } from '../../store/query/cursor.ts';
import { jsonObject, oneOf } from '../../store/query/row-values.ts';
import { Where } from '../../store/query/sql-where.ts';
import { HubError } from '../../errors.ts';

/** GET /api/events — stored device messages, newest first, keyset-paginated. */
export async function eventsRoutes(app: FastifyInstance, opts: { db: Queryable }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/api/events', {
    schema: { tags: ['events'], querystring: EventsQuery, response: { 200: Page(StoredEvent) } },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const limit = q.limit ?? 100;
    const w = new Where()
      .add('site_id = ?', q.siteId)
      .add('device_id = ?', q.deviceId)
      .add('family = ?', q.family)
      .add('type = ?', q.type)
      .add('channel = ?', q.channel)
      .during('ts', q.from, q.to)
      .inSites(visibleSites(req));
    if (q.cursor) {
      const [ts, site, device, msg] = decodeCursor(q.cursor, 4);
      if (typeof ts !== 'number' || !Number.isFinite(ts) || Math.abs(ts) > 8.64e15) throw new HubError('HUB_ERR_BAD_CURSOR');
      w.addMany('(ts, site_id, device_id, msg_id) < (?, ?, ?, ?)', [new Date(Number(ts)).toISOString(), site, device, msg]);
    }
    const rows = await opts.db.query(
      `SELECT ts, received_at, site_id, device_id, family, channel, type, msg_id, data FROM events ${w}
       ORDER BY ts DESC, site_id DESC, device_id DESC, msg_id DESC LIMIT ${limit + 1}`, w.params);
    const items: E[] = rows.map((r) => ({
      siteId: String(r.site_id), deviceId: String(r.device_id), family: oneOf(FAMILIES, r.family, 'family'), channel: oneOf(CHANNELS, r.channel, 'channel'),
      type: String(r.type), msgId: String(r.msg_id), ts: toIso(r.ts), receivedAt: toIso(r.received_at), data: jsonObject(r.data, 'data'),
    }));
    return keysetPage(items, limit, (last) => [Date.parse(last.ts), last.siteId, last.deviceId, last.msgId]);
  });
}
