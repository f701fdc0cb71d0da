import { describe, expect, it } from 'vitest';
import type { NotifyChannel, Ticket, TicketChange } from '@shaobing/schemas';
import { groupedPayload, groupRows, retryDelayMs } from '../src/notify/delivery-loop.ts';
import type { ClaimedRow } from '../src/notify/outbox-repo.ts';
import { eventOf, GROUP_WINDOW_MS, planNotifications, quietMinutesLeft, type NotifyDirectory } from '../src/notify/plan.ts';
import { makeTicket, T0 } from './tickets-fixtures.ts';

/* Who gets what, when (notify/plan.ts) and how bursts and retries behave, without I/O. */
const hook = (name: string): NotifyChannel => ({ kind: 'webhook', url: `http://127.0.0.1/${name}` });
const dir = (quiet?: { from: string; to: string }): NotifyDirectory => ({
  workerChannels: (_s, w) => [hook(`worker-${w}`)],
  groupOf: (_s, _c, level) => ({ cellId: level === 'community' ? 'C1' : 'S1', channels: [hook(level)] }),
  global: [hook('global')],
  quietHours: () => quiet,
  timezone: () => 'Asia/Shanghai',
});
const change = (t: Ticket, kind: TicketChange['kind'], actor = 'disp'): TicketChange => ({ kind, ticket: t, from: 'open', at: new Date(T0).toISOString(), actor });
const recipients = (rows: { recipient: string }[]) => rows.map((r) => r.recipient);

describe('who is told', () => {
  it('a dispatch tells the assigned worker (and the global webhook); a comment tells nobody', () => {
    const t = { ...makeTicket({ cellId: 'U2' }), status: 'dispatched' as const };
    expect(recipients(planNotifications(change(t, 'status'), 'dispatch', dir(), T0))).toEqual(['w-clean', 'all']);
    expect(planNotifications(change(t, 'comment'), 'comment', dir(), T0)).toEqual([]);
  });
  it('escalation climbs: level 1 adds the community group, level 2 the street group (吹哨)', () => {
    const t = makeTicket({ cellId: 'U2' });
    expect(recipients(planNotifications(change({ ...t, escalationLevel: 1 }, 'escalated', 'system:sla'), 'escalate', dir(), T0))).toEqual(['w-clean', 'C1', 'all']);
    expect(recipients(planNotifications(change({ ...t, escalationLevel: 2 }, 'escalated', 'system:sla'), 'escalate', dir(), T0))).toEqual(['w-clean', 'C1', 'S1', 'all']);
    expect(eventOf(change(t, 'escalated', 'system:sla'), 'escalate')).toBe('overdue');
    expect(eventOf(change(t, 'escalated', 'w-clean'), 'escalate')).toBe('escalated');
  });
  it('critical opened reaches the community at once; a normal one opens quietly', () => {
    const crit = makeTicket({ cellId: 'U2', severity: 'critical' });
    const rows = planNotifications(change(crit, 'opened'), 'open', dir(), T0);
    expect(recipients(rows)).toEqual(['w-clean', 'C1', 'all']);
    expect(rows[0]!.dueAt).toBe(new Date(T0).toISOString());
    expect(planNotifications(change(makeTicket(), 'opened'), 'open', dir(), T0)).toEqual([]);
  });
});

describe('when', () => {
  // T0 = 08:00Z = 16:00 in Shanghai.
  it('quiet hours (also across midnight) hold all but critical until they end', () => {
    expect(quietMinutesLeft(T0, 'Asia/Shanghai', { from: '15:00', to: '17:30' })).toBe(90);
    expect(quietMinutesLeft(T0, 'Asia/Shanghai', { from: '22:00', to: '07:00' })).toBe(0);
    expect(quietMinutesLeft(T0 + 8 * 3600_000, 'Asia/Shanghai', { from: '22:00', to: '07:00' })).toBe(7 * 60); // 00:00
    const t = { ...makeTicket({ cellId: 'U2' }), status: 'reopened' as const };
    const held = planNotifications(change(t, 'status'), 'reopen', dir({ from: '15:00', to: '17:30' }), T0);
    expect(held[0]!.dueAt).toBe(new Date(T0 + 90 * 60_000).toISOString());
    const normal = planNotifications(change(t, 'status'), 'reopen', dir(), T0);
    expect(normal[0]!.dueAt).toBe(new Date(T0 + GROUP_WINDOW_MS).toISOString());
    const crit = planNotifications(change({ ...t, severity: 'critical' }, 'status'), 'reopen', dir({ from: '15:00', to: '17:30' }), T0);
    expect(crit[0]!.dueAt).toBe(new Date(T0).toISOString());
  });
  it('retries back off exponentially with jitter, capped at 5 min', () => {
    expect(retryDelayMs(1, () => 0.5)).toBe(1000);
    expect(retryDelayMs(4, () => 0.5)).toBe(8000);
    expect(retryDelayMs(30, () => 1)).toBe(360_000);
    expect(retryDelayMs(30, () => 0)).toBe(240_000);
  });
});

describe('bursts', () => {
  it('rows for the same recipient, channel and event go out as one message', () => {
    const row = (id: string, recipient: string, event = 'dispatched'): ClaimedRow => ({
      id, attempts: 1, ticketId: `T-${id}`, siteId: 's', event, severity: 'normal', recipient, channel: hook('x'), dueAt: '', createdAt: '',
      payload: { event, siteId: 's', ticketId: `T-${id}`, severity: 'normal', title: '垃圾桶将满', text: `满溢 ${id}`, at: '' },
    });
    const groups = groupRows([row('1', 'w1'), row('2', 'w1'), row('3', 'w2'), row('4', 'w1', 'reopened')]);
    expect(groups.map((g) => g.map((r) => r.id))).toEqual([['1', '2'], ['3'], ['4']]);
    expect(groupedPayload(groups[0]!)).toMatchObject({ count: 2, ticketId: null, title: '垃圾桶将满 等 2 条', text: '· 满溢 1\n· 满溢 2' });
    expect(groupedPayload(groups[1]!)).toEqual(groups[1]![0]!.payload);
  });
});
