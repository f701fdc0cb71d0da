import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../store/db.ts';
import { actorOf } from '../route-helpers.ts';
import type { TicketService } from '../../tickets/ticket-service.ts';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const Reply = Type.Object({
  deviceId: Type.Union([Type.String(), Type.Null()]),
  readings: Type.Array(Type.Object({ metric: Type.String(), port: Type.Integer(), value: Type.Number(), ts: Type.String() })),
});

/**
 * The latest reading of a ticket's device, for whoever may see the ticket (the phone page shows
 * it beside the ticket: is the bin still full?). Workers see no device list, only this.
 */
export async function ticketDeviceRoutes(app: FastifyInstance, opts: { db: Db; tickets: TicketService }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/api/tickets/:id/device', {
    schema: { tags: ['tickets'], params: Params, response: { 200: Reply }, description: "The latest value of each metric of the ticket's device." },
    onRequest: app.requireRole('worker'),
  }, async (req) => {
    const t = await opts.tickets.visible(req.params.id, actorOf(req));
    if (t.deviceId === undefined) return { deviceId: null, readings: [] };
    const rows = await opts.db.query<{ metric: string; port: number; value: number; ts: Date | string }>(
      `SELECT DISTINCT ON (metric, port) metric, port, value, ts FROM readings WHERE site_id = $1 AND device_id = $2 ORDER BY metric, port, ts DESC LIMIT 16`,
      [t.siteId, t.deviceId]);
    return { deviceId: t.deviceId, readings: rows.map((r) => ({ metric: r.metric, port: Number(r.port), value: Number(r.value), ts: new Date(r.ts).toISOString() })) };
  });
}
