import type { Rate, Ticket } from '@shaobing/schemas';
import { toMs as ms, type EpochMs } from '../../tickets/core/types.ts';

export interface Period { from: EpochMs; to: EpochMs }

/** Running sums for one group of tickets (the site, one grid worker, one community). */
export interface Acc {
  /** Tickets opened in the period (the cohort), dismissed included. */
  tickets: number;
  respondMet: number;
  respondDue: number;
  resolved: number;
  resolvable: number;
  satisfied: number;
  rated: number;
  proactive: number;
  complaints: number;
  preempted: number;
  respondSumMs: number;
  respondN: number;
  resolveSumMs: number;
  resolveN: number;
  open: number;
  overdue: number;
}

export const newAcc = (): Acc => ({
  tickets: 0, respondMet: 0, respondDue: 0, resolved: 0, resolvable: 0, satisfied: 0, rated: 0, proactive: 0,
  complaints: 0, preempted: 0, respondSumMs: 0, respondN: 0, resolveSumMs: 0, resolveN: 0, open: 0, overdue: 0,
});

export function rate(numerator: number, denominator: number): Rate {
  return { value: denominator === 0 ? null : numerator / denominator, numerator, denominator };
}

/**
 * When the hub "responded": acceptance (接单), or a resolution that came first — a bin emptied
 * and verified by its sensor before anyone tapped "accept" was still answered.
 */
export function responseAt(t: Ticket): EpochMs | null {
  const a = t.acceptedAt === null ? null : ms(t.acceptedAt);
  const r = t.resolvedAt === null ? null : ms(t.resolvedAt);
  if (a === null) return r;
  return r === null ? a : Math.min(a, r);
}

const isLive = (s: Ticket['status']): boolean => s === 'open' || s === 'dispatched' || s === 'accepted' || s === 'reopened';

/**
 * Adds one ticket to a group (DESIGN §7):
 * - 响应率: a ticket is due for response in the period in which its outcome became known —
 *   at the response when it came in time, at respondBy when it did not (and respondBy ≤ now).
 *   So each ticket counts in exactly one period, early responders count without waiting for
 *   their deadline, and pending ones do not count yet. Dismissed tickets never count.
 * - 解决率, 满意率, proactive share, means: over the cohort opened in the period, dismissed
 *   excluded (满意率 over the rated ones; its latest rating counts).
 * - open/overdue: state at `now` of every ticket given, whatever its period.
 */
export function add(acc: Acc, t: Ticket, p: Period, now: EpochMs): void {
  const live = isLive(t.status);
  if (live) {
    acc.open++;
    const resolveBy = ms(t.resolveBy);
    if (now > resolveBy || (t.acceptedAt === null && now > ms(t.respondBy))) acc.overdue++;
  }
  if (t.status === 'dismissed') {
    const opened = ms(t.openedAt);
    if (opened >= p.from && opened < p.to) acc.tickets++;
    return;
  }
  const respondBy = ms(t.respondBy);
  const resp = responseAt(t);
  const met = resp !== null && resp <= respondBy;
  const outcomeAt = met ? resp : respondBy <= now ? respondBy : null;
  if (outcomeAt !== null && outcomeAt >= p.from && outcomeAt < p.to) {
    acc.respondDue++;
    if (met) acc.respondMet++;
  }

  const opened = ms(t.openedAt);
  if (opened < p.from || opened >= p.to) return;
  acc.tickets++;
  acc.resolvable++;
  if (t.status === 'resolved' || t.status === 'closed') acc.resolved++;
  if (t.rating !== undefined) {
    acc.rated++;
    if (t.rating !== 'unsatisfied') acc.satisfied++;
  }
  if (t.origin === 'proactive') acc.proactive++;
  else {
    acc.complaints++;
    if (t.preempted) acc.preempted++;
  }
  // Durations over the current SLA cycle, so a reopened ticket is judged on its 再派件.
  const start = ms(t.slaStartedAt);
  if (resp !== null && resp >= start) { acc.respondSumMs += resp - start; acc.respondN++; }
  if (t.resolvedAt !== null) {
    const r = ms(t.resolvedAt);
    if (r >= start) { acc.resolveSumMs += r - start; acc.resolveN++; }
  }
}
