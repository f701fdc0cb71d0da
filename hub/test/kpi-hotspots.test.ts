import type { PlanDevice } from '@shaobing/schemas';
import { describe, expect, it } from 'vitest';
import { rankHotspots } from '../src/kpi/core/hotspots.ts';
import type { TicketFact } from '../src/kpi/core/insights.ts';
import { DAY, INDEX } from './tickets-fixtures.ts';

// 高频点位 over hand-built facts: each ticket counts at one spot (its device, else its cell),
// cells sum what is at or below them, the category filter narrows the count, and every spot
// carries the ticket-list query of exactly its tickets.
const WINDOW = { from: Date.parse('2026-06-01T00:00:00Z'), to: Date.parse('2026-07-01T00:00:00Z') };
const DEVICES = new Map<string, PlanDevice>([
  ['chg-1', { id: 'chg-1', family: 'charger', cellId: 'P1', label: '充电棚1号桩', lat: 39.9, lng: 116.4 }],
  ['bin-1', { id: 'bin-1', family: 'bin', cellId: 'P1', label: '驿站厨余桶' }],
]);
let n = 0;
const fact = (over: Partial<TicketFact>): TicketFact => ({ id: `f${++n}`, category: 'fire_safety', cellId: 'P1', openedAt: WINDOW.from + DAY, ...over });

describe('hotspots (高频点位)', () => {
  const facts = [
    ...[1, 2, 3].map((d) => fact({ deviceId: 'chg-1', openedAt: WINDOW.from + d * DAY })),
    fact({ deviceId: 'chg-1', category: 'equipment' }),
    ...[1, 2].map((d) => fact({ deviceId: 'bin-1', category: 'sanitation', openedAt: WINDOW.from + d * DAY })),
    // Complaints at a unit, no device: the unit is the spot.
    fact({ cellId: 'U1', category: 'sanitation' }), fact({ cellId: 'U1', category: 'fire_safety' }),
    fact({ cellId: 'U3', category: 'fire_safety' }),
    // Outside the window: never counted.
    fact({ deviceId: 'bin-1', category: 'sanitation', openedAt: WINDOW.from - 1 }),
    fact({ deviceId: 'bin-1', category: 'sanitation', openedAt: WINDOW.to }),
  ];

  it('ranks devices and cells by tickets, each ticket once, hottest first', () => {
    const r = rankHotspots(facts, 'site1', WINDOW, INDEX, DEVICES);
    expect(r.total).toBe(9);
    expect(r.spots.map((s) => [s.rank, s.kind, s.id, s.count])).toEqual([
      [1, 'device', 'chg-1', 4], [2, 'cell', 'U1', 2], [3, 'device', 'bin-1', 2], [4, 'cell', 'U3', 1],
    ]);
    expect(r.spots.reduce((a, s) => a + s.count, 0)).toBe(r.total);
    const chg = r.spots[0]!;
    expect(chg).toMatchObject({ name: '充电棚1号桩', family: 'charger', cellId: 'P1', lat: 39.9, lng: 116.4 });
    expect(chg.byCategory).toEqual([{ category: 'fire_safety', count: 3 }, { category: 'equipment', count: 1 }]);
    expect(r.spots[1]).toMatchObject({ name: '1-1单元', cellId: 'U1' });
    expect(r.spots[1]!.family).toBeUndefined();
    expect(r.spots[2]!.lat).toBeUndefined(); // no coordinates in the registry: none invented
  });

  it('sums cells over what is at or below them', () => {
    const r = rankHotspots(facts, 'site1', WINDOW, INDEX, DEVICES);
    const count = (id: string) => r.cells.find((c) => c.cellId === id)?.count;
    expect([count('S1'), count('C1'), count('P1'), count('U1'), count('P2'), count('U3'), count('U2')]).toEqual([9, 9, 8, 2, 1, 1, undefined]);
    expect(r.cells.find((c) => c.cellId === 'P1')!.level).toBe('compound');
  });

  it('a category narrows what is counted and ranked; the breakdown still shows the window', () => {
    const r = rankHotspots(facts, 'site1', WINDOW, INDEX, DEVICES, { category: 'sanitation' });
    expect(r.total).toBe(3);
    expect(r.spots.map((s) => [s.id, s.count])).toEqual([['bin-1', 2], ['U1', 1]]);
    expect(r.spots[1]!.byCategory).toEqual([{ category: 'fire_safety', count: 1 }, { category: 'sanitation', count: 1 }]);
    expect(r.cells.find((c) => c.cellId === 'P1')!.count).toBe(3);
    expect(r.cells.some((c) => c.cellId === 'U3')).toBe(false);
  });

  it('each spot carries the ticket-list query of exactly its tickets', () => {
    const r = rankHotspots(facts, 'site1', WINDOW, INDEX, DEVICES, { category: 'fire_safety' });
    const device = r.spots.find((s) => s.id === 'chg-1')!;
    expect(device.tickets).toMatchObject({ siteId: 'site1', deviceId: 'chg-1', category: 'fire_safety', from: '2026-06-01T00:00:00.000Z', to: '2026-07-01T00:00:00.000Z' });
    expect(device.tickets.cellId).toBeUndefined();
    expect(device.tickets.status).not.toContain('dismissed');
    expect(device.tickets.status).toContain('closed');
    const cell = r.spots.find((s) => s.id === 'U1')!;
    expect(cell.tickets).toMatchObject({ cellId: 'U1', hasDevice: false, category: 'fire_safety' });
    expect(cell.tickets.deviceId).toBeUndefined();
  });

  it('limits the list; ties go by name', () => {
    const r = rankHotspots([fact({ cellId: 'U3' }), fact({ cellId: 'U1' }), fact({ cellId: 'U2' })], 'site1', WINDOW, INDEX, DEVICES, { limit: 2 });
    expect(r.spots.map((s) => s.name)).toEqual(['1-1单元', '1-2单元']);
  });
});
