import { describe, expect, it } from 'vitest';
import { MAX_TICKET_EVIDENCE, type AuditEntry, type Ticket } from '@shaobing/schemas';
import { applyAction, DEFAULT_SLA_POLICY, type ApplyResult } from '../src/tickets/core/index.ts';
import { ADMIN, DISPATCHER, evidence, HOUR, iso, makeTicket, MIN, must, SUPERVISOR, SUPERVISOR2, SYSTEM, T0, ticketIn } from './tickets-fixtures.ts';

const ok = (r: ApplyResult): Extract<ApplyResult, { ok: true }> => {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r;
};
const code = (r: ApplyResult): string | undefined => (r.ok ? undefined : r.error.code);

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') { Object.values(o).forEach(deepFreeze); Object.freeze(o); }
  return o;
}

describe('happy path and audit trail', () => {
  it('open → dispatched → accepted → resolved → closed, one audit row per step', () => {
    const audit: AuditEntry[] = [];
    let t = makeTicket();
    const steps = [
      [{ kind: 'dispatch', note: 'to cleaner' }, DISPATCHER, T0 + MIN],
      [{ kind: 'accept' }, DISPATCHER, T0 + 2 * MIN],
      [{ kind: 'comment', note: 'on the way' }, DISPATCHER, T0 + 3 * MIN],
      [{ kind: 'resolve', note: 'emptied', photoUrl: 'https://x/p.jpg' }, DISPATCHER, T0 + 9 * MIN],
      [{ kind: 'rate', rating: 'basically_satisfied', note: 'ok' }, ADMIN, T0 + HOUR],
    ] as const;
    for (const [action, actor, now] of steps) {
      const r = ok(applyAction(deepFreeze(t), action, actor, now));
      audit.push(...r.audit);
      t = r.ticket;
    }
    expect(t).toMatchObject({
      status: 'closed', assigneeId: 'w-u1', version: 6, rating: 'basically_satisfied',
      dispatchedAt: iso(T0 + MIN), acceptedAt: iso(T0 + 2 * MIN), resolvedAt: iso(T0 + 9 * MIN), closedAt: iso(T0 + HOUR),
      resolution: { by: 'operator', note: 'emptied', photoUrl: 'https://x/p.jpg' },
    });
    expect(audit.map((a) => [a.action, a.from, a.to, a.actor])).toEqual([
      ['dispatch', 'open', 'dispatched', 'disp'],
      ['accept', 'dispatched', 'accepted', 'disp'],
      ['comment', 'accepted', 'accepted', 'disp'],
      ['resolve', 'accepted', 'resolved', 'disp'],
      ['rate', 'resolved', 'closed', 'root'],
    ]);
    expect(audit[0]!.note).toBe('to cleaner');
    expect(audit[4]!.note).toBe('basically_satisfied: ok');
  });

  it('rejects a stale version before anything else', () => {
    const t = ticketIn('dispatched');
    expect(code(applyAction(t, { kind: 'accept', version: t.version - 1 }, DISPATCHER, T0))).toBe('HUB_ERR_VERSION_CONFLICT');
    expect(ok(applyAction(t, { kind: 'accept', version: t.version }, DISPATCHER, T0)).ticket.status).toBe('accepted');
  });

  it('needs an assignee to dispatch; the body may choose one', () => {
    const unrouted = makeTicket({ assigneeId: undefined });
    delete (unrouted as Partial<Ticket>).assigneeId;
    expect(code(applyAction(unrouted, { kind: 'dispatch' }, DISPATCHER, T0))).toBe('HUB_ERR_ASSIGNEE_REQUIRED');
    expect(ok(applyAction(unrouted, { kind: 'dispatch', assigneeId: 'w-sec' }, DISPATCHER, T0)).ticket.assigneeId).toBe('w-sec');
  });

  it('operators must give notes where DESIGN asks for them; blanks do not count', () => {
    const accepted = ticketIn('accepted');
    const resolved = ticketIn('resolved');
    expect(code(applyAction(accepted, { kind: 'resolve', note: '   ' }, DISPATCHER, T0))).toBe('HUB_ERR_NOTE_REQUIRED');
    expect(code(applyAction(accepted, { kind: 'comment', note: '' }, DISPATCHER, T0))).toBe('HUB_ERR_NOTE_REQUIRED');
    expect(code(applyAction(accepted, { kind: 'escalate' }, DISPATCHER, T0))).toBe('HUB_ERR_NOTE_REQUIRED');
    expect(code(applyAction(resolved, { kind: 'reopen' }, DISPATCHER, T0))).toBe('HUB_ERR_NOTE_REQUIRED');
    expect(code(applyAction(accepted, { kind: 'request_dismiss', reasonCategory: 'other', note: ' ' }, DISPATCHER, T0))).toBe('HUB_ERR_NOTE_REQUIRED');
    // The SLA sweep escalates without a note and gets a generated one.
    expect(ok(applyAction(accepted, { kind: 'escalate' }, SYSTEM, T0)).audit[0]!.note).toMatch(/community/);
  });

  it('never mutates its input', () => {
    const t = deepFreeze(ticketIn('accepted'));
    const copy = structuredClone(t);
    ok(applyAction(t, { kind: 'add_occurrence', evidence: evidence(3) }, SYSTEM, T0));
    ok(applyAction(t, { kind: 'resolve', note: 'done' }, DISPATCHER, T0));
    expect(t).toEqual(copy);
  });
});

describe('dismissal (剔除): request by a dispatcher, approval by another supervisor', () => {
  it('request → approve', () => {
    const t = ticketIn('dispatched');
    const req = ok(applyAction(t, { kind: 'request_dismiss', reasonCategory: 'false_alarm', note: 'sensor stuck' }, DISPATCHER, T0 + 5 * MIN));
    expect(req.ticket.status).toBe('dispatched');
    expect(req.ticket.dismissal).toEqual({ requestedBy: 'disp', requestedAt: iso(T0 + 5 * MIN), reasonCategory: 'false_alarm', note: 'sensor stuck' });
    expect(req.events[0]!.kind).toBe('dismissal');
    expect(code(applyAction(req.ticket, { kind: 'request_dismiss', reasonCategory: 'test', note: 'again' }, ADMIN, T0))).toBe('HUB_ERR_DISMISSAL_PENDING');
    expect(code(applyAction(req.ticket, { kind: 'approve_dismiss' }, DISPATCHER, T0))).toBe('HUB_ERR_FORBIDDEN');
    const approved = ok(applyAction(req.ticket, { kind: 'approve_dismiss', note: 'confirmed' }, SUPERVISOR, T0 + 6 * MIN));
    expect(approved.ticket.status).toBe('dismissed');
    expect(approved.ticket.dismissal).toMatchObject({ requestedBy: 'disp', approvedBy: 'sup', approvedAt: iso(T0 + 6 * MIN) });
    expect(approved.audit[0]).toMatchObject({ action: 'approve_dismiss', from: 'dispatched', to: 'dismissed', actor: 'sup', note: 'confirmed' });
  });

  it('nobody approves their own request, not even an admin', () => {
    const bySup = ok(applyAction(ticketIn('open'), { kind: 'request_dismiss', reasonCategory: 'test', note: 'drill' }, SUPERVISOR, T0)).ticket;
    expect(code(applyAction(bySup, { kind: 'approve_dismiss' }, SUPERVISOR, T0))).toBe('HUB_ERR_SELF_APPROVAL');
    expect(ok(applyAction(bySup, { kind: 'approve_dismiss' }, SUPERVISOR2, T0)).ticket.status).toBe('dismissed');
    const byAdmin = ok(applyAction(ticketIn('open'), { kind: 'request_dismiss', reasonCategory: 'test', note: 'drill' }, ADMIN, T0)).ticket;
    expect(code(applyAction(byAdmin, { kind: 'approve_dismiss' }, ADMIN, T0))).toBe('HUB_ERR_SELF_APPROVAL');
  });

  it('reject clears the request (kept in the audit) and allows a new one', () => {
    const req = ok(applyAction(ticketIn('accepted'), { kind: 'request_dismiss', reasonCategory: 'out_of_jurisdiction', note: 'city road' }, DISPATCHER, T0)).ticket;
    const rej = ok(applyAction(req, { kind: 'reject_dismiss', note: 'it is ours' }, SUPERVISOR, T0 + MIN));
    expect(rej.ticket.dismissal).toBeUndefined();
    expect(rej.ticket.status).toBe('accepted');
    expect(rej.audit[0]).toMatchObject({ action: 'reject_dismiss', note: 'it is ours' });
    expect(code(applyAction(rej.ticket, { kind: 'approve_dismiss' }, SUPERVISOR, T0))).toBe('HUB_ERR_NO_DISMISSAL_PENDING');
    expect(code(applyAction(req, { kind: 'reject_dismiss', note: ' ' }, SUPERVISOR, T0))).toBe('HUB_ERR_NOTE_REQUIRED');
    expect(ok(applyAction(rej.ticket, { kind: 'request_dismiss', reasonCategory: 'duplicate', note: 'dup' }, DISPATCHER, T0)).ok).toBe(true);
  });
});

describe('follow-up and reopening (再派件)', () => {
  it('不满意 reopens with fresh deadlines, then it is dispatched again', () => {
    let t = makeTicket({ severity: 'high' });
    t = must(t, { kind: 'dispatch' }, DISPATCHER, T0 + MIN);
    t = must(t, { kind: 'escalate', note: 'slow' }, DISPATCHER, T0 + 2 * MIN);
    t = must(t, { kind: 'accept' }, DISPATCHER, T0 + 3 * MIN);
    t = must(t, { kind: 'sla_warn', deadline: 'resolve' }, SYSTEM, T0 + 20 * HOUR);
    t = must(t, { kind: 'resolve', note: 'fixed' }, DISPATCHER, T0 + 21 * HOUR);
    const at = T0 + 30 * HOUR;
    const r = ok(applyAction(t, { kind: 'rate', rating: 'unsatisfied', note: 'still smells' }, ADMIN, at));
    const w = DEFAULT_SLA_POLICY.windows.high;
    expect(r.ticket).toMatchObject({
      status: 'reopened', rating: 'unsatisfied', reopenCount: 1, slaStartedAt: iso(at),
      respondBy: iso(at + w.respondMs), resolveBy: iso(at + w.resolveMs),
      warnedRespond: false, warnedResolve: false, escalationLevel: 0, escalatedAt: null,
      dispatchedAt: null, acceptedAt: null, resolvedAt: null, closedAt: null, openedAt: t.openedAt, assigneeId: 'w-u1',
    });
    expect(r.ticket.resolution).toBeUndefined();
    expect(r.audit[0]).toMatchObject({ action: 'rate', from: 'resolved', to: 'reopened', note: 'unsatisfied: still smells' });
    const again = ok(applyAction(r.ticket, { kind: 'dispatch' }, DISPATCHER, at + MIN));
    expect(again.ticket.status).toBe('dispatched');
  });

  it('a late rating of a closed ticket: satisfied keeps closedAt, unsatisfied reopens', () => {
    const closed = ticketIn('closed');
    const sat = ok(applyAction(closed, { kind: 'rate', rating: 'satisfied' }, DISPATCHER, T0 + DAY()));
    expect(sat.ticket.closedAt).toBe(closed.closedAt);
    expect(ok(applyAction(closed, { kind: 'rate', rating: 'unsatisfied' }, DISPATCHER, T0 + DAY())).ticket.status).toBe('reopened');
  });

  it('a recurrence (system reopen with evidence) counts an occurrence', () => {
    const t = ticketIn('resolved');
    const r = ok(applyAction(t, { kind: 'reopen', evidence: evidence(9) }, { id: 'system:bin-overflow', role: 'system' }, T0 + HOUR));
    expect(r.ticket).toMatchObject({ status: 'reopened', occurrences: 2 });
    expect(r.ticket.evidence.at(-1)!.eventKey).toBe('site1/bin-1/9');
    expect(r.audit[0]!.note).toMatch(/^recurred/);
  });
});
function DAY(): number { return 24 * HOUR; }

describe('device-verified resolution', () => {
  it('only when the ticket is deviceVerifiable', () => {
    const no = makeTicket({ deviceVerifiable: false });
    expect(code(applyAction(no, { kind: 'resolve_by_device', evidence: evidence(2) }, SYSTEM, T0))).toBe('HUB_ERR_NOT_DEVICE_VERIFIABLE');
    const r = ok(applyAction(makeTicket(), { kind: 'resolve_by_device', evidence: evidence(2) }, { id: 'system:bin-overflow', role: 'system' }, T0 + MIN));
    expect(r.ticket).toMatchObject({ status: 'resolved', resolvedAt: iso(T0 + MIN), resolution: { by: 'device', note: 'fill 92%' }, occurrences: 1 });
    expect(r.audit[0]).toMatchObject({ actor: 'system:bin-overflow', from: 'open', to: 'resolved' });
  });
});

describe('system bookkeeping', () => {
  it('occurrences count every repeat, evidence keeps the last 50, no audit row', () => {
    let t = makeTicket();
    for (let i = 1; i <= 60; i++) {
      const r = ok(applyAction(t, { kind: 'add_occurrence', evidence: evidence(i) }, SYSTEM, T0 + i * 1000));
      expect(r.audit).toEqual([]);
      expect(r.events[0]!.kind).toBe('occurrence');
      t = r.ticket;
    }
    expect(t.occurrences).toBe(61);
    expect(t.evidence).toHaveLength(MAX_TICKET_EVIDENCE);
    expect(t.evidence[0]!.eventKey).toBe('site1/bin-1/11');
    expect(t.evidence.at(-1)!.eventKey).toBe('site1/bin-1/60');
  });

  it('escalation climbs community then street, notifies the ladder, and stops', () => {
    const t = makeTicket({ category: 'security', cellId: 'U2' });
    const one = ok(applyAction(t, { kind: 'escalate' }, SYSTEM, T0 + MIN));
    expect(one.ticket).toMatchObject({ escalationLevel: 1, escalatedAt: iso(T0 + MIN) });
    expect(one.events[0]).toMatchObject({ kind: 'escalated', notify: 'w-comm' });
    const two = ok(applyAction(one.ticket, { kind: 'escalate', note: '吹哨' }, DISPATCHER, T0 + 2 * MIN));
    expect(two.events[0]).toMatchObject({ notify: 'w-street', note: '吹哨' });
    expect(code(applyAction(two.ticket, { kind: 'escalate' }, SYSTEM, T0 + 3 * MIN))).toBe('HUB_ERR_MAX_ESCALATION');
  });

  it('warnings and links are idempotent', () => {
    const w = ok(applyAction(makeTicket(), { kind: 'sla_warn', deadline: 'respond' }, SYSTEM, T0));
    expect(w.ticket.warnedRespond).toBe(true);
    expect(w.events[0]).toMatchObject({ kind: 'sla_warning', deadline: 'respond' });
    const again = ok(applyAction(w.ticket, { kind: 'sla_warn', deadline: 'respond' }, SYSTEM, T0));
    expect(again).toMatchObject({ changed: false, audit: [], events: [] });
    expect(again.ticket).toBe(w.ticket);
    const l = ok(applyAction(makeTicket({ origin: 'complaint' }), { kind: 'link', ticketId: 'p1', preempted: true }, SYSTEM, T0));
    expect(l.ticket).toMatchObject({ linkedTicketIds: ['p1'], preempted: true });
    expect(ok(applyAction(l.ticket, { kind: 'link', ticketId: 'p1' }, SYSTEM, T0)).changed).toBe(false);
  });
});
