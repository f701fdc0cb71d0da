import { describe, expect, it } from 'vitest';
import { OPERATOR_ROLES, TICKET_STATUSES, type Ticket, type TicketStatus } from '@shaobing/schemas';
import { allowedActions, applyAction, type Actor, type TicketAction, type TicketActionKind } from '../src/tickets/core/index.ts';
import { ADMIN, DISPATCHER, evidence, MIN, SUPERVISOR, SUPERVISOR2, SYSTEM, T0, ticketIn, iso } from './tickets-fixtures.ts';

const ACTIVE: TicketStatus[] = ['open', 'dispatched', 'accepted', 'reopened'];
const ALL = [...TICKET_STATUSES];

/** Written out independently of LEGAL_FROM: DESIGN §6 as this test reads it. */
const EXPECTED: Record<TicketActionKind, { from: TicketStatus[]; to: TicketStatus | 'same' }> = {
  dispatch: { from: ['open', 'dispatched', 'reopened'], to: 'dispatched' },
  accept: { from: ['dispatched'], to: 'accepted' },
  comment: { from: ALL, to: 'same' },
  resolve: { from: ['accepted'], to: 'resolved' },
  rate: { from: ['resolved', 'closed'], to: 'closed' },
  request_dismiss: { from: [...ACTIVE, 'resolved'], to: 'same' },
  approve_dismiss: { from: [...ACTIVE, 'resolved'], to: 'dismissed' },
  reject_dismiss: { from: [...ACTIVE, 'resolved'], to: 'same' },
  escalate: { from: ACTIVE, to: 'same' },
  reopen: { from: ['resolved', 'closed'], to: 'reopened' },
  add_occurrence: { from: [...ACTIVE, 'pending_review'], to: 'same' },
  resolve_by_device: { from: ACTIVE, to: 'resolved' },
  sla_warn: { from: ACTIVE, to: 'same' },
  link: { from: ALL, to: 'same' },
  close: { from: ['resolved'], to: 'closed' },
  open: { from: [], to: 'open' },
  arrive: { from: ['accepted'], to: 'same' },
  confirm_by_device: { from: ['resolved'], to: 'closed' },
  // 人工核准: only an alert under review; confirmed → dispatched to its routed worker, rejected → 剔除.
  confirm_review: { from: ['pending_review'], to: 'dispatched' },
  reject_review: { from: ['pending_review'], to: 'dismissed' },
};
/** Nothing but the review, notes, repeats and links touches an alert under review (HUB_ERR_AWAITING_REVIEW). */
const WHILE_IN_REVIEW = new Set<TicketActionKind>(['confirm_review', 'reject_review', 'comment', 'add_occurrence', 'link']);

function actionOf(kind: TicketActionKind): TicketAction {
  switch (kind) {
    case 'dispatch': return { kind, assigneeId: 'w-clean' };
    case 'rate': return { kind, rating: 'satisfied' };
    case 'request_dismiss': return { kind, reasonCategory: 'false_alarm', note: 'n' };
    case 'add_occurrence': case 'resolve_by_device': case 'confirm_by_device': return { kind, evidence: evidence(7) };
    case 'sla_warn': return { kind, deadline: 'resolve' };
    case 'link': return { kind, ticketId: 'c-1' };
    case 'confirm_review': case 'reject_review': return { kind };
    case 'open': throw new Error('not here');
    default: return { kind, note: 'because' } as TicketAction;
  }
}
const SYSTEM_KINDS = new Set<TicketActionKind>(['add_occurrence', 'resolve_by_device', 'sla_warn', 'link', 'close', 'confirm_by_device']);

function prepared(status: TicketStatus, kind: TicketActionKind): Ticket {
  const t = ticketIn(status);
  // A manual resolve still waiting for its device (the only resolution confirm_by_device accepts).
  if (kind === 'confirm_by_device') return { ...t, resolution: { by: 'operator', note: 'emptied', awaitingDevice: true, confirmBy: iso(T0 + 60 * MIN) } };
  if (kind !== 'approve_dismiss' && kind !== 'reject_dismiss') return t;
  // A pending request by someone else, whatever the status, so only the status decides.
  return { ...t, dismissal: { requestedBy: 'disp', requestedAt: iso(T0), reasonCategory: 'test', note: 'drill' } };
}

describe('state machine: every status × action', () => {
  const kinds = (Object.keys(EXPECTED) as TicketActionKind[]).filter((k) => k !== 'open');
  for (const kind of kinds) {
    for (const status of ALL) {
      const legal = EXPECTED[kind].from.includes(status);
      it(`${kind} from ${status} is ${legal ? 'legal' : 'illegal'}`, () => {
        const t = prepared(status, kind);
        const actor: Actor = SYSTEM_KINDS.has(kind) ? SYSTEM : ADMIN;
        const now = T0 + 30 * MIN;
        const r = applyAction(t, actionOf(kind), actor, now);
        if (!legal) {
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.error.code).toBe(status === 'pending_review' && !WHILE_IN_REVIEW.has(kind) ? 'HUB_ERR_AWAITING_REVIEW' : 'HUB_ERR_ILLEGAL_TRANSITION');
          return;
        }
        expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
        if (!r.ok) return;
        const to = EXPECTED[kind].to === 'same' ? status : EXPECTED[kind].to;
        expect(r.ticket.status).toBe(to);
        expect(r.ticket.version).toBe(t.version + 1);
        expect(r.events).toHaveLength(1);
        expect(r.events[0]!.from).toBe(status);
        if (kind === 'add_occurrence') { expect(r.audit).toEqual([]); return; }
        expect(r.audit).toHaveLength(1);
        expect(r.audit[0]).toMatchObject({ ticketId: t.id, at: iso(now), actor: actor.id, action: kind, from: status, to });
      });
    }
  }

  it('open creates from nothing, writes an audit row from null, refuses an existing ticket', () => {
    const fresh = ticketIn('open');
    const r = applyAction(null, { kind: 'open', ticket: fresh }, { id: 'system:bin-overflow', role: 'system' }, T0);
    expect(r.ok && r.ticket).toEqual(fresh);
    expect(r.ok && r.audit[0]).toMatchObject({ actor: 'system:bin-overflow', action: 'open', from: null, to: 'open' });
    expect(r.ok && r.events[0]!.kind).toBe('opened');
    const again = applyAction(fresh, { kind: 'open', ticket: fresh }, SYSTEM, T0);
    expect(!again.ok && again.error.code).toBe('HUB_ERR_TICKET_EXISTS');
    const missing = applyAction(null, { kind: 'accept' }, ADMIN, T0);
    expect(!missing.ok && missing.error.code).toBe('HUB_ERR_TICKET_NOT_FOUND');
  });
});

describe('roles', () => {
  const ROLE_TABLE: Record<string, TicketActionKind[]> = {
    viewer: [],
    dispatcher: ['dispatch', 'accept', 'arrive', 'comment', 'resolve', 'rate', 'request_dismiss', 'escalate', 'reopen', 'confirm_review', 'reject_review'],
    supervisor: ['dispatch', 'accept', 'arrive', 'comment', 'resolve', 'rate', 'request_dismiss', 'escalate', 'reopen', 'approve_dismiss', 'reject_dismiss', 'confirm_review', 'reject_review'],
    admin: ['dispatch', 'accept', 'arrive', 'comment', 'resolve', 'rate', 'request_dismiss', 'escalate', 'reopen', 'approve_dismiss', 'reject_dismiss', 'confirm_review', 'reject_review'],
    // A confident repeat of the alert confirms a review by itself; rejecting is a person's call.
    system: ['escalate', 'reopen', 'open', 'add_occurrence', 'resolve_by_device', 'sla_warn', 'link', 'close', 'confirm_by_device', 'confirm_review'],
  };
  const kinds = Object.keys(EXPECTED) as TicketActionKind[];
  for (const [role, permitted] of Object.entries(ROLE_TABLE)) {
    for (const kind of kinds) {
      const may = permitted.includes(kind);
      it(`${role} ${may ? 'may' : 'may not'} ${kind}`, () => {
        const actor = { id: `${role}-1`, role } as Actor;
        const action = kind === 'open' ? { kind, ticket: ticketIn('open') } as TicketAction : actionOf(kind);
        const r = applyAction(kind === 'open' ? null : ticketIn('open'), action, actor, T0 + MIN);
        if (may) expect(!r.ok && r.error.code).not.toBe('HUB_ERR_FORBIDDEN');
        else expect(!r.ok && r.error.code).toBe('HUB_ERR_FORBIDDEN');
      });
    }
  }

  it('allowedActions shows only what the API accepts', () => {
    const open = ticketIn('open');
    expect(allowedActions(open, 'viewer')).toEqual([]);
    expect(allowedActions(open, 'dispatcher')).toEqual(['dispatch', 'comment', 'request_dismiss', 'escalate']);
    expect(allowedActions(ticketIn('resolved'), 'dispatcher')).toEqual(['comment', 'rate', 'request_dismiss', 'reopen']);
    expect(allowedActions(ticketIn('dismissed'), 'admin')).toEqual(['comment']);
    const pending = applyAction(open, { kind: 'request_dismiss', reasonCategory: 'duplicate', note: 'dup of t1' }, SUPERVISOR, T0 + MIN);
    if (!pending.ok) throw new Error('setup');
    expect(allowedActions(pending.ticket, 'supervisor', 'sup')).toEqual(['dispatch', 'comment', 'reject_dismiss', 'escalate']);
    expect(allowedActions(pending.ticket, 'supervisor', 'sup2')).toContain('approve_dismiss');
    expect(allowedActions(pending.ticket, 'dispatcher', 'disp')).not.toContain('approve_dismiss');
    for (const role of OPERATOR_ROLES) {
      for (const kind of allowedActions(open, role)) {
        const r = applyAction(open, actionOf(kind), { id: 'x', role }, T0 + MIN);
        expect(r.ok, `${role} ${kind}`).toBe(true);
      }
    }
  });
});
