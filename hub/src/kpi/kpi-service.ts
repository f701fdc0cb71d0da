import type { KpiDimension, KpiDrillName, KpiSnapshot, StreetKpis } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { HubBus } from '../bus.ts';
import type { Registry } from '../site/registry.ts';
import type { Db } from '../store/db.ts';
import type { TicketService } from '../tickets/ticket-service.ts';
import { computeKpis, computeStreetKpis, type KpiSite, type KpiTicket, type Period } from './core/index.ts';
import { drillScope } from './drill-scope.ts';
import { kpiTickets } from './kpi-tickets.ts';
import { rollupStreet } from './street-rollup.ts';
import { refreshKpiRollup, rollupSnapshot } from './kpi-rollup.ts';
import { periodOf, previousPeriod, REPORT_KINDS, type ReportKind } from './periods.ts';
import { getReport, hasReport, listReports, saveReport, type StoredReport } from './report-repo.ts';

export interface KpiServiceOptions {
  db: Db;
  bus: HubBus;
  registry: Registry;
  tickets: TicketService;
  log: Logger;
  /** TZ_REPORTS: days, weeks and months start at local midnight here. */
  tz: string;
}

/**
 * The KPI shell (DESIGN §7): reads the tickets that can count in a period, hands them to the
 * pure KPI core (kpi/core computeKpis), stores daily/weekly/monthly reports and announces
 * today's figures on the bus ('kpi.updated') for the dashboard header.
 */
export class KpiService {
  constructor(private readonly opts: KpiServiceOptions) {}

  get tz(): string {
    return this.opts.tz;
  }

  /** The longest response window: how far before a period a ticket can open and still be judged in it. */
  private get lookbackMs(): number {
    return Math.max(...Object.values(this.opts.tickets.policy.windows).map((w) => w.respondMs));
  }

  /**
   * KPIs of a period for some sites. One site gets its community ranking (grid index); several
   * sites are summed, without a community ranking (cell ids are per site).
   * Reads columns only (kpi-row.ts), never the jsonb documents: cheap enough to run after
   * every SLA sweep.
   */
  async snapshot(siteIds: readonly string[], period: Period, now: number): Promise<KpiSnapshot> {
    const one = siteIds.length === 1 ? siteIds[0]! : undefined;
    const index = one === undefined ? undefined : this.opts.tickets.gridIndex(one);
    // Past days from the per-day rollup (the same figures as the recount below; kpi-rollup.ts).
    const rolled = await rollupSnapshot(this.opts.db, {
      siteIds, tz: this.opts.tz, now, lookbackMs: this.lookbackMs, period,
      ...(one !== undefined ? { siteId: one } : {}), ...(index ? { index } : {}),
    });
    if (rolled !== null) return rolled;
    return this.recount(siteIds, period, now);
  }

  /** The snapshot counted from the tickets themselves (also what the rollup must equal: kpi-rollup.test.ts). */
  async recount(siteIds: readonly string[], period: Period, now: number): Promise<KpiSnapshot> {
    const tickets = await this.kpiTickets(siteIds, period);
    const one = siteIds.length === 1 ? siteIds[0]! : undefined;
    const index = one === undefined ? undefined : this.opts.tickets.gridIndex(one);
    return computeKpis(tickets, period, now, { ...(one !== undefined ? { siteId: one } : {}), ...(index ? { index } : {}) });
  }

  /** The tickets that can count in a period, with arrivals, resolvers and follow-ups (kpi-facts-repo). */
  private kpiTickets(siteIds: readonly string[], period: Period): Promise<KpiTicket[]> {
    return kpiTickets(this.opts.db, siteIds, period.from, period.to, this.lookbackMs);
  }

  private sites(siteIds: readonly string[]): Map<string, KpiSite> {
    const out = new Map<string, KpiSite>();
    for (const id of siteIds) {
      const site = this.opts.registry.sites.get(id);
      const index = this.opts.tickets.gridIndex(id);
      if (site !== undefined && index !== undefined) out.set(id, { name: site.name, ...(site.nameEn ? { nameEn: site.nameEn } : {}), index });
    }
    return out;
  }

  /**
   * Every street figure per site / 社区 / 楼院 / worker / category / 物业公司 (GET /api/kpi/street,
   * the report screen): past days from the per-day rollup (street-rollup.ts), else a recount.
   */
  async street(siteIds: readonly string[], period: Period, now: number): Promise<StreetKpis> {
    const sites = this.sites(siteIds);
    return await rollupStreet(this.opts.db, { siteIds, tz: this.opts.tz, now, lookbackMs: this.lookbackMs, period, sites })
      ?? this.recountStreet(siteIds, period, now);
  }

  /** The street figures counted from the tickets (what the rollup must equal: street-rollup.test.ts). */
  async recountStreet(siteIds: readonly string[], period: Period, now: number): Promise<StreetKpis> {
    return computeStreetKpis(await this.kpiTickets(siteIds, period), period, now, this.sites(siteIds)).report;
  }

  /**
   * The ticket ids behind one figure of one group (失分溯源); null when the group has no tickets.
   * Reads only the tickets that can belong to the group (drill-scope.ts): a group's lists
   * depend on its own tickets alone, so they are the lists a recount of the whole scope gives.
   * Ids sorted: the same list on every call, whatever order the database returns rows in.
   */
  async drill(siteIds: readonly string[], period: Period, now: number, dimension: KpiDimension | 'total', id: string, figure: KpiDrillName): Promise<string[] | null> {
    const sites = this.sites(siteIds);
    const scope = drillScope(siteIds, sites, dimension, id);
    if (scope === null) return null;
    const tickets = await kpiTickets(this.opts.db, scope.siteIds, period.from, period.to, this.lookbackMs, 'both', scope.filter);
    return computeStreetKpis(tickets, period, now, sites).drill(dimension, id, figure)?.sort() ?? null;
  }

  /** The per-day rollup of every site up to date (report-cron.ts runs it every 5 minutes). */
  refreshRollup(now: number): Promise<{ days: number }> {
    return refreshKpiRollup(this.opts.db, { siteIds: [...this.opts.registry.sites.keys()], tz: this.opts.tz, now, lookbackMs: this.lookbackMs });
  }

  /** Today (local day in TZ_REPORTS) so far. */
  today(siteIds: readonly string[], now: number): Promise<KpiSnapshot> {
    return this.snapshot(siteIds, periodOf('daily', now, this.opts.tz), now);
  }

  /** After each SLA sweep: today's snapshot per site on the bus. */
  async publishToday(now: number): Promise<void> {
    for (const siteId of this.opts.registry.sites.keys()) {
      this.opts.bus.emit('kpi.updated', await this.today([siteId], now));
    }
  }

  /** Computes and stores one report; a re-run replaces it. */
  async generate(kind: ReportKind, siteId: string, period: Period, now: number): Promise<StoredReport> {
    const snapshot = await this.snapshot([siteId], period, now);
    const report: StoredReport = {
      kind, siteId, periodStart: new Date(period.from).toISOString(), periodEnd: new Date(period.to).toISOString(),
      generatedAt: new Date(now).toISOString(), snapshot,
    };
    await saveReport(this.opts.db, report);
    this.opts.log.info({ kind, siteId, periodStart: report.periodStart, tickets: snapshot.tickets }, 'KPI report stored');
    return report;
  }

  /** The cron's job: the last complete period of `kind`, every site. */
  async generateDue(kind: ReportKind, now: number): Promise<StoredReport[]> {
    const period = previousPeriod(kind, now, this.opts.tz);
    const out: StoredReport[] = [];
    for (const siteId of this.opts.registry.sites.keys()) out.push(await this.generate(kind, siteId, period, now));
    return out;
  }

  /**
   * At start-up: the last complete period of every kind that has no report yet (the hub was
   * down when its cron time passed). Returns how many it generated.
   */
  async catchUp(now: number): Promise<number> {
    let n = 0;
    for (const kind of REPORT_KINDS) {
      const period = previousPeriod(kind, now, this.opts.tz);
      for (const siteId of this.opts.registry.sites.keys()) {
        if (await hasReport(this.opts.db, kind, siteId, period.from)) continue;
        await this.generate(kind, siteId, period, now);
        n++;
      }
    }
    return n;
  }

  list(siteIds: readonly string[], kind: ReportKind | undefined, limit = 100): Promise<StoredReport[]> {
    return listReports(this.opts.db, siteIds, kind, limit);
  }

  /** The stored report of the period of `kind` containing `at`. */
  find(kind: ReportKind, siteId: string, at: number): Promise<StoredReport | null> {
    return getReport(this.opts.db, kind, siteId, periodOf(kind, at, this.opts.tz).from);
  }
}
