import { describe, expect, it } from 'vitest';
import type { ComplaintInput, Ticket } from '@shaobing/schemas';
import { applyAction, matchComplaint, samePlace, ticketFromComplaint } from '../src/tickets/core/index.ts';
import { DAY, HOUR, INDEX, iso, makeTicket, MIN, must, SYSTEM, T0, ticketIn } from './tickets-fixtures.ts';

const input = (over: Partial<ComplaintInput> = {}): ComplaintInput => ({
  siteId: 'site1', cellId: 'U1', category: 'sanitation', text: '楼下垃圾桶满了，味道很大', source: 'hotline_12345', externalRef: '12345-0001', ...over,
});
const complaintAt = (now: number, over: Partial<ComplaintInput> = {}): Ticket =>
  ticketFromComplaint(input(over), { newId: `c-${now}`, index: INDEX }, now);
function resolvedAt(at: number, over: Partial<Ticket> = {}): Ticket {
  const t = must(makeTicket(over, at - HOUR), { kind: 'resolve_by_device', evidence: { eventKey: 'k', ts: iso(at), type: 'bin.fill', summary: 'fill 10%' } }, SYSTEM, at);
  return t;
}

describe('ticketFromComplaint', () => {
  it('opens a routed normal-severity complaint ticket whose clock starts at intake', () => {
    const t = ticketFromComplaint(input({ reportedAt: iso(T0 - HOUR) }), { newId: 'c1', index: INDEX }, T0);
    expect(t).toMatchObject({
      id: 'c1', origin: 'complaint', status: 'open', severity: 'normal', team: 'cleaning', assigneeId: 'w-u1',
      locationLabel: '1-1单元', deviceVerifiable: false, occurrences: 1, evidence: [], slaStartedAt: iso(T0),
      complaint: { source: 'hotline_12345', externalRef: '12345-0001', reportedAt: iso(T0 - HOUR) },
      title: { 'zh-CN': '居民诉求：环境卫生', en: 'Resident complaint: sanitation' },
    });
    expect(ticketFromComplaint(input({ text: 'x'.repeat(2000) }), { newId: 'c2', index: INDEX }, T0).description['zh-CN']).toHaveLength(500);
  });
});

describe('samePlace', () => {
  it('same cell, or nested within one compound; not siblings, not community-wide', () => {
    expect(samePlace(INDEX, 'U1', 'U1')).toBe(true);
    expect(samePlace(INDEX, 'U1', 'P1')).toBe(true);
    expect(samePlace(INDEX, 'P1', 'U2')).toBe(true);
    expect(samePlace(INDEX, 'U1', 'U2')).toBe(false);
    expect(samePlace(INDEX, 'U1', 'C1')).toBe(false);
    expect(samePlace(INDEX, 'U3', 'P1')).toBe(false);
  });
});

describe('matchComplaint', () => {
  it('links a complaint to a live proactive ticket of the same cell and category, both ways', () => {
    const proactive = ticketIn('dispatched');
    const c = complaintAt(T0 + HOUR);
    const m = matchComplaint(c, [proactive], INDEX, T0 + HOUR);
    expect(m).toMatchObject({ proactive: { id: proactive.id }, preempted: true });
    let comp = c; let pro = proactive;
    for (const l of m!.links) {
      if (l.ticketId === comp.id) comp = must(comp, l.action, SYSTEM, T0 + HOUR);
      else pro = must(pro, l.action, SYSTEM, T0 + HOUR);
    }
    expect(comp).toMatchObject({ linkedTicketIds: [proactive.id], preempted: true });
    expect(pro).toMatchObject({ linkedTicketIds: [c.id], preempted: false });
  });

  it('matches a ticket resolved within 7 days, not 8', () => {
    const p = resolvedAt(T0);
    expect(matchComplaint(complaintAt(T0 + 7 * DAY), [p], INDEX, T0 + 7 * DAY)?.proactive.id).toBe(p.id);
    expect(matchComplaint(complaintAt(T0 + 8 * DAY), [p], INDEX, T0 + 8 * DAY)).toBeNull();
  });

  it('ignores other categories, other sites, complaints, dismissed tickets and other places', () => {
    const now = T0 + HOUR;
    const c = complaintAt(now);
    expect(matchComplaint(c, [makeTicket({ category: 'security' })], INDEX, now)).toBeNull();
    expect(matchComplaint(c, [makeTicket({ siteId: 'site2' })], INDEX, now)).toBeNull();
    expect(matchComplaint(c, [makeTicket({ origin: 'complaint' })], INDEX, now)).toBeNull();
    expect(matchComplaint(c, [ticketIn('dismissed')], INDEX, now)).toBeNull();
    expect(matchComplaint(c, [makeTicket({ cellId: 'U2' })], INDEX, now)).toBeNull();
    expect(matchComplaint(c, [makeTicket({ cellId: 'C1' })], INDEX, now)).toBeNull();
  });

  it('prefers the exact cell over the compound (even resolved over live), then live, then the nearest in time', () => {
    const now = T0 + DAY;
    const c = complaintAt(now);
    const old = resolvedAt(T0 + HOUR);
    const compound = makeTicket({ cellId: 'P1' }, T0 + 2 * HOUR);
    const exact = makeTicket({}, T0 + 3 * HOUR);
    const exactNewer = makeTicket({}, T0 + 4 * HOUR);
    // The unit's own (resolved) ticket is what the resident saw; the compound-wide one is a guess.
    expect(matchComplaint(c, [old, compound], INDEX, now)?.proactive.id).toBe(old.id);
    expect(matchComplaint(c, [old, compound, exact], INDEX, now)?.proactive.id).toBe(exact.id);
    expect(matchComplaint(c, [exactNewer, compound, exact], INDEX, now)?.proactive.id).toBe(exactNewer.id);
  });

  it('is not pre-empted when the resident reported before the device ticket opened', () => {
    const proactive = makeTicket({}, T0 + 10 * MIN);
    const c = ticketFromComplaint(input({ reportedAt: iso(T0) }), { newId: 'c9', index: INDEX }, T0 + HOUR);
    const m = matchComplaint(c, [proactive], INDEX, T0 + HOUR)!;
    expect(m.preempted).toBe(false);
    const linked = applyAction(c, m.links[0]!.action, SYSTEM, T0 + HOUR);
    expect(linked.ok && linked.ticket.preempted).toBe(false);
    expect(linked.ok && linked.ticket.linkedTicketIds).toEqual([proactive.id]);
  });
});
