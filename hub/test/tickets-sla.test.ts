import { describe, expect, it } from 'vitest';
import type { Ticket } from '@shaobing/schemas';
import {
  applyAction, computeDeadlines, DEFAULT_SLA_POLICY, isOverdue, respondedInTime, slaPolicyWith, slaSweep, toMs, type SlaPolicy,
} from '../src/tickets/core/index.ts';
import { loadConfig } from '../src/config.ts';
import { DAY, DISPATCHER, HOUR, iso, makeTicket, MIN, must, SYSTEM, T0, ticketIn } from './tickets-fixtures.ts';

const kinds = (t: Ticket, now: number, policy?: SlaPolicy): string[] =>
  slaSweep([t], now, policy).map(({ action: a }) => (a.kind === 'sla_warn' ? `warn:${a.deadline}` : a.kind));

describe('toMs, the fast ISO parser of the sweep', () => {
  it('agrees with Date.parse on canonical and other ISO forms', () => {
    for (let i = 0; i < 2000; i++) {
      const s = new Date(Date.UTC(2000, 0, 1) + i * 7_777_777_777).toISOString();
      expect(toMs(s)).toBe(Date.parse(s));
    }
    for (const s of ['2026-03-02T16:00:00+08:00', '2026-03-02T08:00:00Z', '2026-03-02T08:00:00.5Z']) expect(toMs(s)).toBe(Date.parse(s));
  });
});

describe('deadlines', () => {
  it('defaults by severity (DESIGN §6)', () => {
    expect(computeDeadlines('critical', T0)).toEqual({ respondBy: iso(T0 + 5 * MIN), resolveBy: iso(T0 + 2 * HOUR) });
    expect(computeDeadlines('high', T0)).toEqual({ respondBy: iso(T0 + 30 * MIN), resolveBy: iso(T0 + DAY) });
    expect(computeDeadlines('normal', T0)).toEqual({ respondBy: iso(T0 + 2 * HOUR), resolveBy: iso(T0 + 7 * DAY) });
  });

  it('are configurable through SLA_POLICY (merged over the defaults)', () => {
    const policy: SlaPolicy = slaPolicyWith(loadConfig({ SLA_POLICY: JSON.stringify({ windows: { normal: { respondMs: HOUR } }, warnRatio: 0.5 }) }).slaPolicy);
    expect(computeDeadlines('normal', T0, policy)).toEqual({ respondBy: iso(T0 + HOUR), resolveBy: iso(T0 + 7 * DAY) });
    expect(computeDeadlines('critical', T0, policy)).toEqual(computeDeadlines('critical', T0));
    expect(policy.warnRatio).toBe(0.5);
    expect(policy.escalationSpacingMs).toEqual(DEFAULT_SLA_POLICY.escalationSpacingMs);
    expect(slaPolicyWith(loadConfig({}).slaPolicy)).toEqual(DEFAULT_SLA_POLICY);
  });

  it('responded in time = accepted no later than respondBy', () => {
    const t = makeTicket({ severity: 'critical' });
    expect(respondedInTime(must(must(t, { kind: 'dispatch' }, DISPATCHER, T0), { kind: 'accept' }, DISPATCHER, T0 + 5 * MIN))).toBe(true);
    expect(respondedInTime(must(must(t, { kind: 'dispatch' }, DISPATCHER, T0), { kind: 'accept' }, DISPATCHER, T0 + 5 * MIN + 1))).toBe(false);
    expect(respondedInTime(t)).toBe(false);
  });

  it('overdue: not accepted after respondBy, or not resolved after resolveBy; never once resolved', () => {
    const t = makeTicket({ severity: 'critical' });
    expect(isOverdue(t, T0 + 5 * MIN)).toBe(false);
    expect(isOverdue(t, T0 + 5 * MIN + 1)).toBe(true);
    const accepted = must(must(t, { kind: 'dispatch' }, DISPATCHER, T0), { kind: 'accept' }, DISPATCHER, T0 + MIN);
    expect(isOverdue(accepted, T0 + HOUR)).toBe(false);
    expect(isOverdue(accepted, T0 + 2 * HOUR + 1)).toBe(true);
    expect(isOverdue(must(accepted, { kind: 'resolve', note: 'x' }, DISPATCHER, T0 + 3 * HOUR), T0 + 9 * HOUR)).toBe(false);
  });
});

describe('slaSweep', () => {
  it('warns at exactly 80 % of the response window', () => {
    const t = makeTicket({ severity: 'critical' }); // respond 5 min → warn at 4 min
    expect(kinds(t, T0 + 4 * MIN - 1)).toEqual([]);
    expect(kinds(t, T0 + 4 * MIN)).toEqual(['warn:respond']);
    expect(kinds({ ...t, warnedRespond: true }, T0 + 4 * MIN)).toEqual([]);
  });

  it('warns at exactly 80 % of the resolution window, for accepted tickets too', () => {
    const t = must(must(makeTicket({ severity: 'critical' }), { kind: 'dispatch' }, DISPATCHER, T0), { kind: 'accept' }, DISPATCHER, T0 + MIN);
    expect(kinds(t, T0 + 96 * MIN - 1)).toEqual([]);
    expect(kinds(t, T0 + 96 * MIN)).toEqual(['warn:resolve']);
  });

  it('does not send a stale 80 % warning after the deadline passed', () => {
    const t = makeTicket({ severity: 'critical' });
    expect(kinds(t, T0 + 6 * MIN)).toEqual(['escalate']);
  });

  it('ignores tickets that are not live', () => {
    for (const s of ['resolved', 'closed', 'dismissed'] as const) expect(kinds(ticketIn(s), T0 + 30 * DAY)).toEqual([]);
  });

  it('escalates to level 1 when overdue, to 2 after the spacing, never beyond', () => {
    let t = makeTicket({ severity: 'critical' });
    const respondBy = T0 + 5 * MIN;
    expect(kinds(t, respondBy)).toEqual(['warn:respond']); // due, not yet late: no escalation
    expect(kinds(t, respondBy + 1)).toEqual(['escalate']);
    t = must(t, { kind: 'escalate' }, SYSTEM, respondBy + 1);
    expect(t.escalationLevel).toBe(1);
    expect(kinds(t, respondBy + 1 + 5 * MIN - 1)).toEqual([]);
    expect(kinds(t, respondBy + 1 + 5 * MIN)).toEqual(['escalate']);
    t = must(t, { kind: 'escalate' }, SYSTEM, respondBy + 1 + 5 * MIN);
    expect(t.escalationLevel).toBe(2);
    expect(kinds(t, T0 + 10 * HOUR)).toEqual([]);
  });

  it('a newly missed deadline escalates at once, even within the spacing', () => {
    let t = makeTicket({ severity: 'critical' });
    t = must(t, { kind: 'escalate' }, SYSTEM, T0 + 6 * MIN); // missed response → community
    t = must(must(t, { kind: 'dispatch' }, DISPATCHER, T0 + 7 * MIN), { kind: 'accept' }, DISPATCHER, T0 + 8 * MIN);
    const policy: SlaPolicy = { ...DEFAULT_SLA_POLICY, escalationSpacingMs: { critical: 10 * HOUR, high: HOUR, normal: HOUR } };
    expect(kinds({ ...t, warnedResolve: true }, T0 + 2 * HOUR, policy)).toEqual([]);
    expect(kinds({ ...t, warnedResolve: true }, T0 + 2 * HOUR + 1, policy)).toEqual(['escalate']);
  });

  it('drives a neglected critical ticket through its whole life on a fake clock', () => {
    let t = makeTicket({ severity: 'critical', category: 'fire_safety' });
    const log: string[] = [];
    for (let now = T0; now <= T0 + 4 * HOUR; now += 30 * 1000) {
      for (const { action } of slaSweep([t], now)) {
        const r = applyAction(t, action, SYSTEM, now);
        if (!r.ok) throw new Error(r.error.code);
        t = r.ticket;
        log.push(`${(now - T0) / MIN}m ${r.audit[0]!.action}${action.kind === 'sla_warn' ? `:${action.deadline}` : ''}`);
      }
    }
    expect(log).toEqual(['4m sla_warn:respond', '5.5m escalate', '10.5m escalate', '96m sla_warn:resolve']);
  });

  it('a reopened ticket starts a fresh clock', () => {
    const reopened = ticketIn('reopened', { severity: 'critical' }); // reopened at T0+20 min
    expect(reopened.slaStartedAt).toBe(iso(T0 + 20 * MIN));
    expect(kinds(reopened, T0 + 20 * MIN + 4 * MIN - 1)).toEqual([]);
    expect(kinds(reopened, T0 + 24 * MIN)).toEqual(['warn:respond']);
    expect(kinds(reopened, T0 + 25 * MIN + 1)).toEqual(['escalate']);
  });

  it('is linear and only allocates actions (10k quiet tickets → no actions)', () => {
    const base = makeTicket({ severity: 'normal' });
    const many = Array.from({ length: 10_000 }, (_, i) => ({ ...base, id: `t${i}` }));
    expect(slaSweep(many, T0 + MIN)).toEqual([]);
    expect(slaSweep(many, T0 + 2 * HOUR + 1)).toHaveLength(10_000);
  });
});
