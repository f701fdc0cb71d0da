/**
 * Ticket core (工单, DESIGN §6): pure functions over plain data and an explicit `now` (epoch ms).
 * No database, clock, timers or sockets here; the shell (Postgres tables, REST, node-cron sweep,
 * WebSocket) applies what these functions decide.
 *
 * How the shell uses it
 * ---------------------
 * Every change goes through one function:
 *   applyAction(ticket | null, action, actor, now, slaPolicy?) →
 *     { ok: true, ticket, changed, audit: AuditEntry[], events: TicketChange[] } | { ok: false, error: { code, message } }
 *   - persist with `UPDATE tickets SET … , version = ticket.version WHERE id = $1 AND version = $prev`
 *     (0 rows → HUB_ERR_VERSION_CONFLICT: re-read and, for system actions, re-plan);
 *     insert `audit` rows in the same transaction; publish `events` after commit.
 *   - `changed: false` = idempotent no-op (already warned / already linked): write nothing.
 *   - error codes are TICKET_ERROR_CODES (schemas); status and message in schemas/src/errors.ts.
 *   - REST: POST /api/tickets/:id/<action> with TICKET_ACTION_BODIES[action] →
 *     applyAction(t, { kind: action, ...body }, { id: username, role }, Date.now()).
 *   - UI buttons: allowedActions(ticket, role, username).
 *
 * Opening from rules: planDecision(decision, { active, recent?, newId, locationLabel, index, load?, policy? }, now)
 *   → { kind: 'open', ticket, action, actor }: INSERT the ticket (unique partial index on
 *       dedup_key WHERE status IN ACTIVE_TICKET_STATUSES); on unique violation another process
 *       won — load its live ticket and plan again (it becomes an add_occurrence). Then
 *       applyAction(null, action, actor, now) for the audit row and the "opened" event.
 *   → { kind: 'apply', ticketId, action, actor }: applyAction on that ticket.
 *   → { kind: 'ignore', reason }.
 *
 * Complaints (接诉即办): ticketFromComplaint(input, { newId, index, … }, now) → open it as above
 *   (actor `system:complaint` or the intake operator as system), then
 *   matchComplaint(complaintTicket, candidateProactiveTickets, index, now) → { proactive, preempted, links }
 *   and apply each link action to its ticket. Candidates: same site + category, live or
 *   resolved within 7 days.
 *
 * SLA sweep (node-cron, e.g. every 30 s): slaSweep(liveTickets, now, policy) → [{ ticketId, action }]
 *   apply each with actor { id: 'system:sla', role: 'system' }, in order, chaining the
 *   returned ticket. O(n); ~10k tickets cost a few ms (bench/sla-sweep.ts).
 *
 * 人工核准: with `reviewBelow` in the decision context, an AI alert under that confidence opens in
 *   `pending_review` (no SLA clock, no notification, invisible to workers); an operator's
 *   confirm_review dispatches it (clock from then), reject_review dismisses it as 误报. A
 *   confident repeat confirms it by itself (system); the device's all-clear does not end a review.
 *
 * Routing: buildGridIndex(site.grid, site.workers) once per site load; routeTicket(target, index, load?).
 */
export { applyAction, appendEvidence, reopenTicket } from './state-machine.ts';
export { ACTION_ROLES, LEGAL_FROM, allowedActions, isActive, precheck, roleMayTake } from './permissions.ts';
export { workerMayClaim, workerScope, workerSees } from './worker-scope.ts';
export { gridHops, metresBetween, nearestWorkers, offerTicket, othersOffered, takenFrom, type OfferPlace } from './offer.ts';
export { DEFAULT_DEVICE_CONFIRM_MS, resolveNeedsPhoto } from './state-machine.ts';
export { unconfirmedResolutions } from './device-confirm.ts';
export { alertConfidence, reviewBelowFor, reviewOf } from './review.ts';
export {
  computeDeadlines, DEFAULT_SLA_POLICY, isOverdue, respondedInTime, slaPolicyWith, slaSweep,
  type Deadlines, type SlaPolicy, type SlaWindow, type SweepAction,
} from './sla.ts';
export { ancestorAtLevel, ancestry, buildGridIndex, cellsWithin, routeTicket, type GridIndex, type Route, type RouteTarget } from './routing.ts';
export { COMPLAINT_MATCH_WINDOW_MS, matchComplaint, samePlace, ticketFromComplaint, type ComplaintContext, type ComplaintMatch } from './complaint.ts';
export {
  DEFAULT_RECURRENCE_WINDOW_MS, decisionActor, planDecision, ticketFromDecision,
  type DecisionContext, type DecisionPlan,
} from './from-decision.ts';
export { newTicket, type NewTicketInput } from './new-ticket.ts';
export {
  toIso, toMs,
  type Actor, type WorkerScope, type ApplyResult, type EpochMs, type OperatorTicketAction, type ReviewTicketAction, type SystemTicketAction,
  type TicketAction, type TicketActionKind, type TicketError,
} from './types.ts';
