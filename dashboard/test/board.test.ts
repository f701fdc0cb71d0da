import { describe, expect, it } from 'vitest';
import { compareTickets, countByFilter, sortBoard, visibleRange } from '../src/lib/board.ts';
import { NOW, iso, ticket } from './fixtures.ts';

const MIN = 60_000;

describe('board order', () => {
  it('puts overdue first, then critical, then the nearest deadline, finished last', () => {
    const normalSoon = ticket({ id: 'normal-soon', respondBy: iso(NOW + 5 * MIN) });
    const normalLate = ticket({ id: 'normal-late', respondBy: iso(NOW - MIN) });
    const critical = ticket({ id: 'critical', severity: 'critical', respondBy: iso(NOW + 4 * MIN) });
    const high = ticket({ id: 'high', severity: 'high', respondBy: iso(NOW + 20 * MIN) });
    const criticalLate = ticket({ id: 'critical-late', severity: 'critical', respondBy: iso(NOW - 30_000) });
    const accepted = ticket({ id: 'accepted', status: 'accepted', respondBy: iso(NOW - 60 * MIN), resolveBy: iso(NOW + 60 * MIN) });
    const resolved = ticket({ id: 'resolved', status: 'resolved', respondBy: iso(NOW - 600 * MIN), resolvedAt: iso(NOW - MIN) });
    const sorted = sortBoard([resolved, normalSoon, high, normalLate, accepted, critical, criticalLate], 'active', NOW).map((t) => t.id);
    expect(sorted).toEqual(['critical-late', 'normal-late', 'critical', 'high', 'normal-soon', 'accepted']);
    expect(sortBoard([resolved, normalSoon], 'done', NOW).map((t) => t.id)).toEqual(['resolved']);
  });

  it('uses the resolve deadline once accepted', () => {
    const a = ticket({ status: 'accepted', respondBy: iso(NOW - 60 * MIN), resolveBy: iso(NOW + MIN) });
    const b = ticket({ status: 'open', respondBy: iso(NOW + 30 * MIN) });
    expect(compareTickets(a, b, NOW)).toBeLessThan(0);
  });

  it('is a total order: ties break on open time then id', () => {
    const a = ticket({ id: 'a' });
    const b = ticket({ id: 'b' });
    expect(compareTickets(a, b, NOW)).toBeLessThan(0);
    expect(compareTickets(b, a, NOW)).toBeGreaterThan(0);
    expect(compareTickets(a, a, NOW)).toBe(0);
  });

  it('searches id, device, place and both titles', () => {
    const a = ticket({ id: 'T-1', deviceId: 'bin-7', locationLabel: '3号楼' });
    const b = ticket({ id: 'T-2', title: { 'zh-CN': '门禁离线', en: 'Door offline' } });
    expect(sortBoard([a, b], 'active', NOW, 'BIN-7').map((x) => x.id)).toEqual(['T-1']);
    expect(sortBoard([a, b], 'active', NOW, '3号楼').map((x) => x.id)).toEqual(['T-1']);
    expect(sortBoard([a, b], 'active', NOW, 'door').map((x) => x.id)).toEqual(['T-2']);
    expect(sortBoard([a, b], 'active', NOW, '  ')).toHaveLength(2);
  });

  it('counts per filter', () => {
    const c = countByFilter([ticket(), ticket({ status: 'reopened' }), ticket({ status: 'dispatched' }), ticket({ status: 'closed' }), ticket({ status: 'pending_review' })]);
    // 人工核准: an alert under review is in 待核准 only, not among the active ones.
    expect(c).toEqual({ active: 3, review: 1, open: 2, dispatched: 1, accepted: 0, done: 1 });
  });

  it('orders 1,000 open tickets as the control room reads them, at every second as deadlines pass', () => {
    const SEV = ['critical', 'high', 'normal'] as const;
    const many = Array.from({ length: 1000 }, (_, i) => ticket({ id: `T-${i}`, severity: SEV[i % 3], respondBy: iso(NOW + ((i * 7919) % 240 - 60) * MIN + (i % 7) * 1000) }));
    for (let s = 0; s < 10; s++) {
      const now = NOW + s * 1000;
      const sorted = sortBoard(many, 'active', now);
      expect(sorted).toHaveLength(1000);
      // (overdue first, severity, nearest deadline) never decreases down the list.
      const key = (t: (typeof many)[number]) => [Date.parse(t.respondBy) < now ? 0 : 1, SEV.indexOf(t.severity), Date.parse(t.respondBy)] as const;
      const bad = sorted.slice(1).filter((t, i) => {
        const [a, b] = [key(sorted[i]!), key(t)];
        return a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])));
      });
      expect(bad.map((t) => t.id)).toEqual([]);
    }
  });
});

describe('virtual list range', () => {
  it('renders only the rows in view plus overscan', () => {
    expect(visibleRange(0, 520, 52, 1000)).toEqual({ start: 0, end: 16 });
    expect(visibleRange(52 * 500, 520, 52, 1000)).toEqual({ start: 494, end: 516 });
    expect(visibleRange(52 * 995, 520, 52, 1000)).toEqual({ start: 989, end: 1000 });
    expect(visibleRange(0, 520, 52, 0)).toEqual({ start: 0, end: 0 });
  });
});
