import { KPI_DRILLS, type Category, type KpiDrillName } from '@shaobing/schemas';
import { add, isKpiCase, judge, newAcc, type Acc, type KpiTicket, type Period } from './core/index.ts';

/**
 * The per-day KPI rollup, pure (the shell is kpi-rollup.ts). A group's accumulator (kpi/core
 * accumulate.ts Acc) is additive over tickets and every figure is a list length, so a day can
 * be stored as the lengths of its lists, and a period of days is the sum of its days: the same
 * `add` of the KPI core decides every ticket, these functions only count and sum.
 *
 * A day is stored per leaf: the tickets of one cell × category × assignee. Every group a KPI
 * figure is given for (the scope, a site, 社区, 楼院, worker, category, 物业公司, and a cell's
 * hotspot count) is a union of whole leaves, so the snapshot (kpi-rollup.ts) and the street
 * figures (street-rollup.ts) both come from the same stored days by summing leaves.
 *
 * What a stored day leaves out is what depends on the clock: open / overdue ("now" figures of
 * the live tickets), added at read time. Everything else about a complete day (day.to ≤ the
 * time it was computed) is fixed by the tickets' state: a response judged in it happened (or
 * its deadline passed) inside it. Changes of state are caught by the kpi_dirty triggers.
 */

/** One group's list lengths (plus the proactive count the share needs). */
export type Counts = Record<KpiDrillName, number> & { proactive: number };

/** A group's figures as numbers: list lengths and the durations behind the means and medians. */
export interface Tally { counts: Counts; respondMs: number[]; resolveMs: number[] }

/** The stored form of a leaf: cell, category, assignee (null: none), counts in KPI_DRILLS order then proactive, durations. */
export type StoredLeaf = [cellId: string, category: Category, assigneeId: string | null, counts: number[], respondMs: number[], resolveMs: number[]];

/** A site's day: every leaf with a ticket fetched for the day, even one that counts nothing (the rankings list its groups). */
export interface DayRollup { leaves: StoredLeaf[] }

/** A leaf of a site being summed. */
export interface Leaf { siteId: string; cellId: string; category: Category; assigneeId: string | undefined; tally: Tally }

export function countsOf(a: Acc): Counts {
  const c = { proactive: a.proactive } as Counts;
  for (const k of KPI_DRILLS) c[k] = a.drill[k].length;
  return c;
}

const zeroCounts = (): Counts => {
  const c = { proactive: 0 } as Counts;
  for (const k of KPI_DRILLS) c[k] = 0;
  return c;
};

export const newTally = (): Tally => ({ counts: zeroCounts(), respondMs: [], resolveMs: [] });

/** Adds `from` into `into`. */
export function addTally(into: Tally, from: Tally): void {
  for (const k of KPI_DRILLS) into.counts[k] += from.counts[k];
  into.counts.proactive += from.counts.proactive;
  for (const x of from.respondMs) into.respondMs.push(x);
  for (const x of from.resolveMs) into.resolveMs.push(x);
}

/** An accumulator with a tally's figures (placeholder ids: a rolled-up figure is a count, not a list). */
export function accOf(t: Tally): Acc {
  const a = newAcc();
  for (const k of KPI_DRILLS) a.drill[k] = new Array<string>(t.counts[k]).fill('');
  a.proactive = t.counts.proactive;
  a.respondMs = t.respondMs;
  a.resolveMs = t.resolveMs;
  return a;
}

/** Adds a tally's figures into an accumulator (placeholder ids, as accOf). */
export function addTallyTo(into: Acc, t: Tally): void {
  for (const k of KPI_DRILLS) {
    const list = into.drill[k];
    for (let i = t.counts[k]; i > 0; i--) list.push('');
  }
  into.proactive += t.counts.proactive;
  for (const x of t.respondMs) into.respondMs.push(x);
  for (const x of t.resolveMs) into.resolveMs.push(x);
}

const tallyOfAcc = (a: Acc): Tally => ({ counts: countsOf(a), respondMs: a.respondMs.slice(), resolveMs: a.resolveMs.slice() });

/** Whether the recount of a period containing `p` fetches `t` for it (kpi-repo kpiRows' window, live tickets aside). */
const inWindow = (t: KpiTicket, p: Period, lookbackMs: number): boolean =>
  Date.parse(t.slaStartedAt) >= p.from - lookbackMs && Date.parse(t.openedAt) < p.to;

/** Leaves being accumulated, from tickets (the core's `add`) and from stored days. */
export class LeafAccs {
  private readonly fromTickets = new Map<string, { leaf: Omit<Leaf, 'tally'>; acc: Acc }>();
  private readonly fromDays = new Map<string, Leaf>();

  private accFor(t: KpiTicket): Acc {
    const key = `${t.siteId}\u0000${t.cellId}\u0000${t.category}\u0000${t.assigneeId ?? ''}`;
    let l = this.fromTickets.get(key);
    if (l === undefined) {
      l = { leaf: { siteId: t.siteId, cellId: t.cellId, category: t.category, assigneeId: t.assigneeId }, acc: newAcc() };
      this.fromTickets.set(key, l);
    }
    return l.acc;
  }

  /** One ticket as computeKpis adds it, `live` false: settled figures only. */
  addSettled(t: KpiTicket, p: Period, now: number): void {
    if (!isKpiCase(t)) return;
    add(this.accFor(t), t, p, now, { ...judge(t, now), live: false, overdue: false });
  }

  /** The settled figures of a part of a period (a day, or the partial day at either end) from kpiRows' tickets for it. */
  addPart(tickets: readonly KpiTicket[], p: Period, now: number, lookbackMs: number): void {
    for (const t of tickets) if (inWindow(t, p, lookbackMs)) this.addSettled(t, p, now);
  }

  /** A live ticket's "now" figures (open, overdue) and its groups; nothing of any period. */
  addLive(t: KpiTicket, now: number): void {
    if (!isKpiCase(t)) return;
    add(this.accFor(t), t, { from: 0, to: 0 }, now, judge(t, now));
  }

  /** Adds a stored day of a site. */
  addDay(siteId: string, d: DayRollup): void {
    for (const [cellId, category, assigneeId, counts, respondMs, resolveMs] of d.leaves) {
      const key = `${siteId}\u0000${cellId}\u0000${category}\u0000${assigneeId ?? ''}`;
      let l = this.fromDays.get(key);
      if (l === undefined) {
        l = { siteId, cellId, category, assigneeId: assigneeId ?? undefined, tally: newTally() };
        this.fromDays.set(key, l);
      }
      const c = l.tally.counts;
      KPI_DRILLS.forEach((k, i) => { c[k] += counts[i]!; });
      c.proactive += counts[KPI_DRILLS.length]!;
      for (const x of respondMs) l.tally.respondMs.push(x);
      for (const x of resolveMs) l.tally.resolveMs.push(x);
    }
  }

  /** Every leaf summed so far (a leaf met both in stored days and in tickets appears twice: sums are the same). */
  leaves(): Leaf[] {
    return [...this.fromDays.values(), ...[...this.fromTickets.values()].map(({ leaf, acc }) => ({ ...leaf, tally: tallyOfAcc(acc) }))];
  }

  /** A single site's accumulated tickets as a stored day. */
  toDay(): DayRollup {
    return {
      leaves: [...this.fromTickets.values()].map(({ leaf, acc }): StoredLeaf => {
        const c = countsOf(acc);
        return [leaf.cellId, leaf.category, leaf.assigneeId ?? null, [...KPI_DRILLS.map((k) => c[k]), c.proactive], acc.respondMs, acc.resolveMs];
      }),
    };
  }
}

/** Sums leaves into groups by `keyOf` (undefined: the leaf belongs to no group of this kind). */
export function groupLeaves(leaves: readonly Leaf[], keyOf: (l: Leaf) => string | undefined): Map<string, Tally> {
  const out = new Map<string, Tally>();
  for (const l of leaves) {
    const k = keyOf(l);
    if (k === undefined) continue;
    let t = out.get(k);
    if (t === undefined) { t = newTally(); out.set(k, t); }
    addTally(t, l.tally);
  }
  return out;
}

/**
 * A complete day's rollup from the tickets kpiRows fetched for it. Only tickets the recount of a
 * period containing the day would fetch for it count (current SLA cycle started since
 * day.from − lookbackMs, opened before day.to): kpiRows also returns every live ticket, whose
 * groups are added at read time.
 */
export function rollupDay(tickets: readonly KpiTicket[], day: Period, now: number, lookbackMs: number): DayRollup {
  const g = new LeafAccs();
  g.addPart(tickets, day, now, lookbackMs);
  return g.toDay();
}
