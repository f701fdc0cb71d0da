import { DeadLetter, DeadLettersQuery, Page, REJECT_REASONS, type DeadLetter as D } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Queryable } from '../../store/db.ts';
import { visibleSites } from '../auth.ts';
import { decodeCursor, keysetPage, toIso } from '../../store/query/cursor.ts';
import { oneOf, textOrNull } from '../../store/query/row-values.ts';
import { Where } from '../../store/query/sql-where.ts';
import { HubError } from '../../errors.ts';

/** GET /api/dead-letters — rejected messages with reason and raw payload, newest first. */
export async function deadLetterRoutes(app: FastifyInstance, opts: { db: Queryable }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/api/dead-letters', {
    schema: { tags: ['events'], querystring: DeadLettersQuery, response: { 200: Page(DeadLetter) } },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const limit = q.limit ?? 100;
    const w = new Where().add('site_id = ?', q.siteId).add('device_id = ?', q.deviceId).add('reason = ?', q.reason).inSites(visibleSites(req));
    if (q.cursor) {
      const [id] = decodeCursor(q.cursor, 1);
      if (!/^\d{1,18}$/.test(String(id))) throw new HubError('HUB_ERR_BAD_CURSOR');
      w.add('id < ?', String(id));
    }
    const rows = await opts.db.query(
      `SELECT id, received_at, reason, detail, topic, client_id, site_id, device_id, raw FROM dead_letters ${w} ORDER BY id DESC LIMIT ${limit + 1}`, w.params);
    const items: D[] = rows.map((r) => ({
      id: String(r.id), receivedAt: toIso(r.received_at), reason: oneOf(REJECT_REASONS, r.reason, 'reason'), detail: String(r.detail), topic: String(r.topic),
      clientId: textOrNull(r.client_id), siteId: textOrNull(r.site_id), deviceId: textOrNull(r.device_id), raw: String(r.raw),
    }));
    return keysetPage(items, limit, (last) => [last.id]);
  });
}
