import { describe, expect, it } from 'vitest';
import type { Ticket } from '@shaobing/schemas';
import { computeKpis, computeStreetKpis, followUpOutcome, rate, responseOutcome, type KpiTicket } from '../src/kpi/core/index.ts';
import { buildGridIndex } from '../src/tickets/core/index.ts';
import { DISPATCHER, evidence, GRID, HOUR, INDEX, makeTicket, MIN, must, SUPERVISOR, SYSTEM, WORKERS } from './tickets-fixtures.ts';

// Hand-built histories through the real state machine; every expected figure worked out by hand.
const D = Date.parse('2026-03-02T00:00:00.000Z');
const P = { from: D, to: D + 24 * HOUR };
const NOW = D + 25 * HOUR;

const open = (at: number, over: Partial<Ticket> = {}): Ticket => makeTicket({ severity: 'normal', deviceVerifiable: false, ...over }, at); // respond 2 h; a person's photo resolve is final
const dispatch = (t: Ticket, at: number): Ticket => must(t, { kind: 'dispatch' }, DISPATCHER, at);
const accept = (t: Ticket, at: number): Ticket => must(dispatch(t, at - MIN), { kind: 'accept' }, DISPATCHER, at);
// With a photo: proven (photo-evidenced), so it counts in the 解决率 — the unproven kinds have their own test.
const resolve = (t: Ticket, at: number): Ticket => must(t, { kind: 'resolve', note: 'done', photos: ['att-1'] }, DISPATCHER, at);
// A bin's own sensor clears it: a device-verifiable ticket.
const byDevice = (t: Ticket, at: number): Ticket => must({ ...t, deviceVerifiable: true }, { kind: 'resolve_by_device', evidence: evidence(9) }, SYSTEM, at);

describe('响应率 counts only people (DESIGN §7)', () => {
  it('161 device self-resolutions are 自动核销, not 161/161 = 100 % responses', () => {
    const tickets: Ticket[] = [];
    // 156 bins that the sensor saw emptied 20 min after opening, nobody tapped anything.
    for (let i = 0; i < 156; i++) tickets.push(byDevice(open(D + 8 * HOUR + i * MIN), D + 8 * HOUR + i * MIN + 20 * MIN));
    // 5 that people handled: 3 accepted in time (30 min), 2 accepted late (3 h), all resolved by the device after.
    for (let i = 0; i < 3; i++) tickets.push(byDevice(accept(open(D + 9 * HOUR), D + 9.5 * HOUR), D + 10 * HOUR));
    for (let i = 0; i < 2; i++) tickets.push(byDevice(accept(open(D + 9 * HOUR), D + 12 * HOUR), D + 13 * HOUR));
    const k = computeKpis(tickets, P, NOW);
    expect(k.tickets).toBe(161);
    expect(k.responseRate).toEqual(rate(3, 5));
    expect(k.autoResolved).toBe(156);
    expect(k.meanTimeToRespondMs).toBeCloseTo((3 * 30 + 2 * 180) / 5 * MIN);
    // Resolution times over people's tickets only (30+30+30 after… i.e. open → device clear after acceptance).
    expect(k.meanTimeToResolveMs).toBeCloseTo((3 * 60 + 2 * 240) / 5 * MIN);
    expect(k.meanTimeToRespondMs).not.toBe(k.meanTimeToResolveMs);
    const s = computeStreetKpis(tickets, P, NOW, new Map([['site1', { name: '一号站', index: INDEX }]])).report.total;
    expect(s.autoResolvedShare).toEqual(rate(156, 161));
    expect(s.resolutionRate).toEqual(rate(161, 161)); // the conditions did clear: 解决率 is honest about that
    expect(s.visitRate).toEqual(rate(0, 5)); // nobody arrived on any of the 5 people's tickets
  });

  it('a device recovery after the deadline does not rescue a missed response', () => {
    const t = byDevice(open(D + 8 * HOUR), D + 11 * HOUR); // deadline D+10h
    expect(responseOutcome(t, NOW)).toEqual({ kind: 'missed', at: D + 10 * HOUR });
    const k = computeKpis([t], P, NOW);
    expect(k.responseRate).toEqual(rate(0, 1));
    expect(k.autoResolved).toBe(1);
  });

  it('arrival (到场) is a response; an operator resolution is a response; dispatch is not', () => {
    const arrived: KpiTicket = { ...dispatch(open(D + 8 * HOUR), D + 8 * HOUR + MIN), arrivedAt: new Date(D + 9 * HOUR).toISOString() };
    expect(responseOutcome(arrived, NOW)).toEqual({ kind: 'met', at: D + 9 * HOUR });
    const onlyDispatched = dispatch(open(D + 8 * HOUR), D + 8 * HOUR + MIN);
    expect(responseOutcome(onlyDispatched, NOW).kind).toBe('missed');
    const pending = open(D + 23 * HOUR);
    expect(responseOutcome(pending, NOW - 30 * MIN).kind).toBe('pending');
    const handled = resolve(accept(open(D + 8 * HOUR), D + 8.5 * HOUR), D + 9 * HOUR);
    expect(responseOutcome(handled, NOW)).toEqual({ kind: 'met', at: D + 8.5 * HOUR });
  });

  it('an arrival before the last reopen does not count for the new cycle', () => {
    let t: Ticket = resolve(accept(open(D + 1 * HOUR), D + 1.5 * HOUR), D + 2 * HOUR);
    t = must(t, { kind: 'rate', rating: 'unsatisfied' }, DISPATCHER, D + 3 * HOUR); // reopened: new cycle from D+3h
    const k: KpiTicket = { ...t, arrivedAt: new Date(D + 1.6 * HOUR).toISOString() };
    expect(responseOutcome(k, NOW)).toEqual({ kind: 'missed', at: D + 5 * HOUR });
  });
});

describe('street figures', () => {
  const grid = GRID.map((c) => (c.id === 'U1' ? { ...c, population: 300 } : c.id === 'U2' ? { ...c, population: 200 } : c.id === 'P2' ? { ...c, population: 500, propertyCompany: '安居物业' } : c.id === 'P1' ? { ...c, propertyCompany: '安居物业' } : c));
  const index = buildGridIndex(grid, WORKERS);
  const sites = new Map([['site1', { name: '一号站', index }]]);
  function history(): KpiTicket[] {
    const a: KpiTicket = { ...resolve(accept(open(D + 8 * HOUR, { cellId: 'U1', assigneeId: 'w-clean' }), D + 9 * HOUR), D + 10 * HOUR), arrivedAt: new Date(D + 9.2 * HOUR).toISOString(), followUp: { solved: true, satisfied: true } };
    const b: KpiTicket = { ...resolve(accept(open(D + 8 * HOUR, { cellId: 'U2', assigneeId: 'w-clean', origin: 'complaint' }), D + 8.5 * HOUR), D + 12 * HOUR), followUp: { solved: true, satisfied: false } };
    const c: KpiTicket = { ...resolve(accept(open(D + 9 * HOUR, { cellId: 'U3', assigneeId: 'w-sec', origin: 'complaint', category: 'security' }), D + 9.5 * HOUR), D + 11 * HOUR), followUp: { solved: false, satisfied: false } };
    let d = must(open(D + 10 * HOUR, { cellId: 'U3', assigneeId: 'w-sec', category: 'security' }), { kind: 'request_dismiss', reasonCategory: 'false_alarm', note: 'x' }, DISPATCHER, D + 10.2 * HOUR);
    d = must(d, { kind: 'approve_dismiss' }, SUPERVISOR, D + 10.5 * HOUR);
    const e = open(D + 8 * HOUR, { cellId: 'U1', assigneeId: 'w-u1', origin: 'complaint' }); // never touched: overdue
    const f = byDevice(open(D + 14 * HOUR, { cellId: 'U2', assigneeId: 'w-clean' }), D + 14.2 * HOUR);
    return [a, b, c, d, e, f];
  }

  it('剔除率, 双是率, 见面率, 万人诉求率, overdue, medians', () => {
    const h = history();
    const { report, drill } = computeStreetKpis(h, P, NOW, sites);
    const t = report.total;
    expect(t.tickets).toBe(6);
    expect(t.dismissed).toBe(1);
    expect(t.dismissalRate).toEqual(rate(1, 6));
    expect(t.responseRate).toEqual(rate(3, 4)); // a, b, c met; e missed; f 自动核销; d dismissed
    expect(t.autoResolved).toBe(1);
    expect(t.resolutionRate).toEqual(rate(4, 5));
    expect(t.doubleYesRate).toEqual(rate(1, 3));
    expect(t.visitRate).toEqual(rate(1, 3)); // a arrived; b, c resolved without an arrival; f is 自动核销
    expect(t.complaints).toBe(3);
    expect(t.population).toBe(1000);
    expect(t.complaintsPer10k).toBeCloseTo(30);
    expect(t.overdue).toBe(1);
    expect(t.medianTimeToRespondMs).toBeCloseTo(30 * MIN); // 60, 30, 30
    expect(t.meanTimeToRespondMs).toBeCloseTo(40 * MIN);
    expect(t.medianTimeToResolveMs).toBeCloseTo(120 * MIN); // 120, 240, 120
    expect(drill('total', '', 'respondMissed')).toEqual([h[4]!.id]);
    expect(drill('total', '', 'notDoubleYes')).toEqual([h[1]!.id]);
    expect(drill('total', '', 'doubleNo')).toEqual([h[2]!.id]);
    expect(drill('total', '', 'dismissed')).toEqual([h[3]!.id]);
    expect(drill('total', '', 'autoResolved')).toEqual([h[5]!.id]);
  });

  it('per community, compound, worker (网格员绩效), category and property company, with names', () => {
    const { report, drill } = computeStreetKpis(history(), P, NOW, sites);
    const g = report.groups;
    expect(g.site.map((r) => [r.id, r.name, r.figures.tickets])).toEqual([['site1', '一号站', 6]]);
    expect(g.community.map((r) => [r.id, r.name, r.figures.tickets, r.figures.population])).toEqual([['C1', '社区一', 6, 1000]]);
    expect(g.compound.map((r) => [r.id, r.name, r.figures.tickets, r.figures.complaints, r.figures.population]).sort()).toEqual([
      ['P1', '一号院', 4, 2, 500], ['P2', '二号院', 2, 1, 500],
    ]);
    expect(g.worker.map((r) => [r.rank, r.id, r.name, r.figures.responseRate.value, r.figures.resolutionRate.value, r.figures.overdue])).toEqual([
      [1, 'w-clean', '保洁', 1, 1, 0],
      [2, 'w-sec', '保安', 1, 1, 0], // c resolved; d dismissed, out — same rates, fewer tickets
      [3, 'w-u1', '网格员', 0, 0, 1],
    ]);
    expect(g.category.map((r) => [r.id, r.name, r.figures.tickets])).toEqual([['security', '治安防范', 2], ['sanitation', '环境卫生', 4]]); // ranked: 解决率 1/1 before 3/4
    expect(g.propertyCompany.map((r) => [r.id, r.figures.tickets, r.figures.population])).toEqual([['安居物业', 6, 1000]]);
    const sec = drill('worker', 'w-sec', 'doubleNo')!;
    expect(sec).toHaveLength(1);
    expect(drill('worker', 'nobody', 'tickets')).toBeNull();
  });
});

describe('follow-up outcome (回访)', () => {
  it('双是 / 非双是 / 双否', () => {
    expect(followUpOutcome({ solved: true, satisfied: true })).toBe('double_yes');
    expect(followUpOutcome({ solved: true, satisfied: false })).toBe('not_double_yes');
    expect(followUpOutcome({ solved: false, satisfied: true })).toBe('not_double_yes');
    expect(followUpOutcome({ solved: false, satisfied: false })).toBe('double_no');
  });
});
