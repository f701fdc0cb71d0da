import { describe, expect, it } from 'vitest';
import type { Ticket } from '@shaobing/schemas';
import {
  allowedActions, applyAction, planDecision, unconfirmedResolutions, workerScope, workerSees,
  type Actor, type TicketAction, type TicketActionKind,
} from '../src/tickets/core/index.ts';
import { DISPATCHER, evidence, INDEX, iso, makeTicket as make, MIN, T0, ticketIn as inStatus, WORKERS } from './tickets-fixtures.ts';

// Unit 1-2 has no worker of its own: its tickets route up to 一号院's cleaner, w-clean.
const makeTicket = (over: Partial<Ticket> = {}): Ticket => make({ cellId: 'U2', ...over });
const ticketIn = (status: Ticket['status'], over: Partial<Ticket> = {}): Ticket => inStatus(status, { cellId: 'U2', ...over });

/*
 * Grid workers in the pure ticket core: what a worker sees, and each action they may or may
 * not take, on their own ticket, someone else's, and an unassigned one of their team.
 */
const worker = (id: string): Actor => {
  const w = WORKERS.find((x) => x.id === id)!;
  return { id, role: 'worker', scope: workerScope('site1', w, INDEX) };
};
const CLEAN = worker('w-clean'); // P1 (一号院) and its units, team cleaning
const SEC = worker('w-sec'); // P1, team security
const camera = (over: Partial<Ticket> = {}): Ticket => makeTicket({ deviceVerifiable: false, deviceId: 'cam-1', ...over });
const unassigned = (over: Partial<Ticket> = {}): Ticket => {
  const { assigneeId: _none, ...t } = makeTicket(over);
  return t;
};

describe('what a worker sees', () => {
  it('their grid is their cell and every cell below it', () => {
    expect([...CLEAN.scope!.cellIds].sort()).toEqual(['P1', 'U1', 'U2']);
  });
  it('tickets assigned to them, and unassigned live tickets of their team in their grid; nothing else', () => {
    expect(workerSees(makeTicket(), CLEAN.scope!)).toBe(true); // routed to w-clean
    expect(makeTicket().assigneeId).toBe('w-clean');
    expect(workerSees(makeTicket({ cellId: 'U1', assigneeId: 'w-sec' }), CLEAN.scope!)).toBe(false);
    expect(workerSees(unassigned({ cellId: 'U2' }), CLEAN.scope!)).toBe(true);
    expect(workerSees(unassigned({ cellId: 'U3' }), CLEAN.scope!)).toBe(false); // 二号院: not their grid
    expect(workerSees(unassigned({ cellId: 'U1', team: 'security' }), CLEAN.scope!)).toBe(false); // not their team
    expect(workerSees(unassigned({ cellId: 'U1', siteId: 'other' }), CLEAN.scope!)).toBe(false);
    expect(workerSees({ ...unassigned({ cellId: 'U1' }), status: 'closed' }, CLEAN.scope!)).toBe(false); // nothing left to take
  });
});

describe('worker actions, one by one', () => {
  const NEVER: TicketActionKind[] = ['dispatch', 'rate', 'request_dismiss', 'approve_dismiss', 'reject_dismiss', 'reopen', 'open', 'add_occurrence', 'resolve_by_device', 'sla_warn', 'link', 'close', 'confirm_by_device'];
  for (const kind of NEVER) {
    it(`may never ${kind}, even on their own ticket`, () => {
      const t = ticketIn('accepted');
      const a = { kind, note: 'n', rating: 'satisfied', reasonCategory: 'test', evidence: evidence(1), deadline: 'resolve', ticketId: 'x', ticket: t } as unknown as TicketAction;
      const r = applyAction(kind === 'open' ? null : t, a, CLEAN, T0 + 30 * MIN);
      expect(!r.ok && r.error.code).toBe('HUB_ERR_FORBIDDEN');
    });
  }

  it('accept (接单): their dispatched ticket; not someone else\'s; an unassigned team ticket is taken (抢单)', () => {
    const mine = ticketIn('dispatched');
    const r = applyAction(mine, { kind: 'accept' }, CLEAN, T0 + 5 * MIN);
    expect(r.ok && r.ticket).toMatchObject({ status: 'accepted', acceptedAt: iso(T0 + 5 * MIN), assigneeId: 'w-clean' });
    const other = applyAction(mine, { kind: 'accept' }, SEC, T0 + 5 * MIN);
    expect(!other.ok && other.error.code).toBe('HUB_ERR_FORBIDDEN');
    const free = unassigned({ cellId: 'U2' });
    const taken = applyAction(free, { kind: 'accept' }, CLEAN, T0 + 6 * MIN);
    expect(taken.ok && taken.ticket).toMatchObject({ status: 'accepted', assigneeId: 'w-clean', dispatchedAt: iso(T0 + 6 * MIN) });
    // Once taken, the next one is too late.
    if (!taken.ok) return;
    const late = applyAction(taken.ticket, { kind: 'accept' }, worker('w-street-clean'), T0 + 7 * MIN);
    expect(late.ok).toBe(false);
    // An open ticket already routed to them still waits for the control room's dispatch.
    expect(applyAction(makeTicket(), { kind: 'accept' }, CLEAN, T0).ok).toBe(false);
  });

  it('arrive (到场): after accepting, once, with its time; not before', () => {
    expect(applyAction(ticketIn('dispatched'), { kind: 'arrive' }, CLEAN, T0 + 3 * MIN).ok).toBe(false);
    const r = applyAction(ticketIn('accepted'), { kind: 'arrive' }, CLEAN, T0 + 9 * MIN);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.ticket.arrivedAt).toBe(iso(T0 + 9 * MIN));
    expect(r.events[0]!.kind).toBe('arrived');
    expect(r.audit[0]).toMatchObject({ actor: 'w-clean', action: 'arrive', from: 'accepted', to: 'accepted' });
    const again = applyAction(r.ticket, { kind: 'arrive' }, CLEAN, T0 + 10 * MIN);
    expect(again.ok && again.changed).toBe(false);
    const other = applyAction(ticketIn('accepted'), { kind: 'arrive' }, SEC, T0 + 9 * MIN);
    expect(!other.ok && other.error.code).toBe('HUB_ERR_FORBIDDEN');
  });

  it('resolve (办结): a ticket the device cannot verify needs a photo when the site says so', () => {
    const t = ticketIn('accepted', { deviceVerifiable: false });
    const none = applyAction(t, { kind: 'resolve', note: '已清理', photoRequired: true }, CLEAN, T0 + 20 * MIN);
    expect(!none.ok && none.error.code).toBe('HUB_ERR_PHOTO_REQUIRED');
    const photo = applyAction(t, { kind: 'resolve', note: '已清理', photoRequired: true, photos: ['A1'] }, CLEAN, T0 + 20 * MIN);
    expect(photo.ok && photo.ticket.resolution).toEqual({ by: 'operator', note: '已清理', photos: ['A1'], verification: 'photo' });
    const waived = applyAction(t, { kind: 'resolve', note: '已清理', photoRequired: false }, CLEAN, T0 + 20 * MIN);
    expect(waived.ok && waived.ticket.resolution?.verification).toBe('unverified');
    expect(applyAction(t, { kind: 'resolve', note: 'x', photos: ['A1'] }, SEC, T0 + 20 * MIN).ok).toBe(false);
  });

  it('resolve of a device-verifiable ticket waits for the device for the hold time', () => {
    const r = applyAction(ticketIn('accepted'), { kind: 'resolve', note: '已清运', confirmWithinMs: 2 * MIN }, CLEAN, T0 + 20 * MIN);
    expect(r.ok && r.ticket.resolution).toMatchObject({ awaitingDevice: true, confirmBy: iso(T0 + 22 * MIN) });
    expect(r.ok && r.ticket.resolution?.verification).toBeUndefined();
  });

  it('escalate (求助): with a reason, on their own ticket', () => {
    const t = ticketIn('accepted');
    const bare = applyAction(t, { kind: 'escalate' }, CLEAN, T0 + 20 * MIN);
    expect(!bare.ok && bare.error.code).toBe('HUB_ERR_NOTE_REQUIRED');
    const r = applyAction(t, { kind: 'escalate', note: '需要清运车' }, CLEAN, T0 + 20 * MIN);
    expect(r.ok && r.ticket.escalationLevel).toBe(1);
    expect(applyAction(t, { kind: 'escalate', note: 'x' }, SEC, T0 + 20 * MIN).ok).toBe(false);
  });

  it('comment: on their own ticket only', () => {
    expect(applyAction(ticketIn('accepted'), { kind: 'comment', note: '路上' }, CLEAN, T0 + 3 * MIN).ok).toBe(true);
    expect(applyAction(ticketIn('accepted'), { kind: 'comment', note: '路上' }, SEC, T0 + 3 * MIN).ok).toBe(false);
  });

  it('allowedActions gives a worker exactly their buttons', () => {
    expect(allowedActions(ticketIn('dispatched'), 'worker', 'w-clean', CLEAN.scope)).toEqual(['accept', 'comment', 'escalate']);
    expect(allowedActions(ticketIn('accepted'), 'worker', 'w-clean', CLEAN.scope)).toEqual(['comment', 'resolve', 'escalate', 'arrive']);
    expect(allowedActions(ticketIn('accepted'), 'worker', 'w-sec', SEC.scope)).toEqual([]);
    expect(allowedActions(unassigned({ cellId: 'U2' }), 'worker', 'w-clean', CLEAN.scope)).toEqual(['accept']);
  });
});

describe('no fake closures', () => {
  const resolved = (): Ticket => {
    const r = applyAction(ticketIn('accepted'), { kind: 'resolve', note: '已清运', confirmWithinMs: 2 * MIN }, DISPATCHER, T0 + 20 * MIN);
    if (!r.ok) throw new Error(r.error.message);
    return r.ticket;
  };

  it('past confirmBy without the device: a reopen with the reading in its note; not before', () => {
    const t = resolved();
    expect(unconfirmedResolutions([t], T0 + 21 * MIN, () => 'fill_pct=92')).toEqual([]);
    const [due] = unconfirmedResolutions([t], T0 + 22 * MIN, () => 'fill_pct=92');
    expect(due?.action).toMatchObject({ kind: 'reopen' });
    const r = applyAction(t, due!.action, { id: 'system:device-confirm', role: 'system' }, T0 + 22 * MIN);
    expect(r.ok && r.ticket.status).toBe('reopened');
    expect(r.ok && r.audit[0]!.note).toContain('still reports fill_pct=92');
  });

  it("the device's all-clear confirms it: closed, device-verified; a resolution not waiting is left alone", () => {
    const t = resolved();
    const d = { kind: 'resolve_by_device' as const, ruleId: 'bin.full', siteId: 'site1', deviceId: 'bin-1', cellId: 'U1', dedupKey: t.dedupKey!, evidence: evidence(9) };
    const plan = planDecision(d, { active: null, recent: t, newId: 'n', locationLabel: '', index: INDEX }, T0 + 21 * MIN);
    expect(plan).toMatchObject({ kind: 'apply', ticketId: t.id, action: { kind: 'confirm_by_device' } });
    if (plan.kind !== 'apply') return;
    const r = applyAction(t, plan.action, plan.actor, T0 + 21 * MIN);
    expect(r.ok && r.ticket).toMatchObject({ status: 'closed', resolution: { awaitingDevice: false, verification: 'device' } });
    if (!r.ok) return;
    expect(unconfirmedResolutions([r.ticket], T0 + 60 * MIN, () => undefined)).toEqual([]);
    const photo = applyAction(ticketIn('accepted', { deviceVerifiable: false }), { kind: 'resolve', note: 'x', photos: ['A'] }, DISPATCHER, T0 + 20 * MIN);
    if (!photo.ok) throw new Error('setup');
    expect(planDecision({ ...d, dedupKey: photo.ticket.dedupKey! }, { active: null, recent: photo.ticket, newId: 'n', locationLabel: '', index: INDEX }, T0 + 21 * MIN).kind).toBe('ignore');
  });
});
