import { describe, expect, it } from 'vitest';
import type { PlanCell, PlanDevice } from '../src/lib/contract.ts';
import { heatColour, layoutSitePlan, spotRadius, type Rect } from '../src/lib/site-plan.ts';

const CELLS: PlanCell[] = [
  { id: 'st', level: 'street', name: '街道' },
  { id: 'c1', level: 'community', name: '社区', parentId: 'st' },
  { id: 'y1', level: 'compound', name: '东园', parentId: 'c1' },
  { id: 'y1-u1', level: 'unit', name: '1单元', parentId: 'y1' },
  { id: 'y1-u2', level: 'unit', name: '2单元', parentId: 'y1' },
  { id: 'y2', level: 'compound', name: '西园', parentId: 'c1' },
  { id: 'y2-u1', level: 'unit', name: '1单元', parentId: 'y2' },
];
const located: PlanDevice[] = [
  { id: 'door-1', family: 'door', cellId: 'y1-u1', label: '1单元门禁', lat: 39.9402, lng: 116.4500 },
  { id: 'door-2', family: 'door', cellId: 'y1-u2', label: '2单元门禁', lat: 39.9402, lng: 116.4502 },
  { id: 'chg-1', family: 'charger', cellId: 'y1', label: '充电桩', lat: 39.9405, lng: 116.4501 },
  { id: 'door-3', family: 'door', cellId: 'y2-u1', label: '1单元门禁', lat: 39.9380, lng: 116.4530 },
];
const SIZE = { width: 1000, height: 640 };
const inside = (p: { x: number; y: number }, r: Rect) => p.x >= r.x && p.x <= r.x + r.w && p.y >= r.y && p.y <= r.y + r.h;
const within = (a: Rect, b: Rect) => a.x >= b.x && a.y >= b.y && a.x + a.w <= b.x + b.w && a.y + a.h <= b.y + b.h;

describe('site plan layout', () => {
  it('with every device located, draws from the coordinates: north up, east right, blocks around their devices', () => {
    const plan = layoutSitePlan(CELLS, located, SIZE);
    expect(plan.mode).toBe('coordinates');
    expect(plan.unlocated).toBe(0);
    const p = (id: string) => plan.devices.get(id)!;
    expect(p('door-2').x).toBeGreaterThan(p('door-1').x); // east is right
    expect(p('chg-1').y).toBeLessThan(p('door-1').y); // north is up
    expect(p('door-3').x).toBeGreaterThan(p('chg-1').x);
    for (const d of located) { const q = p(d.id); expect(q.x).toBeGreaterThanOrEqual(0); expect(q.x).toBeLessThanOrEqual(SIZE.width); expect(q.y).toBeGreaterThanOrEqual(0); expect(q.y).toBeLessThanOrEqual(SIZE.height); }
    const block = (id: string) => plan.blocks.find((b) => b.id === id)!;
    expect(inside(p('door-1'), block('y1-u1'))).toBe(true);
    expect(inside(p('chg-1'), block('y1'))).toBe(true);
    expect(within(block('y1-u1'), block('y1'))).toBe(true);
    expect(within(block('y1'), block('c1'))).toBe(true);
    expect(inside(p('door-3'), block('y1'))).toBe(false);
    expect(plan.blocks.some((b) => b.level === 'street')).toBe(false);
    expect(plan.blocks.map((b) => b.level)).toEqual(['community', 'compound', 'compound', 'unit', 'unit', 'unit']); // outer first
  });

  it('with some devices unlocated, keeps the map of the located ones and lines the others up below it', () => {
    const devices = located.map((d) => (d.id === 'door-3' ? { id: d.id, family: d.family, cellId: d.cellId, label: d.label } : d));
    const plan = layoutSitePlan(CELLS, devices, SIZE);
    expect(plan.mode).toBe('partial');
    expect(plan.unlocated).toBe(1);
    expect(layoutSitePlan(CELLS, devices, SIZE)).toEqual(plan); // deterministic
    const p = (id: string) => plan.devices.get(id)!;
    expect(p('door-2').x).toBeGreaterThan(p('door-1').x); // still a map: east is right, north up
    expect(p('chg-1').y).toBeLessThan(p('door-1').y);
    const row = plan.unlocatedRow!;
    expect(inside(p('door-3'), row)).toBe(true);
    // The row lies below every block and every located device.
    for (const b of plan.blocks) expect(b.y + b.h).toBeLessThan(row.y);
    for (const d of devices.filter((x) => x.lat !== undefined)) expect(p(d.id).y).toBeLessThan(row.y);
    // A block is the box around its located devices; a cell with none has no block of its own.
    expect(plan.blocks.find((b) => b.id === 'y2')).toBeUndefined();
    expect(inside(p('chg-1'), plan.blocks.find((b) => b.id === 'y1')!)).toBe(true);
  });

  it('falls back to a deterministic schematic from the grid when no device has coordinates, and counts them', () => {
    const devices = located.map((d) => ({ id: d.id, family: d.family, cellId: d.cellId, label: d.label }));
    const plan = layoutSitePlan(CELLS, devices, SIZE);
    expect(plan.mode).toBe('schematic');
    expect(plan.unlocated).toBe(4);
    expect(layoutSitePlan(CELLS, devices, SIZE)).toEqual(plan); // deterministic
    const block = (id: string) => plan.blocks.find((b) => b.id === id)!;
    for (const id of ['y1-u1', 'y1-u2']) expect(within(block(id), block('y1'))).toBe(true);
    expect(within(block('y2-u1'), block('y2'))).toBe(true);
    expect(within(block('y1'), block('c1'))).toBe(true);
    // Compounds side by side, not overlapping.
    const [a, b] = [block('y1'), block('y2')];
    expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y).toBe(true);
    // Every device sits in its own cell's block, the unlocated one too.
    for (const d of devices) expect(inside(plan.devices.get(d.id)!, block(d.cellId)), d.id).toBe(true);
  });

  it('places a cell spot at its block, or its parent\'s when it has none', () => {
    const plan = layoutSitePlan([...CELLS, { id: 'y1-u3', level: 'unit', name: '3单元', parentId: 'y1' }], located, SIZE);
    const y1 = plan.blocks.find((b) => b.id === 'y1')!;
    expect(plan.cells.get('y1-u3')).toEqual({ x: y1.x + y1.w / 2, y: y1.y + y1.h / 2 });
    expect(plan.cells.get('st')).toBeDefined();
  });

  it('sizes and colours spots by count: the hottest is the largest and the reddest', () => {
    expect(spotRadius(10, 10)).toBeGreaterThan(spotRadius(3, 10));
    expect(spotRadius(1, 10)).toBeGreaterThan(0);
    expect(heatColour(10, 10)).toBe('hsl(0 90% 44%)');
    expect(heatColour(0, 10)).toBe('hsl(45 90% 58%)');
  });
});
