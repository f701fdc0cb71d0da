import { offerTicket, type OfferPlace } from './offer.ts';
import { reviewOf } from './review.ts';
import type { RuleDecision, Ticket } from '@shaobing/schemas';
import { isActive } from './permissions.ts';
import { newTicket } from './new-ticket.ts';
import { routeTicket, type GridIndex } from './routing.ts';
import { DEFAULT_SLA_POLICY, type SlaPolicy } from './sla.ts';
import { toMs, type Actor, type EpochMs, type TicketAction } from './types.ts';

type OpenDecision = Extract<RuleDecision, { kind: 'open' }>;

/** A recurrence this soon after a manual resolution means the fix did not hold (DESIGN §6). */
export const DEFAULT_RECURRENCE_WINDOW_MS = 2 * 60 * 60_000;

export interface DecisionContext {
  /** The live ticket holding the decision's dedupKey (status in ACTIVE_TICKET_STATUSES), if any. */
  active: Ticket | null;
  /** The latest resolved/closed ticket of the dedupKey, if any: a recurrence may reopen it. */
  recent?: Ticket | null;
  /** Id for the ticket if one gets opened (the shell generates ids). */
  newId: string;
  /** Human place name for the board (the device's location label). */
  locationLabel: string;
  index: GridIndex;
  /** Open tickets per worker, to spread work within a cell. */
  load?: ReadonlyMap<string, number>;
  policy?: SlaPolicy;
  recurrenceWindowMs?: number;
  /** 抢单: offer a new ticket to this many nearest workers of its team (site offerNearest). */
  offer?: { nearest: number; place: OfferPlace };
  /** 人工核准: an AI alert under this confidence waits for an operator (site aiReview for the category). */
  reviewBelow?: number;
}

export type DecisionPlan =
  /** Insert `ticket`, then record applyAction(null, action, actor) (audit row + live event). */
  | { kind: 'open'; ticket: Ticket; action: TicketAction; actor: Actor }
  /** applyAction(<ticket ticketId>, action, actor). */
  | { kind: 'apply'; ticketId: string; action: TicketAction; actor: Actor }
  | { kind: 'ignore'; reason: string };

export const decisionActor = (d: RuleDecision): Actor => ({ id: `system:${d.ruleId}`, role: 'system' });

export function ticketFromDecision(d: OpenDecision, ctx: DecisionContext, now: EpochMs): Ticket {
  const route = routeTicket({ cellId: d.cellId, category: d.category }, ctx.index, ctx.load);
  const t = newTicket({
    id: ctx.newId,
    siteId: d.siteId,
    origin: 'proactive',
    ruleId: d.ruleId,
    dedupKey: d.dedupKey,
    severity: d.severity,
    category: d.category,
    title: d.title,
    description: d.description,
    cellId: d.cellId,
    ...(d.deviceId !== undefined ? { deviceId: d.deviceId } : {}),
    locationLabel: ctx.locationLabel,
    deviceVerifiable: d.deviceVerifiable,
    evidence: [d.evidence],
  }, route, now, ctx.policy ?? DEFAULT_SLA_POLICY);
  const routed = ctx.offer === undefined ? t : offerTicket(t, ctx.index, ctx.offer.place, ctx.offer.nearest);
  // Routed and offered already, so a confirmation dispatches it as it would have been.
  const review = ctx.reviewBelow === undefined ? null : reviewOf(d.evidence, ctx.reviewBelow);
  return review === null ? routed : { ...routed, status: 'pending_review', review };
}

/**
 * What a rule decision means for the tickets of its dedup key:
 * - open + a live ticket → add an occurrence (camera bursts merge, DESIGN §5);
 * - open + a ticket an operator resolved within the recurrence window → reopen it (再派件);
 *   a device-verified resolution is trusted, so a later recurrence is a new ticket;
 * - open otherwise → a new ticket (the unique index may still say another process won: then
 *   the shell re-reads the live ticket and plans again);
 * - resolve_by_device + a live device-verifiable ticket → resolve it; else nothing to do;
 * - an alert under review (人工核准): a repeat under the bar adds an occurrence, one at or over
 *   it confirms the review (system); the all-clear is ignored (the operator decides).
 */
export function planDecision(d: RuleDecision, ctx: DecisionContext, now: EpochMs): DecisionPlan {
  const actor = decisionActor(d);
  const active = ctx.active !== null && isActive(ctx.active.status) ? ctx.active : null;
  const inReview = ctx.active !== null && ctx.active.status === 'pending_review' ? ctx.active : null;
  if (inReview !== null) {
    // The operator decides an alert under review; the camera's "gone" does not decide for them.
    if (d.kind === 'resolve_by_device') return { kind: 'ignore', reason: 'the alert waits for review (人工核准)' };
    const sure = ctx.reviewBelow === undefined || reviewOf(d.evidence, ctx.reviewBelow) === null;
    return sure
      ? { kind: 'apply', ticketId: inReview.id, action: { kind: 'confirm_review', evidence: d.evidence }, actor }
      : { kind: 'apply', ticketId: inReview.id, action: { kind: 'add_occurrence', evidence: d.evidence }, actor };
  }
  if (d.kind === 'resolve_by_device') {
    // A manual resolve waiting for its device: the device's all-clear closes it (device-verified).
    const waiting = ctx.recent ?? null;
    if (active === null && waiting !== null && waiting.status === 'resolved' && waiting.resolution?.awaitingDevice === true) {
      return { kind: 'apply', ticketId: waiting.id, action: { kind: 'confirm_by_device', evidence: d.evidence }, actor };
    }
    if (active === null) return { kind: 'ignore', reason: 'no live ticket for this dedup key' };
    if (!active.deviceVerifiable) return { kind: 'ignore', reason: 'ticket is not device-verifiable' };
    return { kind: 'apply', ticketId: active.id, action: { kind: 'resolve_by_device', evidence: d.evidence }, actor };
  }
  if (active !== null) return { kind: 'apply', ticketId: active.id, action: { kind: 'add_occurrence', evidence: d.evidence }, actor };
  const recent = ctx.recent ?? null;
  if (
    recent !== null && (recent.status === 'resolved' || recent.status === 'closed')
    && recent.resolution?.by === 'operator' && recent.resolvedAt !== null
    && now - toMs(recent.resolvedAt) <= (ctx.recurrenceWindowMs ?? DEFAULT_RECURRENCE_WINDOW_MS)
  ) {
    return { kind: 'apply', ticketId: recent.id, action: { kind: 'reopen', evidence: d.evidence }, actor };
  }
  const ticket = ticketFromDecision(d, ctx, now);
  return { kind: 'open', ticket, action: { kind: 'open', ticket }, actor };
}
