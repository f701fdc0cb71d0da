import { MAX_ESCALATION_LEVEL } from '@shaobing/schemas';
import type { Severity, Ticket } from '@shaobing/schemas';
import { toIso, toMs, type EpochMs, type TicketAction } from './types.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export interface SlaWindow { respondMs: number; resolveMs: number }

export interface SlaPolicy {
  /** Deadlines by severity, counted from the start of the SLA cycle (open or reopen). */
  windows: Record<Severity, SlaWindow>;
  /** Warn once when this fraction of a deadline's window has elapsed (DESIGN §6: 80 %). */
  warnRatio: number;
  /** While still overdue, climb one more rung of the ladder after this long (per severity). */
  escalationSpacingMs: Record<Severity, number>;
}

export const DEFAULT_SLA_POLICY: SlaPolicy = {
  windows: {
    critical: { respondMs: 5 * MIN, resolveMs: 2 * HOUR },
    high: { respondMs: 30 * MIN, resolveMs: DAY },
    normal: { respondMs: 2 * HOUR, resolveMs: 7 * DAY },
  },
  warnRatio: 0.8,
  // One response window per rung: a critical alarm reaches the street 5 min after reaching the community.
  escalationSpacingMs: { critical: 5 * MIN, high: 30 * MIN, normal: 2 * HOUR },
};

/** A policy from the defaults with some deadlines, the warn ratio or spacings replaced (SLA_POLICY). */
export function slaPolicyWith(o: {
  windows?: Partial<Record<Severity, Partial<SlaWindow>>>;
  warnRatio?: number;
  escalationSpacingMs?: Partial<Record<Severity, number>>;
} | null, base: SlaPolicy = DEFAULT_SLA_POLICY): SlaPolicy {
  if (!o) return base;
  const windows = { ...base.windows };
  for (const [sev, w] of Object.entries(o.windows ?? {}) as [Severity, Partial<SlaWindow>][]) windows[sev] = { ...windows[sev], ...w };
  return { windows, warnRatio: o.warnRatio ?? base.warnRatio, escalationSpacingMs: { ...base.escalationSpacingMs, ...o.escalationSpacingMs } };
}

export interface Deadlines { respondBy: string; resolveBy: string }

export function computeDeadlines(severity: Severity, startedAt: EpochMs, policy: SlaPolicy = DEFAULT_SLA_POLICY): Deadlines {
  const w = policy.windows[severity];
  return { respondBy: toIso(startedAt + w.respondMs), resolveBy: toIso(startedAt + w.resolveMs) };
}

/** Responded = accepted (接单) no later than respondBy. */
export function respondedInTime(t: Pick<Ticket, 'acceptedAt' | 'respondBy'>): boolean {
  return t.acceptedAt !== null && toMs(t.acceptedAt) <= toMs(t.respondBy);
}

/**
 * Overdue at `now`: a live ticket not accepted after respondBy, or not resolved after resolveBy.
 * Resolved/closed/dismissed tickets are never overdue.
 */
export function isOverdue(t: Ticket, now: EpochMs): boolean {
  if (t.status !== 'open' && t.status !== 'dispatched' && t.status !== 'accepted' && t.status !== 'reopened') return false;
  if (now > toMs(t.resolveBy)) return true;
  return t.acceptedAt === null && now > toMs(t.respondBy);
}

export interface SweepAction { ticketId: string; action: TicketAction }

/**
 * One pass of the SLA clock over live tickets. The shell applies each action with the
 * `system:sla` actor, in order, chaining the ticket returned by applyAction (a ticket may get
 * a warning and an escalation in one pass); its `UPDATE … WHERE version = $read` makes a
 * concurrent operator change win, and the next sweep re-derives what is still due.
 *
 * Per ticket, in this order:
 * - warn once per deadline at exactly warnRatio of its window (not after the deadline: an
 *   overdue ticket escalates instead, a late "80 %" warning would be noise);
 * - when overdue, escalate one rung (grid → community → street, never beyond): immediately
 *   when a deadline is newly missed (no escalation since it passed), then again only after
 *   escalationSpacingMs — so at most one rung per deadline step and per spacing.
 *
 * O(n), a few Date.parse per ticket, allocates only the returned actions.
 */
export function slaSweep(tickets: readonly Ticket[], now: EpochMs, policy: SlaPolicy = DEFAULT_SLA_POLICY): SweepAction[] {
  const out: SweepAction[] = [];
  const ratio = policy.warnRatio;
  for (let i = 0; i < tickets.length; i++) {
    const t = tickets[i]!;
    const s = t.status;
    if (s !== 'open' && s !== 'dispatched' && s !== 'accepted' && s !== 'reopened') continue;
    const start = toMs(t.slaStartedAt);
    const resolveBy = toMs(t.resolveBy);
    const respondPending = t.acceptedAt === null;
    const respondBy = respondPending ? toMs(t.respondBy) : Number.NaN;

    if (respondPending && !t.warnedRespond && now <= respondBy && now >= start + (respondBy - start) * ratio) {
      out.push({ ticketId: t.id, action: { kind: 'sla_warn', deadline: 'respond' } });
    }
    if (!t.warnedResolve && now <= resolveBy && now >= start + (resolveBy - start) * ratio) {
      out.push({ ticketId: t.id, action: { kind: 'sla_warn', deadline: 'resolve' } });
    }
    if (t.escalationLevel >= MAX_ESCALATION_LEVEL) continue;
    // The most recent missed deadline is the current "step".
    let missed = Number.NaN;
    if (now > resolveBy) missed = resolveBy;
    if (respondPending && now > respondBy && !(missed >= respondBy)) missed = respondBy;
    if (Number.isNaN(missed)) continue;
    const last = t.escalatedAt === null ? Number.NaN : toMs(t.escalatedAt);
    const due = Number.isNaN(last) || last < missed || now - last >= policy.escalationSpacingMs[t.severity];
    if (due) out.push({ ticketId: t.id, action: { kind: 'escalate' } });
  }
  return out;
}
