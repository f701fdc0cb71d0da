import { describe, expect, it } from 'vitest';
import type { KpiRankingRow, Ticket } from '@shaobing/schemas';
import { computeKpis, rank, rate } from '../src/kpi/core/index.ts';
import { DISPATCHER, evidence, HOUR, INDEX, makeTicket, MIN, must, SUPERVISOR, SYSTEM } from './tickets-fixtures.ts';

const D = Date.parse('2026-03-02T00:00:00.000Z');
const P = { from: D, to: D + 24 * HOUR };
const NOW = D + 25 * HOUR; // the daily report runs at 01:00 the next day

// Not device-verifiable by default, so a person's resolve with a photo is final (photo-evidenced).
const opened = (at: number, over: Partial<Ticket>): Ticket => makeTicket({ severity: 'normal', deviceVerifiable: false, ...over }, at);
const accept = (t: Ticket, at: number): Ticket => must(must(t, { kind: 'dispatch' }, DISPATCHER, at - MIN), { kind: 'accept' }, DISPATCHER, at);
// With a photo: proven (photo-evidenced), so it counts in the 解决率 — the unproven kinds have their own test.
const resolve = (t: Ticket, at: number): Ticket => must(t, { kind: 'resolve', note: 'done', photos: ['att-1'] }, DISPATCHER, at);
const rateIt = (t: Ticket, rating: Ticket['rating'] & string, at: number): Ticket => must(t, { kind: 'rate', rating }, DISPATCHER, at);

/** A day of work, every figure below worked out by hand (normal SLA: respond 2 h). */
function day(): Ticket[] {
  const a = rateIt(resolve(accept(opened(D + 8 * HOUR, { cellId: 'U1', assigneeId: 'w-clean' }), D + 9 * HOUR), D + 10 * HOUR), 'satisfied', D + 11 * HOUR);
  const b = opened(D + 8 * HOUR, { cellId: 'U1', assigneeId: 'w-clean' }); // never accepted: missed at D+10h, overdue
  const c = must(opened(D + 23.5 * HOUR, { cellId: 'P1', assigneeId: 'w-sec' }), { kind: 'dispatch' }, DISPATCHER, D + 23.6 * HOUR); // pending
  const d = accept(opened(D - HOUR, { cellId: 'P3', assigneeId: 'w-sec' }), D + 0.5 * HOUR); // yesterday's, met today
  const e = rateIt(resolve(accept(opened(D + 12 * HOUR, { cellId: 'U1', assigneeId: 'w-u1', origin: 'complaint', preempted: true }), D + 15 * HOUR), D + 16 * HOUR), 'basically_satisfied', D + 17 * HOUR);
  // Met its first response, then 不满意 reopened it at D+12h: the new cycle missed at D+14h.
  const f = rateIt(resolve(accept(opened(D + 9 * HOUR, { cellId: 'U1', assigneeId: 'w-u1', origin: 'complaint' }), D + 9.5 * HOUR), D + 11 * HOUR), 'unsatisfied', D + 12 * HOUR);
  let g = must(opened(D + 10 * HOUR, { cellId: 'U3', assigneeId: 'w-sec' }), { kind: 'request_dismiss', reasonCategory: 'false_alarm', note: 'x' }, DISPATCHER, D + 10.2 * HOUR);
  g = must(g, { kind: 'approve_dismiss' }, SUPERVISOR, D + 10.5 * HOUR);
  const h = must(opened(D + 13 * HOUR, { cellId: 'U2', assigneeId: 'w-clean', deviceVerifiable: true }), { kind: 'resolve_by_device', evidence: evidence(1) }, SYSTEM, D + 13 * HOUR + 20 * MIN);
  return [a, b, c, d, e, f, g, h];
}

describe('computeKpis', () => {
  it('zero denominators give null rates, not 0 % or 100 %', () => {
    const k = computeKpis([], P, NOW);
    expect(k).toMatchObject({
      tickets: 0, open: 0, overdue: 0, complaintsPreempted: 0, hotspots: [], workers: [], communities: [],
      meanTimeToRespondMs: null, meanTimeToResolveMs: null, period: { from: '2026-03-02T00:00:00.000Z', to: '2026-03-03T00:00:00.000Z' },
    });
    for (const r of [k.responseRate, k.resolutionRate, k.satisfactionRate, k.proactiveShare]) expect(r).toEqual({ value: null, numerator: 0, denominator: 0 });
    const onlyDismissed = computeKpis(day().filter((t) => t.status === 'dismissed'), P, NOW);
    expect(onlyDismissed.tickets).toBe(1);
    expect(onlyDismissed.resolutionRate.value).toBeNull();
    expect(onlyDismissed.responseRate.value).toBeNull();
  });

  it('三率 and the rest over a hand-checked day', () => {
    const k = computeKpis(day(), P, NOW, { siteId: 'site1', index: INDEX });
    expect(k.siteId).toBe('site1');
    expect(k.tickets).toBe(7);
    expect(k.responseRate).toEqual(rate(2, 5)); // a, d met; b, e, f(reopened) missed; c pending; g dismissed; h 自动核销 (no person)
    expect(k.resolutionRate).toEqual(rate(3, 6)); // a, e closed, h resolved / cohort − g
    expect(k.satisfactionRate).toEqual(rate(2, 3)); // a, e / a, e, f
    expect(k.proactiveShare).toEqual(rate(4, 6));
    expect(k.complaintsPreempted).toBe(1);
    expect(k.open).toBe(4); // b, c, d, f
    expect(k.overdue).toBe(2); // b, f
    expect(k.autoResolved).toBe(1); // h
    expect(k.meanTimeToRespondMs).toBeCloseTo((60 + 180) / 2 * MIN); // people's responses only
    expect(k.meanTimeToResolveMs).toBeCloseTo((120 + 240) / 2 * MIN); // h's device clearance is not people's work
    expect(k.hotspots).toEqual([{ cellId: 'U1', count: 4 }, { cellId: 'P1', count: 1 }, { cellId: 'U2', count: 1 }]);
    expect(k.workers.map((w) => [w.rank, w.id, w.tickets, w.responseRate.value, w.resolutionRate.value, w.satisfactionRate.value, w.overdue])).toEqual([
      [1, 'w-clean', 3, 1 / 2, 2 / 3, 1, 1],
      [2, 'w-u1', 2, 0, 0.5, 0.5, 1],
      [3, 'w-sec', 2, 1, 0, null, 0],
    ]);
    expect(k.communities.map((c) => [c.rank, c.id, c.tickets, c.responseRate.value, c.resolutionRate.value, c.overdue])).toEqual([
      [1, 'C1', 7, 1 / 4, 0.5, 2],
      [2, 'C2', 0, 1, null, 0],
    ]);
  });

  it('counts each response in exactly one period', () => {
    const tickets = day();
    const prev = computeKpis(tickets, { from: D - 24 * HOUR, to: D }, NOW);
    const next = computeKpis(tickets, { from: D + 24 * HOUR, to: D + 48 * HOUR }, D + 48 * HOUR);
    const today = computeKpis(tickets, P, NOW);
    expect(prev.responseRate.denominator).toBe(0); // d responded today, so it counts today
    expect(next.responseRate.denominator).toBe(1); // c's deadline passes tomorrow
    expect(today.responseRate.denominator).toBe(5);
  });

  it('hotspot list is capped', () => {
    expect(computeKpis(day(), P, NOW, { hotspots: 1 }).hotspots).toEqual([{ cellId: 'U1', count: 4 }]);
  });
});

describe('rank', () => {
  const row = (id: string, res: number | null, resp: number | null, tickets = 1): Omit<KpiRankingRow, 'rank'> => ({
    id, tickets, overdue: 0,
    responseRate: { value: resp, numerator: 0, denominator: resp === null ? 0 : 1 },
    resolutionRate: { value: res, numerator: 0, denominator: res === null ? 0 : 1 },
    satisfactionRate: { value: null, numerator: 0, denominator: 0 },
  });
  it('competition ranking; null sorts after 0 %; ties share a rank', () => {
    const ranked = rank([row('d', null, 1), row('c', 0, 1), row('b', 1, 0.5), row('a', 1, 0.5), row('e', 1, 0.9)]);
    expect(ranked.map((r) => [r.rank, r.id])).toEqual([[1, 'e'], [2, 'a'], [2, 'b'], [4, 'c'], [5, 'd']]);
  });
});
