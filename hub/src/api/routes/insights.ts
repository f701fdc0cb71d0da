import { Type } from '@sinclair/typebox';
import { AdoptedProblem, AdoptProblemBody, Id, ProblemCandidate, SeasonalWarning } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { InsightsService } from '../../kpi/insights-service.ts';
import type { Registry } from '../../site/registry.ts';
import { actorOf, siteScope } from '../route-helpers.ts';

/** 每月一题 (candidates, adoption, tracking) and seasonal early warning. */
export async function insightRoutes(app: FastifyInstance, opts: { insights: InsightsService; registry: Registry; now?: () => number }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const now = opts.now ?? Date.now;
  api.get('/api/insights/monthly-problem', {
    schema: {
      tags: ['kpi'], querystring: Type.Object({ siteId: Id, month: Type.String({ pattern: '^\\d{4}-\\d{2}$' }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ candidates: Type.Array(ProblemCandidate), adopted: Type.Array(AdoptedProblem) }) },
      description: '每月一题: category × compound candidates of a month ranked by volume, growth and repeat rate, with evidence; and the problems adopted so far with the next month\'s figures.',
    },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const [siteId] = siteScope(req, opts.registry, q.siteId);
    return { candidates: await opts.insights.candidates(siteId!, q.month), adopted: await opts.insights.adopted(siteId!, now()) };
  });

  api.post('/api/insights/monthly-problem/adopt', {
    schema: { tags: ['kpi'], body: AdoptProblemBody, response: { 200: AdoptedProblem }, description: 'A supervisor adopts the month\'s problem (one per site and month; adopting again replaces it).' },
    onRequest: app.requireRole('supervisor'),
  }, async (req) => {
    const b = req.body;
    const [siteId] = siteScope(req, opts.registry, b.siteId);
    return opts.insights.adopt(siteId!, b.month, b.category, b.placeId, actorOf(req).username, now(), b.note);
  });

  api.get('/api/insights/seasonal', {
    schema: {
      tags: ['kpi'], querystring: Type.Object({ siteId: Id }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(SeasonalWarning) }) },
      description: 'Seasonal early warning for the coming 4 weeks: same weeks of earlier years, else the recent trend; each with its reason.',
    },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const [siteId] = siteScope(req, opts.registry, q.siteId);
    return { items: await opts.insights.seasonal(siteId!, now()) };
  });
}
