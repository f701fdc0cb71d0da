import { Type } from '@sinclair/typebox';
import { GridReply, Id } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../site/registry.ts';
import { siteScope } from '../route-helpers.ts';

const Query = Type.Object({ siteId: Id }, { additionalProperties: false });

/** GET /api/grid — a site's grid cells and grid workers (the dashboard's grid tree). */
export async function gridRoutes(app: FastifyInstance, opts: { registry: Registry }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/api/grid', {
    schema: { tags: ['grid'], querystring: Query, response: { 200: GridReply } },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const [siteId] = siteScope(req, opts.registry, req.query.siteId);
    return { cells: opts.registry.grid(siteId!), workers: opts.registry.workers(siteId!) };
  });
}
