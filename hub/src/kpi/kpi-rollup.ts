import type { KpiSnapshot } from '@shaobing/schemas';
import type { Db, Queryable } from '../store/db.ts';
import { ancestorAtLevel, type GridIndex } from '../tickets/core/index.ts';
import { snapshotOf, type Acc, type Period } from './core/index.ts';
import { accOf, groupLeaves, LeafAccs, newTally, rollupDay, type DayRollup, type Leaf, type Tally } from './day-rollup.ts';
import { kpiTickets } from './kpi-tickets.ts';
import { periodOf } from './periods.ts';

/**
 * The per-day KPI rollup (migrations/107_kpi_daily_rollup.sql; the maths in day-rollup.ts).
 * Past periods' KPIs are the sum of their stored days, plus the partial days at either end and
 * the live tickets' open / overdue counted as a recount does: the same snapshot, without
 * reading a month of tickets and their documents.
 *
 * Freshness: every ticket change, follow-up and arrival leaves a kpi_dirty row (triggers, same
 * transaction); each refresh, and so each read, first recomputes the stored days those rows
 * touch. The maintenance cron refreshes every few minutes so reads find little to do; a read
 * never serves a day older than the changes committed before it.
 */

/** Stored rows of another format are recomputed (bump when DayRollup or what add() counts changes). */
export const ROLLUP_FORMAT = 2;
/** Days kept (the longest period the KPI routes serve live is 93 days). */
export const ROLLUP_DAYS = 93;
const LOCK_KEY = 0x5348_4b52; // "SHKR"
const DAY = 86_400_000;

export interface RollupOptions {
  siteIds: readonly string[];
  /** TZ_REPORTS: the days are local days. */
  tz: string;
  now: number;
  /** The longest response window (KpiService.lookbackMs): how far before a day a ticket can open and count in it. */
  lookbackMs: number;
}

/** The whole local days inside [from, to), in order. */
export function wholeDays(from: number, to: number, tz: string): Period[] {
  const out: Period[] = [];
  let p = periodOf('daily', from, tz);
  if (p.from < from) p = periodOf('daily', p.to, tz);
  while (p.to <= to) {
    out.push(p);
    p = periodOf('daily', p.to, tz);
  }
  return out;
}

/** Every local day [from, to] touches (both ends included). */
function daysTouching(from: number, to: number, tz: string): number[] {
  const out: number[] = [];
  for (let p = periodOf('daily', from, tz); p.from <= to; p = periodOf('daily', p.to, tz)) out.push(p.from);
  return out;
}

async function storeDay(q: Queryable, siteId: string, day: Period, o: RollupOptions): Promise<void> {
  const tickets = await kpiTickets(q, [siteId], day.from, day.to, o.lookbackMs, 'window');
  const acc = rollupDay(tickets, day, o.now, o.lookbackMs);
  await q.query(
    `INSERT INTO kpi_daily (site_id, day_start, day_end, computed_at, format, lookback_ms, acc)
     VALUES ($1, $2::timestamptz, $3::timestamptz, $4::timestamptz, $5, $6, $7::jsonb)
     ON CONFLICT (site_id, day_start) DO UPDATE
       SET day_end = excluded.day_end, computed_at = excluded.computed_at, format = excluded.format, lookback_ms = excluded.lookback_ms, acc = excluded.acc`,
    [siteId, new Date(day.from).toISOString(), new Date(day.to).toISOString(), new Date(o.now).toISOString(), ROLLUP_FORMAT, o.lookbackMs, JSON.stringify(acc)]);
}

/**
 * Brings the rollup up to date: recomputes the stored days the pending kpi_dirty rows touch,
 * and computes the complete days of `range` (default: the last ROLLUP_DAYS days, from the first
 * ticket on) that are missing. One refresher at a time (advisory lock); returns the days written.
 */
export async function refreshKpiRollup(db: Db, o: RollupOptions & { range?: Period }): Promise<{ days: number }> {
  const today = periodOf('daily', o.now, o.tz).from;
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    const todo = new Map<string, Map<number, Period>>();
    const want = (siteId: string, day: Period): void => {
      let m = todo.get(siteId);
      if (m === undefined) { m = new Map(); todo.set(siteId, m); }
      m.set(day.from, day);
    };
    // A ticket counts in the days from its opening to its response deadline, and is fetched
    // (listed in the rankings) until lookbackMs after its cycle started: the days to redo.
    const dirty = await tx.query<{ site_id: string; opened_at: Date; until: Date }>(
      `DELETE FROM kpi_dirty RETURNING site_id, opened_at, greatest(respond_by, sla_started_at + $1::interval) AS until`, [`${o.lookbackMs} milliseconds`]);
    const touched = new Map<string, Set<number>>();
    for (const r of dirty) {
      let s = touched.get(r.site_id);
      if (s === undefined) { s = new Set(); touched.set(r.site_id, s); }
      for (const d of daysTouching(r.opened_at.getTime(), Math.min(r.until.getTime(), today - 1), o.tz)) s.add(d);
    }
    const sites = [...new Set([...o.siteIds, ...touched.keys()])];
    const stored = await tx.query<{ site_id: string; day_start: Date; day_end: Date; format: number; lookback_ms: number }>(
      'SELECT site_id, day_start, day_end, format, lookback_ms FROM kpi_daily WHERE site_id = ANY($1::text[])', [sites]);
    const have = new Set<string>();
    for (const r of stored) {
      const key = `${r.site_id}|${r.day_start.getTime()}`;
      const day = { from: r.day_start.getTime(), to: r.day_end.getTime() };
      if (r.format !== ROLLUP_FORMAT || r.lookback_ms !== o.lookbackMs || touched.get(r.site_id)?.has(day.from)) want(r.site_id, day);
      else have.add(key);
    }
    for (const siteId of o.siteIds) {
      let from = o.range?.from ?? today - ROLLUP_DAYS * DAY;
      if (o.range === undefined) {
        const first = await tx.query<{ at: Date | null }>('SELECT min(opened_at) AS at FROM tickets WHERE site_id = $1', [siteId]);
        if (first[0]?.at == null) continue;
        from = Math.max(from, first[0].at.getTime());
      }
      for (const day of wholeDays(periodOf('daily', from, o.tz).from, Math.min(o.range?.to ?? today, today), o.tz)) {
        if (!have.has(`${siteId}|${day.from}`)) want(siteId, day);
      }
    }
    let n = 0;
    for (const [siteId, days] of todo) {
      for (const day of days.values()) {
        if (day.to > today) continue; // not complete yet: read live
        await storeDay(tx, siteId, day, o);
        n++;
      }
    }
    return { days: n };
  });
}

export interface RollupReadOptions extends RollupOptions {
  period: Period;
}

export interface RollupSnapshotOptions extends RollupReadOptions {
  siteId?: string;
  index?: GridIndex;
}

/**
 * The leaves of `period` from the rollup: its complete local days from kpi_daily, the rest
 * (the day in progress, a partial first day) and the live tickets read as a recount reads them.
 * null when the period holds no complete past day (a recount is as cheap).
 */
export async function rollupLeaves(db: Db, o: RollupReadOptions): Promise<Leaf[] | null> {
  const { period, now, lookbackMs } = o;
  const today = periodOf('daily', now, o.tz).from;
  const days = wholeDays(period.from, Math.min(period.to, today), o.tz);
  if (days.length === 0) return null;
  const first = days[0]!.from;
  const last = days[days.length - 1]!.to;
  // One round trip when the rollup is current (no pending change, every day stored), which the
  // 5-minute refresh makes the usual case; else refresh, then read.
  const read = () => db.query<{ site_id: string; acc: DayRollup; dirty: boolean }>(
    `SELECT site_id, acc, EXISTS (SELECT 1 FROM kpi_dirty) AS dirty FROM kpi_daily
      WHERE site_id = ANY($1::text[]) AND day_start >= $2::timestamptz AND day_start < $3::timestamptz AND format = $4 AND lookback_ms = $5`,
    [o.siteIds, new Date(first).toISOString(), new Date(last).toISOString(), ROLLUP_FORMAT, o.lookbackMs]);
  const expected = days.length * o.siteIds.length;
  // The partial days and the live tickets do not depend on the stored days: read them meanwhile
  // (on a server store, on other pool connections).
  const parts = [{ from: period.from, to: first }, { from: last, to: period.to }].filter((part) => part.from < part.to)
    .map(async (part) => ({ part, tickets: await kpiTickets(db, o.siteIds, part.from, part.to, lookbackMs, 'window') }));
  const live = kpiTickets(db, o.siteIds, period.from, period.to, lookbackMs, 'live');
  // Settled before any early return, so no read is left unobserved.
  const others = Promise.all([Promise.all(parts), live]);
  others.catch(() => undefined);
  let rows = await read();
  if (rows.length !== expected || rows.some((r) => r.dirty)) {
    await refreshKpiRollup(db, { ...o, range: { from: first, to: last } });
    rows = await read();
  }
  const [partTickets, liveTickets] = await others;
  if (rows.length !== expected) return null;
  const g = new LeafAccs();
  for (const r of rows) g.addDay(r.site_id, r.acc);
  for (const { part, tickets } of partTickets) g.addPart(tickets, part, now, lookbackMs);
  for (const t of liveTickets) g.addLive(t, now);
  return g.leaves();
}

/** The KPI snapshot of summed leaves: what computeKpis gives for the same tickets. */
export function snapshotOfLeaves(leaves: readonly Leaf[], period: Period, now: number, o: { siteId?: string; index?: GridIndex }): KpiSnapshot {
  const accs = (m: Map<string, Tally>): Map<string, Acc> => new Map([...m].map(([id, t]) => [id, accOf(t)]));
  const community = new Map<string, string | undefined>();
  const communityOf = (cellId: string): string | undefined => {
    if (!community.has(cellId)) community.set(cellId, ancestorAtLevel(o.index!, cellId, 'community')?.id);
    return community.get(cellId);
  };
  const cells = new Map<string, number>();
  for (const [cellId, t] of groupLeaves(leaves, (l) => l.cellId)) {
    const n = t.counts.tickets - t.counts.dismissed; // 高频点位: non-dismissed tickets opened in the period
    if (n > 0) cells.set(cellId, n);
  }
  return snapshotOf({
    total: accOf(groupLeaves(leaves, () => '').get('') ?? newTally()),
    workers: accs(groupLeaves(leaves, (l) => l.assigneeId)),
    communities: o.index === undefined ? new Map() : accs(groupLeaves(leaves, (l) => communityOf(l.cellId))),
    cells,
  }, period, now, { ...(o.siteId !== undefined ? { siteId: o.siteId } : {}), ...(o.index ? { index: o.index } : {}) });
}

/** The snapshot of `period` from the rollup (rollupLeaves); null when it holds no complete past day. */
export async function rollupSnapshot(db: Db, o: RollupSnapshotOptions): Promise<KpiSnapshot | null> {
  const leaves = await rollupLeaves(db, o);
  return leaves === null ? null : snapshotOfLeaves(leaves, o.period, o.now, o);
}
