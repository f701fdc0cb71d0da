import type { Category } from '@shaobing/schemas';
import { CATEGORY_LABEL } from '../../tickets/core/complaint.ts';
import { ancestry, type GridIndex } from '../../tickets/core/routing.ts';

// 每月一题 (the month's top problem) and seasonal early warning (DESIGN §7), over plain ticket
// facts. Pure: the shell reads the facts and the clock.

/** What these analyses need of a ticket (dismissed ones and alerts under review are left out by the shell). */
export interface TicketFact { id: string; category: Category; cellId: string; deviceId?: string; openedAt: number }

export interface Period { from: number; to: number }

/** A problem is a category at a place: the ticket's 楼院 (compound), else its own cell. */
export function placeOf(index: GridIndex, cellId: string): { id: string; name: string } {
  const chain = ancestry(index, cellId);
  const cell = chain.find((c) => c.level === 'compound') ?? chain[0];
  return cell === undefined ? { id: cellId, name: cellId } : { id: cell.id, name: cell.name };
}

/** placeOf, walking the grid once per cell rather than once per ticket. */
function placesOf(index: GridIndex): (cellId: string) => { id: string; name: string } {
  const memo = new Map<string, { id: string; name: string }>();
  return (cellId) => {
    let p = memo.get(cellId);
    if (p === undefined) { p = placeOf(index, cellId); memo.set(cellId, p); }
    return p;
  };
}

export interface ProblemCandidate {
  category: Category;
  placeId: string;
  placeName: string;
  /** Tickets this month. */
  volume: number;
  /** Tickets the month before. */
  previous: number;
  /** (volume − previous) / previous; null when nothing the month before. */
  growth: number | null;
  /** Share of this month's tickets at a spot (device, else cell) that had another one this month. */
  repeatRate: number;
  /** volume × (1 + growth⁺) × (1 + repeatRate): big, rising and recurring problems first. */
  score: number;
  ticketIds: string[];
  /** The spots with most tickets (高频点位), for the evidence. */
  hotspots: Array<{ spot: string; count: number }>;
  reason: { 'zh-CN': string; en: string };
}

const key = (c: string, p: string): string => `${c}\u0000${p}`;

/** 每月一题 candidates for `month`, ranked by score (ties: volume, then name). */
export function monthlyProblemCandidates(facts: readonly TicketFact[], month: Period, before: Period, index: GridIndex, limit = 10): ProblemCandidate[] {
  const groups = new Map<string, { category: Category; place: { id: string; name: string }; now: TicketFact[]; prev: number }>();
  const placeFor = placesOf(index);
  for (const f of facts) {
    const inNow = f.openedAt >= month.from && f.openedAt < month.to;
    const inPrev = f.openedAt >= before.from && f.openedAt < before.to;
    if (!inNow && !inPrev) continue;
    const place = placeFor(f.cellId);
    const k = key(f.category, place.id);
    let g = groups.get(k);
    if (g === undefined) { g = { category: f.category, place, now: [], prev: 0 }; groups.set(k, g); }
    if (inNow) g.now.push(f); else g.prev++;
  }
  const out: ProblemCandidate[] = [];
  for (const g of groups.values()) {
    if (g.now.length === 0) continue;
    const spots = new Map<string, number>();
    for (const f of g.now) { const s = f.deviceId ?? f.cellId; spots.set(s, (spots.get(s) ?? 0) + 1); }
    const repeated = g.now.filter((f) => spots.get(f.deviceId ?? f.cellId)! > 1).length;
    const volume = g.now.length;
    const growth = g.prev === 0 ? null : (volume - g.prev) / g.prev;
    const repeatRate = repeated / volume;
    const score = volume * (1 + Math.max(growth ?? 0, 0)) * (1 + repeatRate);
    const cat = CATEGORY_LABEL[g.category];
    const pct = (x: number) => `${Math.round(x * 100)}%`;
    const growthZh = growth === null ? '上月无' : `环比${growth >= 0 ? '+' : ''}${pct(growth)}`;
    const growthEn = growth === null ? 'none last month' : `${growth >= 0 ? '+' : ''}${pct(growth)} on last month`;
    out.push({
      category: g.category, placeId: g.place.id, placeName: g.place.name, volume, previous: g.prev, growth, repeatRate, score,
      ticketIds: g.now.map((f) => f.id),
      hotspots: [...spots].map(([spot, count]) => ({ spot, count })).sort((a, b) => b.count - a.count || (a.spot < b.spot ? -1 : 1)).slice(0, 5),
      reason: {
        'zh-CN': `${g.place.name}${cat['zh-CN']}类工单 ${volume} 件，${growthZh}，重复发生率 ${pct(repeatRate)}`,
        en: `${volume} ${cat.en} tickets at ${g.place.name}, ${growthEn}, ${pct(repeatRate)} at spots that recurred`,
      },
    });
  }
  return out.sort((a, b) => b.score - a.score || b.volume - a.volume || (a.placeName < b.placeName ? -1 : 1)).slice(0, limit);
}

export interface SeasonalWarning {
  category: Category;
  placeId: string;
  placeName: string;
  basis: 'same_weeks_earlier_year' | 'recent_trend';
  /** Expected rise: tickets in the compared window ÷ the window before it. */
  ratio: number;
  /** The tickets the comparison counts (earlier years' or the recent window). */
  count: number;
  reason: { 'zh-CN': string; en: string };
}

const WEEK = 7 * 24 * 3600_000;
const YEAR = 364 * 24 * 3600_000; // 52 weeks: the same weekdays a year earlier

export interface SeasonalOptions {
  /** How far ahead to warn (weeks). */
  horizonWeeks?: number;
  /** Rise that warrants a warning. */
  minRatio?: number;
  /** Fewest tickets in the compared window for a warning (noise guard). */
  minCount?: number;
  /** Earlier years to look back. */
  years?: number;
  /** When the site's records begin (default: its oldest ticket among `facts`). */
  recordedSince?: number;
}

/** The windows a seasonal warning compares, [from, to) epoch ms: the same weeks of each earlier year and the weeks before them, then the recent trend. */
export interface SeasonalWindows { season: Period[]; base: Period[]; recent: Period; prior: Period }

export function seasonalWindows(now: number, opts: SeasonalOptions = {}): SeasonalWindows {
  const horizon = (opts.horizonWeeks ?? 4) * WEEK;
  const years = Array.from({ length: opts.years ?? 3 }, (_, i) => now - (i + 1) * YEAR);
  return {
    season: years.map((from) => ({ from, to: from + horizon })),
    base: years.map((from) => ({ from: from - horizon, to: from })),
    recent: { from: now - horizon, to: now },
    prior: { from: now - 2 * horizon, to: now - horizon },
  };
}

/** One category × cell's tickets counted in the seasonal windows (the store counts them: insights-service.ts). */
export interface SeasonalCounts {
  category: Category; cellId: string;
  /** Its oldest ticket (epoch ms). */
  first: number;
  /** Per earlier year, as SeasonalWindows. */
  season: number[]; base: number[]; recent: number; prior: number;
}

/** The seasonal counts of ticket facts, per category × cell (what the store's query returns). */
export function seasonalCountsOf(facts: readonly TicketFact[], now: number, opts: SeasonalOptions = {}): SeasonalCounts[] {
  const w = seasonalWindows(now, opts);
  const groups = new Map<string, SeasonalCounts>();
  const within = (t: number, p: Period): number => (t >= p.from && t < p.to ? 1 : 0);
  for (const f of facts) {
    const k = key(f.category, f.cellId);
    let g = groups.get(k);
    if (g === undefined) {
      g = { category: f.category, cellId: f.cellId, first: f.openedAt, season: w.season.map(() => 0), base: w.base.map(() => 0), recent: 0, prior: 0 };
      groups.set(k, g);
    }
    if (f.openedAt < g.first) g.first = f.openedAt;
    w.season.forEach((p, i) => { g.season[i]! += within(f.openedAt, p); });
    w.base.forEach((p, i) => { g.base[i]! += within(f.openedAt, p); });
    g.recent += within(f.openedAt, w.recent);
    g.prior += within(f.openedAt, w.prior);
  }
  return [...groups.values()];
}

/**
 * Seasonal early warning (季节性预警): for each category × place, the coming `horizon` weeks are
 * compared with the same weeks of earlier years against the `horizon` weeks before them ("last
 * July ×2.4 vs June"). Where no earlier year has tickets, the last `horizon` weeks against the
 * ones before (a rising trend), but only where records reach back before those weeks: a site
 * installed last week has no "before" to rise from. Strongest rises first (ties: category, place).
 */
export function seasonalWarnings(facts: readonly TicketFact[], now: number, index: GridIndex, opts: SeasonalOptions = {}): SeasonalWarning[] {
  return seasonalWarningsOf(seasonalCountsOf(facts, now, opts), now, index, opts);
}

/** seasonalWarnings from counts per category × cell (seasonalCountsOf, or the store's query). */
export function seasonalWarningsOf(counts: readonly SeasonalCounts[], now: number, index: GridIndex, opts: SeasonalOptions = {}): SeasonalWarning[] {
  const horizon = (opts.horizonWeeks ?? 4) * WEEK;
  const minRatio = opts.minRatio ?? 1.5;
  const minCount = opts.minCount ?? 3;
  let since = opts.recordedSince ?? Infinity;
  if (opts.recordedSince === undefined) for (const c of counts) if (c.first < since) since = c.first;
  const trendHasBase = since < now - horizon;
  const placeFor = placesOf(index);
  // A place's counts are its cells' sums.
  const groups = new Map<string, { category: Category; place: { id: string; name: string }; first: number; season: number; base: number; recent: number; prior: number }>();
  const sum = (xs: readonly number[]): number => xs.reduce((n, x) => n + x, 0);
  for (const c of counts) {
    const place = placeFor(c.cellId);
    const k = key(c.category, place.id);
    let g = groups.get(k);
    if (g === undefined) { g = { category: c.category, place, first: c.first, season: 0, base: 0, recent: 0, prior: 0 }; groups.set(k, g); }
    if (c.first < g.first) g.first = c.first;
    g.season += sum(c.season);
    g.base += sum(c.base);
    g.recent += c.recent;
    g.prior += c.prior;
  }
  // An earlier year has tickets of the group when its oldest is before a year ago.
  const yearAgo = (opts.years ?? 3) > 0 ? now - YEAR : -Infinity;
  const out: SeasonalWarning[] = [];
  for (const g of groups.values()) {
    const cat = CATEGORY_LABEL[g.category];
    const { season, base } = g;
    if (g.first < yearAgo && season > 0) {
      const ratio = season / Math.max(base, 1);
      if (ratio >= minRatio && season >= minCount) {
        out.push({
          category: g.category, placeId: g.place.id, placeName: g.place.name, basis: 'same_weeks_earlier_year', ratio, count: season,
          reason: {
            'zh-CN': `${g.place.name}${cat['zh-CN']}类工单往年同期 ×${ratio.toFixed(1)}（${season} 件，对比此前 ${base} 件）`,
            en: `${cat.en} tickets at ${g.place.name} the same weeks of earlier years ×${ratio.toFixed(1)} (${season} vs ${base} the weeks before)`,
          },
        });
      }
      continue;
    }
    if (!trendHasBase) continue;
    const { recent, prior } = g;
    const ratio = recent / Math.max(prior, 1);
    if (ratio >= minRatio && recent >= minCount) {
      out.push({
        category: g.category, placeId: g.place.id, placeName: g.place.name, basis: 'recent_trend', ratio, count: recent,
        reason: {
          'zh-CN': `${g.place.name}${cat['zh-CN']}类工单近 ${horizon / WEEK} 周 ×${ratio.toFixed(1)}（${recent} 件，对比此前 ${prior} 件），无往年数据`,
          en: `${cat.en} tickets at ${g.place.name} ×${ratio.toFixed(1)} over the last ${horizon / WEEK} weeks (${recent} vs ${prior}); no earlier year`,
        },
      });
    }
  }
  return out.sort((a, b) => b.ratio - a.ratio || b.count - a.count || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0) || (a.placeId < b.placeId ? -1 : a.placeId > b.placeId ? 1 : 0));
}
