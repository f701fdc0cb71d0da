import { Type } from '@sinclair/typebox';
import { DeviceView, Family, Id, type DeviceView as V } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Presence } from '../../devices/presence.ts';
import type { Registry } from '../../site/registry.ts';
import { visibleSites } from '../auth.ts';

const Query = Type.Object({ siteId: Type.Optional(Id), family: Type.Optional(Family), cellId: Type.Optional(Id), online: Type.Optional(Type.Boolean()) });

/** GET /api/devices — the registry joined with live presence and per-device rejection counts. */
export async function deviceRoutes(app: FastifyInstance, opts: { registry: Registry; presence: Presence; rejectedByDevice: Map<string, number> }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/api/devices', {
    schema: { tags: ['devices'], querystring: Query, response: { 200: Type.Object({ items: Type.Array(DeviceView) }) } },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const sites = visibleSites(req);
    const items: V[] = [];
    for (const d of opts.registry.allDevices()) {
      if ((q.siteId && d.siteId !== q.siteId) || (q.family && d.family !== q.family) || (sites && !sites.includes(d.siteId))) continue;
      if (q.cellId && d.cellId !== q.cellId && d.unitId !== q.cellId && d.buildingId !== q.cellId && d.communityId !== q.cellId) continue;
      const s = opts.presence.view(d);
      if (q.online !== undefined && s.online !== q.online) continue;
      items.push({
        siteId: d.siteId, deviceId: d.deviceId, family: d.family, cellId: d.cellId, location: d.locationLabel, online: s.online,
        lastSeen: s.lastSeen === null ? null : new Date(s.lastSeen).toISOString(), status: s.status,
        rejected: opts.rejectedByDevice.get(`${d.siteId}/${d.deviceId}`) ?? 0,
      });
    }
    return { items };
  });
}
