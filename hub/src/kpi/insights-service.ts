import type { Category, PlanDevice } from '@shaobing/schemas';
import { HubError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { TicketService } from '../tickets/ticket-service.ts';
import { rankHotspots, type HotspotRanking } from './core/hotspots.ts';
import { monthlyProblemCandidates, placeOf, seasonalWarningsOf, seasonalWindows, type Period, type ProblemCandidate, type SeasonalCounts, type SeasonalWarning, type TicketFact } from './core/insights.ts';
import { localMidnight, periodOf } from './periods.ts';

export interface AdoptedProblem {
  siteId: string; month: string; category: Category; placeId: string; placeName: string; volume: number;
  adoptedBy: string; adoptedAt: string; note?: string;
  /** The same category × place the month after: did the root-cause work show? null while that month has not begun. */
  nextMonth: { volume: number; change: number | null } | null;
}

const DAY = 24 * 3600_000;

/** 每月一题 and seasonal warnings over the store (kpi/core/insights.ts decides). */
export class InsightsService {
  constructor(private readonly opts: { db: Db; tickets: TicketService; tz: string }) {}

  /** The tickets opened in [from, to) that count for 每月一题, 高频点位 and seasonal warnings. */
  async facts(siteId: string, from: number, to: number): Promise<TicketFact[]> {
    // Epoch ms as a number from the database (no text → Date per row); an index-only scan of
    // tickets_insight_facts (migration 120), never the rows with their documents.
    const rows = await this.opts.db.query<{ id: string; category: Category; cell_id: string; device_id: string | null; at: number }>(
      `SELECT id, category, cell_id, device_id, floor(extract(epoch FROM opened_at) * 1000)::float8 AS at FROM tickets
        WHERE site_id = $1 AND status NOT IN ('dismissed', 'pending_review') AND opened_at >= $2::timestamptz AND opened_at < $3::timestamptz`,
      [siteId, new Date(from).toISOString(), new Date(to).toISOString()]);
    return rows.map((r): TicketFact => (r.device_id ? { id: r.id, category: r.category, cellId: r.cell_id, deviceId: r.device_id, openedAt: r.at } : { id: r.id, category: r.category, cellId: r.cell_id, openedAt: r.at }));
  }

  private index(siteId: string) {
    const index = this.opts.tickets.gridIndex(siteId);
    if (index === undefined) throw new HubError('HUB_ERR_UNKNOWN_SITE', `no site ${siteId}`);
    return index;
  }

  private monthPeriod(month: string) {
    const m = /^(\d{4})-(\d{2})$/.exec(month);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new HubError('HUB_ERR_VALIDATION', `month ${month} is not YYYY-MM`);
    return periodOf('monthly', localMidnight({ y: Number(m[1]), m: Number(m[2]), d: 1 }, this.opts.tz), this.opts.tz);
  }

  async candidates(siteId: string, month: string): Promise<ProblemCandidate[]> {
    const p = this.monthPeriod(month);
    const before = periodOf('monthly', p.from - 1, this.opts.tz);
    return monthlyProblemCandidates(await this.facts(siteId, before.from, p.to), p, before, this.index(siteId));
  }

  async adopt(siteId: string, month: string, category: Category, placeId: string, by: string, now: number, note?: string): Promise<AdoptedProblem> {
    const found = (await this.candidates(siteId, month)).find((c) => c.category === category && c.placeId === placeId);
    const place = placeOf(this.index(siteId), placeId);
    await this.opts.db.query(
      `INSERT INTO monthly_problems (site_id, month, category, place_id, place_name, volume, adopted_by, adopted_at, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9)
       ON CONFLICT (site_id, month) DO UPDATE SET category = EXCLUDED.category, place_id = EXCLUDED.place_id, place_name = EXCLUDED.place_name,
         volume = EXCLUDED.volume, adopted_by = EXCLUDED.adopted_by, adopted_at = EXCLUDED.adopted_at, note = EXCLUDED.note`,
      [siteId, month, category, placeId, place.name, found?.volume ?? 0, by, new Date(now).toISOString(), note ?? null]);
    return (await this.adopted(siteId, now)).find((a) => a.month === month)!;
  }

  /** Adopted problems, newest month first, each with the next month's volume of the same category × place. */
  async adopted(siteId: string, now: number): Promise<AdoptedProblem[]> {
    const rows = await this.opts.db.query<{ month: string; category: Category; place_id: string; place_name: string; volume: number; adopted_by: string; adopted_at: Date; note: string | null }>(
      'SELECT * FROM monthly_problems WHERE site_id = $1 ORDER BY month DESC LIMIT 24', [siteId]);
    const index = this.index(siteId);
    const out: AdoptedProblem[] = [];
    for (const r of rows) {
      const next = periodOf('monthly', this.monthPeriod(r.month).to + DAY, this.opts.tz);
      let nextMonth: AdoptedProblem['nextMonth'] = null;
      if (now >= next.from) {
        const volume = (await this.facts(siteId, next.from, Math.min(next.to, now))).filter((f) => f.category === r.category && placeOf(index, f.cellId).id === r.place_id).length;
        nextMonth = { volume, change: r.volume === 0 ? null : (volume - r.volume) / r.volume };
      }
      out.push({
        siteId, month: r.month, category: r.category, placeId: r.place_id, placeName: r.place_name, volume: r.volume,
        adoptedBy: r.adopted_by, adoptedAt: r.adopted_at.toISOString(), ...(r.note !== null ? { note: r.note } : {}), nextMonth,
      });
    }
    return out;
  }

  /** 高频点位 of a window (kpi/core/hotspots.ts ranks); `devices` = the site's registry devices. */
  async hotspots(siteId: string, window: Period, devices: ReadonlyMap<string, PlanDevice>, opts: { category?: Category; limit?: number }): Promise<HotspotRanking> {
    return rankHotspots(await this.facts(siteId, window.from, window.to), siteId, window, this.index(siteId), devices, opts);
  }

  /** Warnings for the coming weeks, from up to 3 years of history. */
  async seasonal(siteId: string, now: number): Promise<SeasonalWarning[]> {
    return seasonalWarningsOf(await this.seasonalCounts(siteId, now), now, this.index(siteId));
  }

  /**
   * The tickets of the facts' window (3 years and 60 days) counted per category × cell in the
   * seasonal windows by the database: a few hundred rows instead of every ticket of 3 years,
   * the same counts as kpi/core seasonalCountsOf over the facts (insights-store.test.ts).
   */
  async seasonalCounts(siteId: string, now: number): Promise<SeasonalCounts[]> {
    const w = seasonalWindows(now);
    const params: unknown[] = [siteId, new Date(now - 3 * 365 * DAY - 60 * DAY).toISOString(), new Date(now).toISOString()];
    const count = (p: Period): string => {
      params.push(new Date(p.from).toISOString(), new Date(p.to).toISOString());
      return `count(*) FILTER (WHERE opened_at >= $${params.length - 1}::timestamptz AND opened_at < $${params.length}::timestamptz)::int`;
    };
    const season = w.season.map(count).join(', ');
    const base = w.base.map(count).join(', ');
    const rows = await this.opts.db.query<{ category: Category; cell_id: string; first: number; season: number[]; base: number[]; recent: number; prior: number }>(
      `SELECT category, cell_id, floor(extract(epoch FROM min(opened_at)) * 1000)::float8 AS first,
              ARRAY[${season}] AS season, ARRAY[${base}] AS base, ${count(w.recent)} AS recent, ${count(w.prior)} AS prior
         FROM tickets
        WHERE site_id = $1 AND status NOT IN ('dismissed', 'pending_review') AND opened_at >= $2::timestamptz AND opened_at < $3::timestamptz
        GROUP BY category, cell_id`,
      params);
    return rows.map((r) => ({ category: r.category, cellId: r.cell_id, first: r.first, season: r.season, base: r.base, recent: r.recent, prior: r.prior }));
  }
}
