import { Type } from '@sinclair/typebox';
import { Id, KpiSnapshot } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { HubError } from '../../errors.ts';
import type { KpiService } from '../../kpi/kpi-service.ts';
import { periodOf } from '../../kpi/periods.ts';
import type { Registry } from '../../site/registry.ts';
import { siteScope } from '../route-helpers.ts';

const Iso = Type.String({ format: 'date-time' });
const Query = Type.Object({
  siteId: Type.Optional(Id),
  from: Type.Optional(Iso),
  to: Type.Optional(Iso),
}, { additionalProperties: false });

/** Longest period served live; longer ones are what stored reports are for. */
const MAX_RANGE_MS = 93 * 24 * 3600_000;

/** GET /api/kpi — 三率 and friends for a period (default: today in TZ_REPORTS). */
export async function kpiRoutes(app: FastifyInstance, opts: { kpi: KpiService; registry: Registry; now?: () => number }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const now = opts.now ?? Date.now;
  api.get('/api/kpi', {
    schema: {
      tags: ['kpi'], querystring: Query, response: { 200: KpiSnapshot },
      description: 'Period [from, to); without both, today (local day in TZ_REPORTS). Without siteId: every site you may see, summed (no community ranking).',
    },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const sites = siteScope(req, opts.registry, q.siteId);
    const at = now();
    const today = periodOf('daily', at, opts.kpi.tz);
    const from = q.from !== undefined ? Date.parse(q.from) : today.from;
    const to = q.to !== undefined ? Date.parse(q.to) : q.from !== undefined ? at : today.to;
    if (!(from < to)) throw new HubError('HUB_ERR_VALIDATION', '`from` must be before `to`');
    if (to - from > MAX_RANGE_MS) throw new HubError('HUB_ERR_VALIDATION', 'period longer than 93 days: use the stored reports (/api/reports)');
    return opts.kpi.snapshot(sites, { from, to }, at);
  });
}
