import { describe, expect, it } from 'vitest';
import type { RuleDecision, Ticket } from '@shaobing/schemas';
import { applyAction, planDecision, type DecisionContext } from '../src/tickets/core/index.ts';
import { evidence, HOUR, INDEX, iso, makeTicket, MIN, must, SYSTEM, T0, ticketIn } from './tickets-fixtures.ts';

const open: Extract<RuleDecision, { kind: 'open' }> = {
  kind: 'open', ruleId: 'charger-overheat', siteId: 'site1', deviceId: 'chg-1', cellId: 'U2',
  dedupKey: 'charger-overheat:chg-1:1', severity: 'critical', category: 'fire_safety',
  title: { 'zh-CN': '充电桩过热', en: 'Charger overheating' }, description: { 'zh-CN': '端口1 72°C', en: 'port 1 72 °C' },
  deviceVerifiable: true, evidence: evidence(1),
};
const resolve: RuleDecision = { kind: 'resolve_by_device', ruleId: 'charger-overheat', siteId: 'site1', dedupKey: open.dedupKey, evidence: evidence(2) };
const ctx = (over: Partial<DecisionContext> = {}): DecisionContext => ({ active: null, newId: 'new-1', locationLabel: '1号院 充电棚', index: INDEX, ...over });

describe('planDecision', () => {
  it('opens a new routed ticket with SLA deadlines and the evidence', () => {
    const plan = planDecision(open, ctx(), T0);
    if (plan.kind !== 'open') throw new Error(plan.kind);
    expect(plan.ticket).toMatchObject({
      id: 'new-1', origin: 'proactive', status: 'open', ruleId: 'charger-overheat', dedupKey: open.dedupKey,
      severity: 'critical', category: 'fire_safety', team: 'security', cellId: 'U2', deviceId: 'chg-1',
      locationLabel: '1号院 充电棚', assigneeId: 'w-sec', ladder: { grid: 'w-sec', community: 'w-comm', street: 'w-street' },
      occurrences: 1, evidence: [open.evidence], openedAt: iso(T0), respondBy: iso(T0 + 5 * MIN), resolveBy: iso(T0 + 2 * HOUR),
      escalationLevel: 0, version: 1, linkedTicketIds: [], preempted: false, deviceVerifiable: true,
    });
    expect(plan.actor).toEqual({ id: 'system:charger-overheat', role: 'system' });
    const r = applyAction(null, plan.action, plan.actor, T0);
    expect(r.ok && r.audit).toEqual([{ ticketId: 'new-1', at: iso(T0), actor: 'system:charger-overheat', action: 'open', from: null, to: 'open' }]);
  });

  it('adds an occurrence to the live ticket of the dedup key', () => {
    const active = makeTicket({ dedupKey: open.dedupKey });
    const plan = planDecision(open, ctx({ active }), T0 + MIN);
    expect(plan).toEqual({ kind: 'apply', ticketId: active.id, action: { kind: 'add_occurrence', evidence: open.evidence }, actor: { id: 'system:charger-overheat', role: 'system' } });
  });

  it('resolves the live ticket by device, or ignores when there is none / it cannot be verified', () => {
    const active = ticketIn('accepted');
    const plan = planDecision(resolve, ctx({ active }), T0 + HOUR);
    expect(plan).toMatchObject({ kind: 'apply', ticketId: active.id, action: { kind: 'resolve_by_device' } });
    expect(planDecision(resolve, ctx(), T0).kind).toBe('ignore');
    expect(planDecision(resolve, ctx({ active: makeTicket({ deviceVerifiable: false }) }), T0).kind).toBe('ignore');
    expect(planDecision(resolve, ctx({ active: ticketIn('resolved') }), T0).kind).toBe('ignore');
  });

  it('reopens a manually resolved ticket when the condition recurs within the window (再派件)', () => {
    const recent = ticketIn('resolved'); // resolved by an operator at T0+10 min
    const plan = planDecision(open, ctx({ recent }), T0 + 10 * MIN + 2 * HOUR);
    expect(plan).toMatchObject({ kind: 'apply', ticketId: recent.id, action: { kind: 'reopen', evidence: open.evidence } });
    expect(planDecision(open, ctx({ recent }), T0 + 10 * MIN + 2 * HOUR + 1).kind).toBe('open');
  });

  it('trusts a device-verified resolution: a recurrence is a new ticket', () => {
    const recent: Ticket = must(makeTicket(), { kind: 'resolve_by_device', evidence: evidence(3) }, SYSTEM, T0 + MIN);
    expect(planDecision(open, ctx({ recent }), T0 + 2 * MIN).kind).toBe('open');
  });
});
