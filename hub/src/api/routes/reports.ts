import { Type } from '@sinclair/typebox';
import { Id, KpiSnapshot, SeasonalWarning, StreetKpis } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { HubError } from '../../errors.ts';
import { rankingCsvRows, seasonalCsvRows, toCsv, type CsvCell } from '../../kpi/core/index.ts';
import type { InsightsService } from '../../kpi/insights-service.ts';
import { reportWorkbook } from '../../kpi/report-excel.ts';
import type { KpiService } from '../../kpi/kpi-service.ts';
import { localDateLabel, localMidnight, parseLocalDate, periodOf, previousPeriod, REPORT_KINDS, type ReportKind } from '../../kpi/periods.ts';
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
  siteId: Type.Optional(Id),
  period: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}(-\\d{2})?$', description: 'a local date (YYYY-MM-DD) in the period, or YYYY-MM; default: the latest stored (CSV; the running period is computed from the tickets) / the last complete period (Excel)' })),
  ranking: Type.Optional(Type.Union([Type.Literal('workers'), Type.Literal('communities')], { default: 'workers' })),
}, { additionalProperties: false });
const XlsxQuery = Type.Object({ siteId: Type.Optional(Id), period: CsvQuery.properties.period }, { additionalProperties: false });

/** A seasonal warning in a report: which site it is for. */
const ReportWarning = Type.Composite([SeasonalWarning, Type.Object({ siteId: Id, siteName: Type.String() })]);

const KIND_TITLE: Record<ReportKind, string> = { daily: '日监控排名', weekly: '周调度分析', monthly: '月总结通报' };

/**
 * Stored KPI reports (日监控排名 / 周调度分析 / 月总结通报) and their rankings as CSV.
 * CSV cells go through kpi/core toCsv: RFC 4180 quoting and formula-injection guarding; a BOM
 * so spreadsheet programs read the UTF-8 (Chinese names) right. After the ranking, a blank line
 * and the seasonal warnings section (季节性预警) for the weeks after the period.
 */
export async function reportRoutes(app: FastifyInstance, opts: { kpi: KpiService; registry: Registry; insights: InsightsService }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  /**
   * The seasonal warnings a report carries (item 4: "on the dashboard and in reports"): as
   * issued at the end of its period, or now for a period still running, for the weeks after.
   */
  const warningsAt = async (siteIds: readonly string[], asOf: number) => {
    const out: Array<{ site: string; siteId: string; warning: SeasonalWarning }> = [];
    for (const siteId of siteIds) {
      const site = opts.registry.sites.get(siteId)?.name ?? siteId;
      for (const warning of await opts.insights.seasonal(siteId, asOf)) out.push({ site, siteId, warning });
    }
    return out;
  };
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
    const sites = siteScope(req, opts.registry, q.siteId);
    const at = q.period === undefined ? null : localDay(q.period);
    const ranking = q.ranking ?? 'workers';
    const rows: CsvCell[][] = [];
    const warnings: Awaited<ReturnType<typeof warningsAt>> = [];
    let first: string | null = null;
    for (const siteId of sites) {
      // The stored report is the period's official one; the period still running (the report
      // screen exports it) is not stored yet, so it is computed from the tickets, like the Excel.
      const report = at === null ? (await opts.kpi.list([siteId], kind, 1))[0] ?? null
        : await opts.kpi.find(kind, siteId, at) ?? await liveReport(siteId, periodOf(kind, at, opts.kpi.tz));
      if (report === null) continue;
      first ??= report.periodStart;
      const site = opts.registry.sites.get(siteId);
      const workers = new Map(site?.workers.map((w) => [w.id, w.name]));
      const nameOf = (id: string): string => (ranking === 'workers' ? workers.get(id) : opts.registry.cell(siteId, id)?.name) ?? id;
      rows.push(...rankingCsvRows(report.snapshot[ranking], nameOf, site?.name ?? siteId, rows.length === 0));
      warnings.push(...await warningsAt([siteId], Math.min(Date.parse(report.periodEnd), Date.now())));
    }
    if (first === null) throw new HubError('HUB_ERR_NOT_FOUND', `no ${kind} report${q.siteId ? ` for ${q.siteId}` : ''}${q.period ? ` covering ${q.period}` : ''}`);
    const csv = '\uFEFF' + toCsv([...rows, ...seasonalCsvRows(warnings)]);
    const name = `${kind}-${q.siteId ?? 'all'}-${localDateLabel(Date.parse(first), opts.kpi.tz)}-${ranking}.csv`;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(csv);
  });

  api.get('/api/reports/:kind.xlsx', {
    schema: {
      tags: ['reports'], params: Type.Object({ kind: Kind }), querystring: XlsxQuery,
      produces: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
      description: 'The period as an Excel workbook: every street figure for the scope and per community, compound, grid worker, category, property company; names, not ids; and a sheet of the seasonal warnings for the weeks after the period, with their reasons. Computed from the tickets, so always current.',
    },
    onRequest: app.requireRole('viewer'),
  }, async (req, reply) => {
    const { kind } = req.params;
    const q = req.query;
    const sites = siteScope(req, opts.registry, q.siteId);
    const at = Date.now();
    const period = q.period === undefined ? previousPeriod(kind, at, opts.kpi.tz) : periodOf(kind, localDay(q.period), opts.kpi.tz);
    const report = await opts.kpi.street(sites, period, at);
    const label = localDateLabel(period.from, opts.kpi.tz);
    const scope = q.siteId === undefined ? '全部站点' : opts.registry.sites.get(q.siteId)?.name ?? q.siteId;
    const body = await reportWorkbook(`${scope} ${KIND_TITLE[kind]} ${label}`, report, await warningsAt(sites, Math.min(period.to, at)));
    return reply
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header('content-disposition', `attachment; filename="${kind}-${q.siteId ?? 'all'}-${label}.xlsx"`)
      .send(body);
  });

  api.get('/api/reports/:kind/figures', {
    schema: {
      tags: ['reports'], params: Type.Object({ kind: Kind }), querystring: XlsxQuery,
      response: { 200: Type.Object({ kind: Kind, label: Type.String(), current: StreetKpis, previous: StreetKpis, warnings: Type.Array(ReportWarning), warningsAsOf: Iso }) },
      description: 'The report screen: every street figure of the period of `kind` containing `period` (default: the current one so far) and of the period before it, for the changes (环比); and the seasonal warnings for the weeks after the period (issued at its end, or now while it runs), each with its reason.',
    },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const { kind } = req.params;
    const q = req.query;
    const sites = siteScope(req, opts.registry, q.siteId);
    const at = Date.now();
    const period = periodOf(kind, q.period === undefined ? at : localDay(q.period), opts.kpi.tz);
    const before = periodOf(kind, period.from - 1, opts.kpi.tz);
    const asOf = Math.min(period.to, at);
    // Three independent reads: side by side (on a server store, on separate pool connections).
    const [current, previous, issued] = await Promise.all([opts.kpi.street(sites, period, at), opts.kpi.street(sites, before, at), warningsAt(sites, asOf)]);
    const warnings = issued.map(({ site, siteId, warning }) => ({ ...warning, siteId, siteName: site }));
    return { kind, label: localDateLabel(period.from, opts.kpi.tz), current, previous, warnings, warningsAsOf: new Date(asOf).toISOString() };
  });

  /** The running period's ranking so far, from the tickets (it is stored once it is over). */
  async function liveReport(siteId: string, period: ReturnType<typeof periodOf>): Promise<{ periodStart: string; periodEnd: string; snapshot: KpiSnapshot } | null> {
    const now = Date.now();
    if (now < period.from || now >= period.to) return null;
    return { periodStart: new Date(period.from).toISOString(), periodEnd: new Date(period.to).toISOString(), snapshot: await opts.kpi.snapshot([siteId], period, now) };
  }

  function localDay(s: string): number {
    const date = parseLocalDate(s);
    if (date === null) throw new HubError('HUB_ERR_VALIDATION', `period ${s} is not a date`);
    return localMidnight(date, opts.kpi.tz);
  }
}
