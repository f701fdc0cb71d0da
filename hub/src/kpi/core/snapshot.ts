import type { KpiRankingRow, KpiSnapshot } from '@shaobing/schemas';
import { ancestorAtLevel, type GridIndex } from '../../tickets/core/routing.ts';
import { add, figuresOf, newAcc, type Acc, type Period } from './accumulate.ts';
import { isKpiCase, judge, type KpiTicket } from './definitions.ts';

export interface KpiOptions {
  siteId?: string;
  /** To roll tickets up to their 社区 for the community ranking; without it that ranking is empty. */
  index?: GridIndex;
  /** Hotspot list length (高频点位). */
  hotspots?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function row(id: string, a: Acc): Omit<KpiRankingRow, 'rank'> {
  const f = figuresOf(a, null);
  return {
    id, tickets: f.tickets, responseRate: f.responseRate, resolutionRate: f.resolutionRate, satisfactionRate: f.satisfactionRate, overdue: f.overdue,
    resolvedDevice: f.resolvedDevice, resolvedPhoto: f.resolvedPhoto, resolvedUnverified: f.resolvedUnverified,
  };
}

/** null (nothing to judge) sorts after any real rate, including 0 %. */
const desc = (x: number | null, y: number | null): number => (y ?? -1) - (x ?? -1);

/**
 * Rankings (日监控排名): resolution rate, then response rate, then satisfaction, then fewer
 * overdue, then more tickets handled; equal keys share a rank (1, 2, 2, 4), id breaks the
 * display order only.
 */
export function rank(rows: Array<Omit<KpiRankingRow, 'rank'>>): KpiRankingRow[] {
  const key = (a: Omit<KpiRankingRow, 'rank'>, b: Omit<KpiRankingRow, 'rank'>): number =>
    desc(a.resolutionRate.value, b.resolutionRate.value)
    || desc(a.responseRate.value, b.responseRate.value)
    || desc(a.satisfactionRate.value, b.satisfactionRate.value)
    || a.overdue - b.overdue
    || b.tickets - a.tickets;
  const sorted = rows.slice().sort((a, b) => key(a, b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out: KpiRankingRow[] = [];
  sorted.forEach((r, i) => {
    const prev = out[i - 1];
    const same = prev !== undefined && key(prev, r) === 0;
    out.push({ ...r, rank: same ? prev.rank : i + 1 });
  });
  return out;
}

/**
 * The KPI snapshot of a period [from, to) at `now` (DESIGN §7). Pure: give it every ticket
 * that could count — those opened in the period, plus earlier ones whose response deadline or
 * live state falls in it (in practice: opened since `from` minus the longest response window,
 * plus all live tickets for open/overdue). See accumulate.ts for each definition.
 */
export function computeKpis(tickets: readonly KpiTicket[], period: Period, now: number, opts: KpiOptions = {}): KpiSnapshot {
  const total = newAcc();
  const workers = new Map<string, Acc>();
  const communities = new Map<string, Acc>();
  const cells = new Map<string, number>();
  const community = new Map<string, string | null>();
  const group = (m: Map<string, Acc>, id: string): Acc => {
    let a = m.get(id);
    if (a === undefined) { a = newAcc(); m.set(id, a); }
    return a;
  };
  for (const t of tickets) {
    if (!isKpiCase(t)) continue;
    const v = judge(t, now);
    add(total, t, period, now, v);
    if (t.assigneeId !== undefined) add(group(workers, t.assigneeId), t, period, now, v);
    if (opts.index !== undefined) {
      let c = community.get(t.cellId);
      if (c === undefined) { c = ancestorAtLevel(opts.index, t.cellId, 'community')?.id ?? null; community.set(t.cellId, c); }
      if (c !== null) add(group(communities, c), t, period, now, v);
    }
    const opened = Date.parse(t.openedAt);
    if (t.status !== 'dismissed' && opened >= period.from && opened < period.to) cells.set(t.cellId, (cells.get(t.cellId) ?? 0) + 1);
  }
  return snapshotOf({ total, workers, communities, cells }, period, now, opts);
}

/** One group's accumulators per figure: the whole scope, each worker, each 社区, and the hotspot count per cell. */
export interface SnapshotAccs { total: Acc; workers: ReadonlyMap<string, Acc>; communities: ReadonlyMap<string, Acc>; cells: ReadonlyMap<string, number> }

/** The snapshot of accumulated groups (computeKpis, or groups merged from stored per-day rollups: kpi/kpi-rollup.ts). */
export function snapshotOf(accs: SnapshotAccs, period: Period, now: number, opts: KpiOptions = {}): KpiSnapshot {
  const { total, workers, communities, cells } = accs;
  const hotspots = [...cells].map(([cellId, count]) => ({ cellId, count }))
    .sort((a, b) => b.count - a.count || (a.cellId < b.cellId ? -1 : 1))
    .slice(0, opts.hotspots ?? 10);
  const f = figuresOf(total, null);
  return {
    ...(opts.siteId !== undefined ? { siteId: opts.siteId } : {}),
    period: { from: iso(period.from), to: iso(period.to) },
    generatedAt: iso(now),
    tickets: f.tickets,
    responseRate: f.responseRate,
    resolutionRate: f.resolutionRate,
    satisfactionRate: f.satisfactionRate,
    proactiveShare: f.proactiveShare,
    open: f.open,
    overdue: f.overdue,
    meanTimeToRespondMs: f.meanTimeToRespondMs,
    meanTimeToResolveMs: f.meanTimeToResolveMs,
    complaintsPreempted: f.complaintsPreempted,
    autoResolved: f.autoResolved,
    resolvedDevice: f.resolvedDevice,
    resolvedPhoto: f.resolvedPhoto,
    resolvedUnverified: f.resolvedUnverified,
    medianTimeToRespondMs: f.medianTimeToRespondMs,
    medianTimeToResolveMs: f.medianTimeToResolveMs,
    hotspots,
    workers: rank([...workers].map(([id, a]) => row(id, a))),
    communities: rank([...communities].map(([id, a]) => row(id, a))),
  };
}
