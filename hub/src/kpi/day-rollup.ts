import { KPI_DRILLS, type KpiDrillName } from '@shaobing/schemas';
import { add, isKpiCase, judge, newAcc, type Acc, type KpiTicket, type Period } from './core/index.ts';

/**
 * The per-day KPI rollup, pure (the shell is kpi-rollup.ts). A group's accumulator (kpi/core
 * accumulate.ts Acc) is additive over tickets and every figure is a list length, so a day can
 * be stored as the lengths of its lists, and a period of days is the sum of its days: the same
 * `add` of the KPI core decides every ticket, these functions only count and sum.
 *
 * What a stored day leaves out is what depends on the clock: open / overdue ("now" figures of
 * the live tickets), added at read time. Everything else about a complete day (day.to ≤ the
 * time it was computed) is fixed by the tickets' state: a response judged in it happened (or
 * its deadline passed) inside it. Changes of state are caught by the kpi_dirty triggers.
 */

/** One group's list lengths (plus the proactive count the share needs). */
export type Counts = Record<KpiDrillName, number> & { proactive: number };

export interface DayRollup {
  total: Counts & { respondMs: number[]; resolveMs: number[] };
  /** Every worker / cell with a ticket fetched for the day, even one that counts nothing (the rankings list them). */
  workers: Record<string, Counts>;
  cells: Record<string, Counts>;
  /** 高频点位: non-dismissed tickets opened in the day per cell (count > 0 only). */
  hotspots: Record<string, number>;
}

export function countsOf(a: Acc): Counts {
  const c = { proactive: a.proactive } as Counts;
  for (const k of KPI_DRILLS) c[k] = a.drill[k].length;
  return c;
}

/** Adds `c` into the accumulator `into` (placeholder ids: a rolled-up figure is a count, not a list). */
export function addCounts(into: Acc, c: Counts): void {
  for (const k of KPI_DRILLS) for (let i = 0; i < c[k]; i++) into.drill[k].push('');
  into.proactive += c.proactive;
}

/** Whether the recount of a period containing `p` fetches `t` for it (kpi-repo kpiRows' window, live tickets aside). */
const inWindow = (t: KpiTicket, p: Period, lookbackMs: number): boolean =>
  Date.parse(t.slaStartedAt) >= p.from - lookbackMs && Date.parse(t.openedAt) < p.to;

const group = (m: Map<string, Acc>, id: string): Acc => {
  let a = m.get(id);
  if (a === undefined) { a = newAcc(); m.set(id, a); }
  return a;
};

/** Groups being accumulated: the scope, per worker, per cell, and the hotspot counts. */
export class GroupAccs {
  readonly total = newAcc();
  readonly workers = new Map<string, Acc>();
  readonly cells = new Map<string, Acc>();
  readonly hotspots = new Map<string, number>();

  /** One ticket as computeKpis adds it, `live` false: settled figures only. */
  addSettled(t: KpiTicket, p: Period, now: number): void {
    if (!isKpiCase(t)) return;
    const v = { ...judge(t, now), live: false, overdue: false };
    this.addVerdict(t, p, now, v);
    const opened = Date.parse(t.openedAt);
    if (t.status !== 'dismissed' && opened >= p.from && opened < p.to) this.hotspots.set(t.cellId, (this.hotspots.get(t.cellId) ?? 0) + 1);
  }

  /** The settled figures of a part of a period (a day, or the partial day at either end) from kpiRows' tickets for it. */
  addPart(tickets: readonly KpiTicket[], p: Period, now: number, lookbackMs: number): void {
    for (const t of tickets) if (inWindow(t, p, lookbackMs)) this.addSettled(t, p, now);
  }

  /** A live ticket's "now" figures (open, overdue) and its groups; nothing of any period. */
  addLive(t: KpiTicket, now: number): void {
    if (!isKpiCase(t)) return;
    this.addVerdict(t, { from: 0, to: 0 }, now, judge(t, now));
  }

  private addVerdict(t: KpiTicket, p: Period, now: number, v: ReturnType<typeof judge>): void {
    add(this.total, t, p, now, v);
    if (t.assigneeId !== undefined) add(group(this.workers, t.assigneeId), t, p, now, v);
    add(group(this.cells, t.cellId), t, p, now, v);
  }

  /** Adds a stored day. */
  addDay(d: DayRollup): void {
    addCounts(this.total, d.total);
    this.total.respondMs.push(...d.total.respondMs);
    this.total.resolveMs.push(...d.total.resolveMs);
    for (const [id, c] of Object.entries(d.workers)) addCounts(group(this.workers, id), c);
    for (const [id, c] of Object.entries(d.cells)) addCounts(group(this.cells, id), c);
    for (const [id, n] of Object.entries(d.hotspots)) this.hotspots.set(id, (this.hotspots.get(id) ?? 0) + n);
  }

  toDay(): DayRollup {
    const counts = (m: Map<string, Acc>) => Object.fromEntries([...m].map(([id, a]) => [id, countsOf(a)]));
    return {
      total: { ...countsOf(this.total), respondMs: this.total.respondMs, resolveMs: this.total.resolveMs },
      workers: counts(this.workers), cells: counts(this.cells), hotspots: Object.fromEntries(this.hotspots),
    };
  }
}

/**
 * A complete day's rollup from the tickets kpiRows fetched for it. Only tickets the recount of a
 * period containing the day would fetch for it count (current SLA cycle started since
 * day.from − lookbackMs, opened before day.to): kpiRows also returns every live ticket, whose
 * groups are added at read time.
 */
export function rollupDay(tickets: readonly KpiTicket[], day: Period, now: number, lookbackMs: number): DayRollup {
  const g = new GroupAccs();
  g.addPart(tickets, day, now, lookbackMs);
  return g.toDay();
}
