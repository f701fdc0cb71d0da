import { ACTIVE_TICKET_STATUSES, MAX_ESCALATION_LEVEL, OPERATOR_ACTIONS, TICKET_STATUSES } from '@shaobing/schemas';
import type { OperatorAction, Ticket, TicketStatus, UserRole } from '@shaobing/schemas';
import type { Actor, TicketActionKind, TicketError, WorkerScope } from './types.ts';
import { workerMayClaim, workerSees } from './worker-scope.ts';

type ActorRole = UserRole | 'system';

const DISPATCHER_UP: readonly ActorRole[] = ['dispatcher', 'supervisor', 'admin'];
const SUPERVISOR_UP: readonly ActorRole[] = ['supervisor', 'admin'];
const SYSTEM: readonly ActorRole[] = ['system'];
/** Field actions: the grid worker on site, or the control room on their behalf. */
const FIELD: readonly ActorRole[] = ['worker', ...DISPATCHER_UP];

/**
 * Who may take each action (DESIGN §9 roles). Viewers read only. Operators never take system
 * actions: those happen because a device or a clock proved something, not because someone said so.
 */
export const ACTION_ROLES: Record<TicketActionKind, readonly ActorRole[]> = {
  dispatch: DISPATCHER_UP,
  accept: FIELD,
  arrive: FIELD,
  comment: FIELD,
  resolve: FIELD,
  rate: DISPATCHER_UP,
  request_dismiss: DISPATCHER_UP,
  approve_dismiss: SUPERVISOR_UP,
  reject_dismiss: SUPERVISOR_UP,
  // A worker escalates to ask for help (with a reason); the SLA sweep when overdue.
  escalate: [...FIELD, 'system'],
  reopen: [...DISPATCHER_UP, 'system'],
  open: SYSTEM,
  add_occurrence: SYSTEM,
  resolve_by_device: SYSTEM,
  sla_warn: SYSTEM,
  link: SYSTEM,
  close: SYSTEM,
  confirm_by_device: SYSTEM,
  // 人工核准 is the control room's check: never a worker's; the system only for a confident repeat.
  confirm_review: [...DISPATCHER_UP, 'system'],
  reject_review: DISPATCHER_UP,
};

const ACTIVE: readonly TicketStatus[] = ACTIVE_TICKET_STATUSES;
const ALL: readonly TicketStatus[] = TICKET_STATUSES;
/** Dismissal (剔除) can be asked for while the ticket lives, or after a resolution turned out to be a false alarm. */
const DISMISSABLE: readonly TicketStatus[] = [...ACTIVE, 'resolved'];

/** The statuses an action may start from (DESIGN §6). `open` starts from no ticket at all. */
export const LEGAL_FROM: Record<TicketActionKind, readonly TicketStatus[]> = {
  // Re-dispatch from `dispatched` is a reassignment, common before anyone accepted.
  dispatch: ['open', 'dispatched', 'reopened'],
  accept: ['dispatched'],
  // 到场 after 接单: the worker is on site (once; a repeat is a no-op).
  arrive: ['accepted'],
  comment: ALL,
  // Manual resolution only after someone accepted: the response clock must have stopped.
  resolve: ['accepted'],
  resolve_by_device: ACTIVE,
  // A closed ticket may still be rated late (回访 after an auto-close); 不满意 reopens it.
  rate: ['resolved', 'closed'],
  close: ['resolved'],
  confirm_by_device: ['resolved'],
  reopen: ['resolved', 'closed'],
  request_dismiss: DISMISSABLE,
  approve_dismiss: DISMISSABLE,
  reject_dismiss: DISMISSABLE,
  escalate: ACTIVE,
  add_occurrence: [...ACTIVE, 'pending_review'],
  sla_warn: ACTIVE,
  link: ALL,
  open: [],
  confirm_review: ['pending_review'],
  reject_review: ['pending_review'],
};

/** What may happen to an alert still under review besides the review itself: notes, repeats, links. */
const WHILE_IN_REVIEW = new Set<TicketActionKind>(['confirm_review', 'reject_review', 'comment', 'add_occurrence', 'link']);

export function isActive(status: TicketStatus): boolean {
  return status === 'open' || status === 'dispatched' || status === 'accepted' || status === 'reopened';
}

export function roleMayTake(role: ActorRole, kind: TicketActionKind): boolean {
  return ACTION_ROLES[kind].includes(role);
}

const err = (code: TicketError['code'], message: string): TicketError => ({ code, message });

/**
 * Checks that depend on the ticket and actor, not on the action's payload: role, status, and the
 * dismissal/escalation preconditions. Shared by applyAction and allowedActions so the UI never
 * offers a button the API would refuse.
 */
export function precheck(ticket: Ticket, kind: TicketActionKind, actor: Actor): TicketError | null {
  if (!roleMayTake(actor.role, kind)) return err('HUB_ERR_FORBIDDEN', `role ${actor.role} may not ${kind}`);
  // 抢单: a worker takes an unassigned team ticket of their grid straight from open/reopened.
  const claim = kind === 'accept' && actor.scope !== undefined && workerMayClaim(ticket, actor.scope);
  if (actor.role === 'worker') {
    const s = actor.scope;
    if (s === undefined || !workerSees(ticket, s)) return err('HUB_ERR_FORBIDDEN', 'this ticket is not yours');
    if (ticket.assigneeId !== s.workerId && !claim) return err('HUB_ERR_FORBIDDEN', 'this ticket is assigned to someone else');
  }
  if (ticket.status === 'pending_review' && !WHILE_IN_REVIEW.has(kind)) {
    return err('HUB_ERR_AWAITING_REVIEW', `cannot ${kind} an AI alert waiting for review (人工核准)`);
  }
  if (!LEGAL_FROM[kind].includes(ticket.status) && !claim) {
    return err('HUB_ERR_ILLEGAL_TRANSITION', `cannot ${kind} a ticket that is ${ticket.status}`);
  }
  const pending = ticket.dismissal !== undefined && ticket.dismissal.approvedBy === undefined;
  switch (kind) {
    case 'request_dismiss':
      return pending ? err('HUB_ERR_DISMISSAL_PENDING', 'a dismissal request is already waiting for approval') : null;
    case 'approve_dismiss':
    case 'reject_dismiss':
      if (!pending) return err('HUB_ERR_NO_DISMISSAL_PENDING', 'no dismissal request is waiting');
      // Four eyes: 剔除 removes a ticket from the KPIs, so nobody (admins included) approves their own request.
      if (kind === 'approve_dismiss' && ticket.dismissal?.requestedBy === actor.id) {
        return err('HUB_ERR_SELF_APPROVAL', 'a dismissal must be approved by someone other than the requester');
      }
      return null;
    case 'escalate':
      return ticket.escalationLevel >= MAX_ESCALATION_LEVEL
        ? err('HUB_ERR_MAX_ESCALATION', 'already escalated to the street (吹哨报到)') : null;
    case 'confirm_by_device':
      return ticket.resolution?.awaitingDevice === true ? null : err('HUB_ERR_ILLEGAL_TRANSITION', 'this resolution does not wait for its device');
    case 'resolve_by_device':
      return ticket.deviceVerifiable ? null : err('HUB_ERR_NOT_DEVICE_VERIFIABLE', 'this ticket cannot be resolved by its device');
    default:
      return null;
  }
}

/**
 * The operator actions the UI should offer for this ticket and role. Pass the operator's id to
 * hide "approve" on their own dismissal request.
 */
export function allowedActions(ticket: Ticket, role: UserRole, actorId = '', scope?: WorkerScope): OperatorAction[] {
  const actor: Actor = { id: actorId, role, ...(scope !== undefined ? { scope } : {}) };
  return OPERATOR_ACTIONS.filter((kind) => precheck(ticket, kind, actor) === null);
}
