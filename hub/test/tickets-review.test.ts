import { describe, expect, it } from 'vitest';
import type { Evidence, RuleDecision, Ticket, TicketChange } from '@shaobing/schemas';
import {
  allowedActions, applyAction, planDecision, reviewBelowFor, slaSweep, workerScope, workerSees,
  type Actor, type DecisionContext,
} from '../src/tickets/core/index.ts';
import { computeKpis } from '../src/kpi/core/index.ts';
import { eventOf } from '../src/notify/plan.ts';
import { DISPATCHER, HOUR, INDEX, iso, MIN, SUPERVISOR, T0, WORKERS } from './tickets-fixtures.ts';

// 人工核准 (issue 9 item 7): an AI alert under the site's confidence bar waits for the control
// room instead of dispatching; confirm → dispatched with its SLA clock from then, reject → 剔除.

const alert = (n: number, confidence: number, at = T0): Evidence => ({
  eventKey: `site1/cam-1/${n}`, ts: iso(at), type: 'camera.alert', deviceId: 'cam-1',
  summary: `camera.alert kind=bin_overflow confidence=${confidence}`, snapshotUrl: `http://127.0.0.1/s/${n}.jpg`,
  detail: { cause: 'event', fields: { kind: 'bin_overflow', confidence } },
});
const decision = (e: Evidence, severity: 'normal' | 'critical' = 'normal'): Extract<RuleDecision, { kind: 'open' }> => ({
  kind: 'open', ruleId: 'camera.bin_overflow', siteId: 'site1', deviceId: 'cam-1', cellId: 'U1', dedupKey: 'camera.bin_overflow:site1:device:cam-1',
  severity, category: 'sanitation', title: { 'zh-CN': '垃圾满溢', en: 'Overflowing bins' }, description: { 'zh-CN': '满溢', en: 'overflow' },
  deviceVerifiable: true, evidence: e,
});
const ctx = (over: Partial<DecisionContext> = {}): DecisionContext => ({ active: null, newId: 'r-1', locationLabel: '1号院', index: INDEX, reviewBelow: 0.8, ...over });
const worker = (id: string): Actor => ({ id, role: 'worker', scope: workerScope('site1', WORKERS.find((w) => w.id === id)!, INDEX) });

function opened(confidence: number, severity: 'normal' | 'critical' = 'normal'): Ticket {
  const plan = planDecision(decision(alert(1, confidence), severity), ctx(), T0);
  if (plan.kind !== 'open') throw new Error(plan.kind);
  return plan.ticket;
}
function ok(r: ReturnType<typeof applyAction>): Extract<ReturnType<typeof applyAction>, { ok: true }> {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r;
}
const code = (r: ReturnType<typeof applyAction>) => (r.ok ? 'ok' : r.error.code);

describe('人工核准: opening', () => {
  it('an alert under the bar opens in pending_review, routed but waiting; at or over the bar it opens as usual', () => {
    const t = opened(0.72);
    expect(t).toMatchObject({ status: 'pending_review', review: { confidence: 0.72, below: 0.8 }, assigneeId: 'w-u1', occurrences: 1 });
    expect(opened(0.8).status).toBe('open');
    expect(opened(0.95).review).toBeUndefined();
    // Evidence without a confidence (a bin's fill level) never waits; no bar = no review.
    const bin = { ...alert(2, 0.5), type: 'bin.fill', detail: { cause: 'held' as const, fields: { fill_pct: 92 } } };
    const plan = planDecision(decision(bin), ctx(), T0);
    expect(plan.kind === 'open' && plan.ticket.status).toBe('open');
    const noBar = planDecision(decision(alert(3, 0.7)), ctx({ reviewBelow: undefined }), T0);
    expect(noBar.kind === 'open' && noBar.ticket.status).toBe('open');
    // The open action accepts it; the audit row says it went to review.
    const r = ok(applyAction(null, { kind: 'open', ticket: t }, { id: 'system:camera.bin_overflow', role: 'system' }, T0));
    expect(r.audit[0]).toMatchObject({ action: 'open', from: null, to: 'pending_review' });
  });

  it('the site bar: per category, else the site, else DESIGN §5 0.8; 0 turns review off', () => {
    expect(reviewBelowFor(undefined, 'sanitation')).toBe(0.8);
    expect(reviewBelowFor({ aiReview: { below: 0.9 } }, 'sanitation')).toBe(0.9);
    expect(reviewBelowFor({ aiReview: { below: 0.9, byCategory: { fire_safety: 0.65 } } }, 'fire_safety')).toBe(0.65);
    expect(reviewBelowFor({ aiReview: { below: 0 } }, 'order')).toBe(0);
    const plan = planDecision(decision(alert(1, 0.61)), ctx({ reviewBelow: 0 }), T0);
    expect(plan.kind === 'open' && plan.ticket.status).toBe('open');
  });

  it('repeats: an unsure one adds an occurrence, a confident one confirms the review (system), the camera\'s all-clear is ignored', () => {
    const t = opened(0.7);
    const unsure = planDecision(decision(alert(2, 0.75, T0 + MIN)), ctx({ active: t }), T0 + MIN);
    expect(unsure).toMatchObject({ kind: 'apply', ticketId: t.id, action: { kind: 'add_occurrence' } });
    const sure = planDecision(decision(alert(3, 0.93, T0 + 2 * MIN)), ctx({ active: t }), T0 + 2 * MIN);
    expect(sure).toMatchObject({ kind: 'apply', ticketId: t.id, action: { kind: 'confirm_review' }, actor: { id: 'system:camera.bin_overflow', role: 'system' } });
    if (sure.kind !== 'apply') throw new Error('plan');
    const r = ok(applyAction(t, sure.action, sure.actor, T0 + 2 * MIN));
    expect(r.ticket).toMatchObject({ status: 'open', occurrences: 2, slaStartedAt: iso(T0 + 2 * MIN), review: { verdict: 'confirmed', by: 'system:camera.bin_overflow' } });
    const cleared: RuleDecision = { kind: 'resolve_by_device', ruleId: 'camera.bin_overflow', siteId: 'site1', dedupKey: t.dedupKey!, evidence: alert(4, 0.9) };
    expect(planDecision(cleared, ctx({ active: t }), T0 + 3 * MIN)).toMatchObject({ kind: 'ignore' });
  });
});

describe('人工核准: confirm and reject', () => {
  it('confirm dispatches to the routed worker with the SLA clock started at the confirmation; openedAt stays the detection', () => {
    const t = opened(0.7);
    const at = T0 + 20 * MIN;
    const r = ok(applyAction(t, { kind: 'confirm_review' }, DISPATCHER, at));
    expect(r.ticket).toMatchObject({
      status: 'dispatched', assigneeId: 'w-u1', dispatchedAt: iso(at), openedAt: iso(T0), slaStartedAt: iso(at),
      respondBy: iso(at + 2 * HOUR), review: { confidence: 0.7, below: 0.8, verdict: 'confirmed', by: 'disp', at: iso(at) },
    });
    expect(r.audit).toEqual([expect.objectContaining({ actor: 'disp', action: 'confirm_review', from: 'pending_review', to: 'dispatched', reason: expect.objectContaining({ code: 'review_confirmed', params: { confidence: 0.7, below: 0.8 } }) })]);
    // The reviewer may send it to someone else.
    const other = ok(applyAction(t, { kind: 'confirm_review', assigneeId: 'w-street-clean' }, DISPATCHER, at));
    expect(other.ticket.assigneeId).toBe('w-street-clean');
  });

  it('reject dismisses it as a false alarm (误报) by the reviewer, evidence kept', () => {
    const t = opened(0.66);
    const at = T0 + 5 * MIN;
    const r = ok(applyAction(t, { kind: 'reject_review', note: '画面是树影' }, SUPERVISOR, at));
    expect(r.ticket).toMatchObject({
      status: 'dismissed', evidence: t.evidence, review: { verdict: 'rejected', by: 'sup', at: iso(at) },
      dismissal: { reasonCategory: 'false_alarm', requestedBy: 'sup', approvedBy: 'sup', note: '画面是树影' },
    });
    expect(r.audit[0]).toMatchObject({ actor: 'sup', action: 'reject_review', from: 'pending_review', to: 'dismissed', reason: { code: 'review_rejected', text: '画面是树影' } });
    // Reviewed once: a second verdict is an illegal transition.
    expect(code(applyAction(r.ticket, { kind: 'confirm_review' }, DISPATCHER, at + MIN))).toBe('HUB_ERR_ILLEGAL_TRANSITION');
  });

  it('workers cannot review and do not see an alert under review, even when routing gave it to them', () => {
    const t = opened(0.7);
    const w = worker('w-u1');
    expect(t.assigneeId).toBe('w-u1');
    expect(workerSees(t, w.scope!)).toBe(false);
    expect(code(applyAction(t, { kind: 'confirm_review' }, w, T0 + MIN))).toBe('HUB_ERR_FORBIDDEN');
    expect(code(applyAction(t, { kind: 'reject_review' }, w, T0 + MIN))).toBe('HUB_ERR_FORBIDDEN');
    expect(code(applyAction(t, { kind: 'accept' }, w, T0 + MIN))).toBe('HUB_ERR_FORBIDDEN');
    expect(code(applyAction(t, { kind: 'confirm_review' }, { id: 'v', role: 'viewer' }, T0 + MIN))).toBe('HUB_ERR_FORBIDDEN');
    expect(code(applyAction(t, { kind: 'reject_review' }, { id: 'system:x', role: 'system' }, T0 + MIN))).toBe('HUB_ERR_FORBIDDEN');
    const confirmed = ok(applyAction(t, { kind: 'confirm_review' }, DISPATCHER, T0 + MIN)).ticket;
    expect(workerSees(confirmed, w.scope!)).toBe(true);
    expect(allowedActions(t, 'worker', 'w-u1', w.scope)).toEqual([]);
  });

  it('nothing else moves it: dispatch, escalation, dismissal and the SLA sweep wait for the review', () => {
    const t = opened(0.7, 'critical');
    expect(allowedActions(t, 'dispatcher', 'disp')).toEqual(['comment', 'confirm_review', 'reject_review']);
    expect(code(applyAction(t, { kind: 'dispatch', assigneeId: 'w-clean' }, DISPATCHER, T0))).toBe('HUB_ERR_AWAITING_REVIEW');
    expect(code(applyAction(t, { kind: 'request_dismiss', reasonCategory: 'false_alarm', note: 'x' }, DISPATCHER, T0))).toBe('HUB_ERR_AWAITING_REVIEW');
    expect(code(applyAction(t, { kind: 'escalate', note: 'x' }, DISPATCHER, T0))).toBe('HUB_ERR_AWAITING_REVIEW');
    expect(slaSweep([t], T0 + 10 * HOUR)).toEqual([]);
  });
});

describe('人工核准: notifications, live feed and KPIs', () => {
  const change = (t: Ticket, kind: TicketChange['kind'] = 'status'): TicketChange => ({ kind, ticket: t, from: null, at: iso(T0), actor: 'disp' });

  it('nobody is notified while it waits; the confirmation notifies as a dispatch (a critical one as opened)', () => {
    const t = opened(0.7);
    const crit = opened(0.7, 'critical');
    expect(eventOf(change(t, 'opened'), 'open')).toBeNull();
    expect(eventOf(change(crit, 'opened'), 'open')).toBeNull();
    expect(eventOf(change(ok(applyAction(t, { kind: 'confirm_review' }, DISPATCHER, T0)).ticket), 'confirm_review')).toBe('dispatched');
    expect(eventOf(change(ok(applyAction(crit, { kind: 'confirm_review' }, DISPATCHER, T0)).ticket), 'confirm_review')).toBe('critical_opened');
    expect(eventOf(change(ok(applyAction(t, { kind: 'reject_review' }, DISPATCHER, T0)).ticket), 'reject_review')).toBeNull();
  });

  it('a change of hands tells who could see it before (the worker feed removes it)', () => {
    const t = ok(applyAction(opened(0.7), { kind: 'confirm_review' }, DISPATCHER, T0)).ticket;
    const moved = ok(applyAction(t, { kind: 'dispatch', assigneeId: 'w-street-clean' }, DISPATCHER, T0 + MIN));
    expect(moved.events[0]!.was).toEqual({ status: 'dispatched', assigneeId: 'w-u1' });
    const noted = ok(applyAction(moved.ticket, { kind: 'comment', note: 'n' }, DISPATCHER, T0 + 2 * MIN));
    expect(noted.events[0]!.was).toBeUndefined();
  });

  it('KPIs: under review counts nowhere (not dispatched, not overdue, no missed response); rejected counts as 剔除', () => {
    const period = { from: T0 - HOUR, to: T0 + 24 * HOUR };
    const waiting = opened(0.7, 'critical');
    const rejected = ok(applyAction(opened(0.6), { kind: 'reject_review' }, DISPATCHER, T0 + MIN)).ticket;
    const k = computeKpis([waiting, { ...rejected, id: 'r-2' }], period, T0 + 10 * HOUR);
    expect(k).toMatchObject({ tickets: 1, open: 0, overdue: 0, responseRate: { numerator: 0, denominator: 0 } });
    expect(k.resolutionRate.denominator).toBe(0);
    expect(k.hotspots).toEqual([]);
  });
});
