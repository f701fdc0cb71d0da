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

/**
 * Seasonal early warning (季节性预警): for each category × place, the coming `horizon` weeks are
 * compared with the same weeks of earlier years against the `horizon` weeks before them ("last
 * July ×2.4 vs June"). Where no earlier year has tickets, the last `horizon` weeks against the
 * ones before (a rising trend), but only where records reach back before those weeks: a site
 * installed last week has no "before" to rise from. Strongest rises first.
 */
export function seasonalWarnings(facts: readonly TicketFact[], now: number, index: GridIndex, opts: SeasonalOptions = {}): SeasonalWarning[] {
  const horizon = (opts.horizonWeeks ?? 4) * WEEK;
  const minRatio = opts.minRatio ?? 1.5;
  const minCount = opts.minCount ?? 3;
  const years = opts.years ?? 3;
  let since = opts.recordedSince ?? Infinity;
  if (opts.recordedSince === undefined) for (const f of facts) if (f.openedAt < since) since = f.openedAt;
  const trendHasBase = since < now - horizon;
  const groups = new Map<string, { category: Category; place: { id: string; name: string }; at: number[] }>();
  const placeFor = placesOf(index);
  for (const f of facts) {
    const place = placeFor(f.cellId);
    const k = key(f.category, place.id);
    let g = groups.get(k);
    if (g === undefined) { g = { category: f.category, place, at: [] }; groups.set(k, g); }
    g.at.push(f.openedAt);
  }
  const count = (xs: readonly number[], from: number, to: number) => xs.reduce((n, t) => n + (t >= from && t < to ? 1 : 0), 0);
  const out: SeasonalWarning[] = [];
  for (const g of groups.values()) {
    const cat = CATEGORY_LABEL[g.category];
    let season = 0;
    let base = 0;
    let hasHistory = false;
    for (let y = 1; y <= years; y++) {
      const from = now - y * YEAR;
      if (g.at.some((t) => t < from)) hasHistory = true;
      season += count(g.at, from, from + horizon);
      base += count(g.at, from - horizon, from);
    }
    if (hasHistory && season > 0) {
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
    const recent = count(g.at, now - horizon, now);
    const prior = count(g.at, now - 2 * horizon, now - horizon);
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
  return out.sort((a, b) => b.ratio - a.ratio || b.count - a.count);
}
