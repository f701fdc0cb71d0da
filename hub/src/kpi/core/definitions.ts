import type { FollowUp, FollowUpOutcome, Ticket, Verification } from '@shaobing/schemas';
import { toMs as ms, type EpochMs } from '../../tickets/core/types.ts';

/**
 * The KPI definitions (DESIGN §7), one ticket at a time. Everything the figures count is
 * decided here, so an auditor reads one file to know what "responded" or "solved" means.
 *
 * A ticket as the KPIs see it: the ticket plus what is recorded beside it — the worker's
 * arrival on site (到场; a ticket field or the first 'arrive' audit row of the current cycle)
 * and the latest follow-up (回访).
 */
export type KpiTicket = Ticket & {
  arrivedAt?: string | null;
  followUp?: Pick<FollowUp, 'solved' | 'satisfied'> | null;
};

const isLive = (s: Ticket['status']): boolean => s === 'open' || s === 'dispatched' || s === 'accepted' || s === 'reopened';
/** ms of an ISO time in the current SLA cycle (at or after slaStartedAt), else null. */
function inCycle(start: EpochMs, iso: string | null | undefined): EpochMs | null {
  if (iso === null || iso === undefined) return null;
  const at = ms(iso);
  return at >= start ? at : null;
}

/**
 * When a person responded in the current SLA cycle: accepted (接单), arrived (到场), or an
 * operator resolved it — whichever came first. A device clearing the condition is never a
 * response: a bin that emptied itself in the sensor's eyes proves nothing about the cleaner.
 */
export function personResponseAt(t: KpiTicket): EpochMs | null {
  const start = ms(t.slaStartedAt);
  let best = inCycle(start, t.acceptedAt);
  const arrived = inCycle(start, t.arrivedAt);
  if (arrived !== null && (best === null || arrived < best)) best = arrived;
  if (t.resolution?.by === 'operator') {
    const r = inCycle(start, t.resolvedAt);
    if (r !== null && (best === null || r < best)) best = r;
  }
  return best;
}

/** 自动核销: the device resolved it and no person had responded before. */
export function isAutoResolved(t: KpiTicket): boolean {
  if (t.resolvedAt === null || t.resolution?.by !== 'device' || t.status === 'dismissed') return false;
  const p = personResponseAt(t);
  return p === null || p > ms(t.resolvedAt);
}

export type ResponseOutcome =
  /** A person responded by respondBy; counts at that moment. */
  | { kind: 'met'; at: EpochMs }
  /** respondBy passed without a person (a late response, or none); counts at respondBy. */
  | { kind: 'missed'; at: EpochMs }
  /** The device cleared it before the deadline and before anyone came: nobody was due. */
  | { kind: 'auto' }
  /** Deadline still ahead: not judged yet. */
  | { kind: 'pending' }
  /** Dismissed (剔除): out of every rate. */
  | { kind: 'excluded' };

/**
 * 响应率's verdict for one ticket at `now`. Each ticket is judged once, in the period its outcome
 * became known: at its response when in time, at its deadline otherwise. A device recovery
 * after the deadline does not rescue a missed response.
 */
export function responseOutcome(t: KpiTicket, now: EpochMs): ResponseOutcome {
  if (t.status === 'dismissed') return { kind: 'excluded' };
  const by = ms(t.respondBy);
  const p = personResponseAt(t);
  if (p !== null && p <= by) return { kind: 'met', at: p };
  if (isAutoResolved(t) && ms(t.resolvedAt!) <= by) return { kind: 'auto' };
  if (by <= now) return { kind: 'missed', at: by };
  return { kind: 'pending' };
}

/** Time to respond (current cycle start → a person's response), or null. */
export function timeToRespondMs(t: KpiTicket): number | null {
  const p = personResponseAt(t);
  return p === null ? null : p - ms(t.slaStartedAt);
}

/** Time to resolve over people's work only; 自动核销 and unresolved tickets give null. */
export function timeToResolveMs(t: KpiTicket): number | null {
  const r = inCycle(ms(t.slaStartedAt), t.resolvedAt);
  if (r === null || isAutoResolved(t)) return null;
  return r - ms(t.slaStartedAt);
}

export const isResolved = (t: Ticket): boolean => t.status === 'resolved' || t.status === 'closed';

/**
 * How a resolution is proven (null when not resolved): 'device' when the device resolved it or
 * confirmed a person's resolve, 'photo' when a person resolved it with photo evidence, else
 * 'unverified' — including a manual resolve still awaiting the device's confirmation (it turns
 * 'device' when confirmed, or the ticket reopens). The 解决率 counts 'device' and 'photo' only.
 * Tickets stored before `verification` existed are judged by who resolved them and their photos.
 */
export function verificationOf(t: Ticket): Verification | null {
  if (!isResolved(t)) return null;
  const r = t.resolution;
  if (r === undefined) return 'unverified';
  if (r.awaitingDevice === true) return 'unverified';
  if (r.verification !== undefined) return r.verification;
  if (r.by === 'device') return 'device';
  return (r.photos?.length ?? 0) > 0 || r.photoUrl !== undefined ? 'photo' : 'unverified';
}

/** 见面: a worker arrived on site in the current cycle. */
export const hasArrived = (t: KpiTicket): boolean => inCycle(ms(t.slaStartedAt), t.arrivedAt) !== null;

/** 双是 / 非双是 / 双否 of a follow-up. */
export function followUpOutcome(f: Pick<FollowUp, 'solved' | 'satisfied'>): FollowUpOutcome {
  if (f.solved && f.satisfied) return 'double_yes';
  return f.solved || f.satisfied ? 'not_double_yes' : 'double_no';
}

/** Overdue at `now`: live and past the resolve deadline, or past the response deadline unanswered. */
export function isOverdue(t: KpiTicket, now: EpochMs): boolean {
  if (!isLive(t.status)) return false;
  return now > ms(t.resolveBy) || (personResponseAt(t) === null && now > ms(t.respondBy));
}

export { isLive };

/** Everything the figures need of one ticket at `now`, worked out once and shared by every group it counts in. */
export interface Verdict {
  live: boolean;
  overdue: boolean;
  response: ResponseOutcome;
  opened: EpochMs;
  auto: boolean;
  resolved: boolean;
  /** How the resolution is proven; null when not resolved. */
  verification: Verification | null;
  arrived: boolean;
  followUp: FollowUpOutcome | null;
  respondMs: number | null;
  resolveMs: number | null;
}

/**
 * Whether a ticket is a case the KPIs count at all. 人工核准: an AI alert under review is no case
 * yet (not dispatched, no clock); once rejected it is dismissed (剔除) and counted as such.
 */
export function isKpiCase(t: Pick<KpiTicket, 'status'>): boolean {
  return t.status !== 'pending_review';
}

export function judge(t: KpiTicket, now: EpochMs): Verdict {
  return {
    live: isLive(t.status),
    overdue: isOverdue(t, now),
    response: responseOutcome(t, now),
    opened: ms(t.openedAt),
    auto: isAutoResolved(t),
    resolved: isResolved(t),
    verification: verificationOf(t),
    arrived: hasArrived(t),
    followUp: t.followUp == null ? null : followUpOutcome(t.followUp),
    respondMs: timeToRespondMs(t),
    resolveMs: timeToResolveMs(t),
  };
}
