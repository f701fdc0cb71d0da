import { Health, type Health as H } from '@shaobing/schemas';
import type { FastifyInstance } from 'fastify';
import type { Registry as PromRegistry } from 'prom-client';

/** /healthz (always public) and /metrics (Prometheus text; public unless METRICS_PUBLIC=false). */
export async function healthRoutes(app: FastifyInstance, opts: { health: () => H; prom: PromRegistry; metricsPublic: boolean }): Promise<void> {
  app.get('/healthz', { schema: { tags: ['ops'], response: { 200: Health, 503: Health } } }, async (_req, reply) => {
    const h = opts.health();
    return reply.code(h.status === 'ok' ? 200 : 503).send(h);
  });
  app.get('/metrics', { schema: { tags: ['ops'], hide: true }, ...(opts.metricsPublic ? {} : { onRequest: app.requireRole('viewer') }) }, async (_req, reply) => {
    reply.type(opts.prom.contentType);
    return opts.prom.metrics();
  });
}
