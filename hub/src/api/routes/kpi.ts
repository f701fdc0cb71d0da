import { Type } from '@sinclair/typebox';
import { Id, KpiDimension, KpiDrillName, KpiDrillReply, KpiSnapshot, StreetKpis } from '@shaobing/schemas';
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

const DrillQuery = Type.Object({
  siteId: Type.Optional(Id),
  from: Type.Optional(Iso),
  to: Type.Optional(Iso),
  dimension: Type.Union([KpiDimension, Type.Literal('total')]),
  id: Type.Optional(Type.String({ maxLength: 200 })),
  figure: KpiDrillName,
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
    const at = now();
    return opts.kpi.snapshot(siteScope(req, opts.registry, q.siteId), periodFrom(q, at), at);
  });

  api.get('/api/kpi/street', {
    schema: {
      tags: ['kpi'], querystring: Query, response: { 200: StreetKpis },
      description: 'Every street figure (三率, 剔除率, 万人诉求率, 见面率, 双是率, 自动核销, overdue, mean/median times) for the scope and per site, community, compound, grid worker, category and property company. Period as for /api/kpi.',
    },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const at = now();
    return opts.kpi.street(siteScope(req, opts.registry, q.siteId), periodFrom(q, at), at);
  });

  api.get('/api/kpi/drill', {
    schema: {
      tags: ['kpi'], querystring: DrillQuery, response: { 200: KpiDrillReply },
      description: 'The ticket ids behind one figure of one group (失分溯源), e.g. dimension=worker&id=w-01&figure=respondMissed. Period as for /api/kpi.',
    },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const at = now();
    const id = q.id ?? '';
    const ids = await opts.kpi.drill(siteScope(req, opts.registry, q.siteId), periodFrom(q, at), at, q.dimension, id, q.figure);
    if (ids === null) throw new HubError('HUB_ERR_NOT_FOUND', `no ${q.dimension} ${id} with tickets in this period`);
    return { dimension: q.dimension, id, figure: q.figure, ticketIds: ids };
  });

  /** [from, to) of a query; without both, today (local day in TZ_REPORTS). */
  function periodFrom(q: { from?: string; to?: string }, at: number): { from: number; to: number } {
    const today = periodOf('daily', at, opts.kpi.tz);
    const from = q.from !== undefined ? Date.parse(q.from) : today.from;
    const to = q.to !== undefined ? Date.parse(q.to) : q.from !== undefined ? at : today.to;
    if (!(from < to)) throw new HubError('HUB_ERR_VALIDATION', '`from` must be before `to`');
    if (to - from > MAX_RANGE_MS) throw new HubError('HUB_ERR_VALIDATION', 'period longer than 93 days: use the stored reports (/api/reports)');
    return { from, to };
  }
}
