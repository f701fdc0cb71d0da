import { Type } from '@sinclair/typebox';
import { Id, KpiSnapshot } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { HubError } from '../../errors.ts';
import { rankingCsvRows, toCsv } from '../../kpi/core/index.ts';
import type { KpiService } from '../../kpi/kpi-service.ts';
import { localDateLabel, localMidnight, parseLocalDate, REPORT_KINDS } from '../../kpi/periods.ts';
import type { Registry } from '../../site/registry.ts';
import { siteScope } from '../route-helpers.ts';

const Kind = Type.Union(REPORT_KINDS.map((k) => Type.Literal(k)));
const Iso = Type.String({ format: 'date-time' });
const StoredReport = Type.Object({ kind: Kind, siteId: Id, periodStart: Iso, periodEnd: Iso, generatedAt: Iso, snapshot: KpiSnapshot });
const ListQuery = Type.Object({
  siteId: Type.Optional(Id),
  kind: Type.Optional(Kind),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
}, { additionalProperties: false });
const CsvQuery = Type.Object({
  siteId: Id,
  period: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}(-\\d{2})?$', description: 'a local date (YYYY-MM-DD) in the period, or YYYY-MM; default: the latest stored' })),
  ranking: Type.Optional(Type.Union([Type.Literal('workers'), Type.Literal('communities')], { default: 'workers' })),
}, { additionalProperties: false });

/**
 * Stored KPI reports (日监控排名 / 周调度分析 / 月总结通报) and their rankings as CSV.
 * CSV cells go through kpi/core toCsv: RFC 4180 quoting and formula-injection guarding; a BOM
 * so spreadsheet programs read the UTF-8 (Chinese names) right.
 */
export async function reportRoutes(app: FastifyInstance, opts: { kpi: KpiService; registry: Registry }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/api/reports', {
    schema: { tags: ['reports'], querystring: ListQuery, response: { 200: Type.Object({ items: Type.Array(StoredReport) }) }, description: 'Newest period first.' },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    return { items: await opts.kpi.list(siteScope(req, opts.registry, q.siteId), q.kind, q.limit ?? 50) };
  });

  api.get('/api/reports/:kind.csv', {
    schema: {
      tags: ['reports'], params: Type.Object({ kind: Kind }), querystring: CsvQuery,
      produces: ['text/csv'], response: { 200: Type.String({ description: 'text/csv; charset=utf-8' }) },
    },
    onRequest: app.requireRole('viewer'),
  }, async (req, reply) => {
    const { kind } = req.params;
    const q = req.query;
    const [siteId] = siteScope(req, opts.registry, q.siteId);
    let report;
    if (q.period !== undefined) {
      const date = parseLocalDate(q.period);
      if (date === null) throw new HubError('HUB_ERR_VALIDATION', `period ${q.period} is not a date`);
      report = await opts.kpi.find(kind, siteId!, localMidnight(date, opts.kpi.tz));
    } else {
      report = (await opts.kpi.list([siteId!], kind, 1))[0] ?? null;
    }
    if (report === null) throw new HubError('HUB_ERR_NOT_FOUND', `no ${kind} report for ${siteId}${q.period ? ` covering ${q.period}` : ''}`);
    const ranking = q.ranking ?? 'workers';
    const csv = '\uFEFF' + toCsv(rankingCsvRows(report.snapshot[ranking]));
    const name = `${kind}-${siteId}-${localDateLabel(Date.parse(report.periodStart), opts.kpi.tz)}-${ranking}.csv`;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(csv);
  });
}
