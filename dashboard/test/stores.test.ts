import { describe, expect, it } from 'vitest';
import { TicketIndex } from '../src/lib/ticket-index.ts';
import { EventTicker, eventKey } from '../src/lib/ticker.ts';
import { buildGridTree, filterTree } from '../src/lib/grid-tree.ts';
import { actionBody, actionForm, normaliseActions } from '../src/lib/actions.ts';
import { eventSeries, ticketSeries } from '../src/lib/series.ts';
import { FrameBatcher } from '../src/lib/frame-batch.ts';
import type { DeviceView, GridCell } from '../src/lib/contract.ts';
import { event, ticket } from './fixtures.ts';

describe('TicketIndex', () => {
  it('keeps the newest version whatever the arrival order', () => {
    const idx = new TicketIndex();
    expect(idx.upsert(ticket({ id: 'x', version: 2, status: 'dispatched' }))).toBe('new');
    expect(idx.upsert(ticket({ id: 'x', version: 1, status: 'open' }))).toBe('stale');
    expect(idx.upsert(ticket({ id: 'x', version: 3, status: 'accepted' }))).toBe('updated');
    expect(idx.get('x')?.status).toBe('accepted');
  });

  it('a snapshot loaded while live updates arrive does not roll them back', () => {
    const idx = new TicketIndex();
    idx.upsert(ticket({ id: 'gone', version: 1 }));
    idx.beginRefresh();
    idx.upsert(ticket({ id: 'a', version: 5, status: 'accepted' })); // live, during the load
    idx.completeRefresh([ticket({ id: 'a', version: 4, status: 'dispatched' }), ticket({ id: 'b', version: 1 })]);
    expect(idx.get('a')?.version).toBe(5);
    expect(idx.get('b')).toBeDefined();
    expect(idx.get('gone')).toBeUndefined();
  });

  it('lists active critical tickets and open counts per cell; prunes old finished ones', () => {
    const idx = new TicketIndex();
    idx.upsert(ticket({ id: 'c1', severity: 'critical', cellId: 'u1' }));
    idx.upsert(ticket({ id: 'c2', severity: 'critical', status: 'resolved', cellId: 'u1' }));
    idx.upsert(ticket({ id: 'n1', cellId: 'u2' }));
    expect(idx.criticalActive().map((x) => x.id)).toEqual(['c1']);
    expect(Object.fromEntries(idx.activeByCell())).toEqual({ u1: 1, u2: 1 });
    for (let i = 0; i < 10; i++) idx.upsert(ticket({ status: 'closed', resolvedAt: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString() }));
    idx.pruneFinished(3);
    expect(idx.size).toBe(3 + 2);
  });
});

describe('EventTicker', () => {
  it('keeps the newest N once each, newest first', () => {
    const tk = new EventTicker(3);
    const es = [event(), event(), event(), event()];
    expect(tk.add([es[0]!, es[1]!])).toBe(2);
    expect(tk.add([es[1]!, es[2]!, es[3]!])).toBe(2);
    expect(tk.list('all', 10).map(eventKey)).toEqual([es[3]!, es[2]!, es[1]!].map(eventKey));
    expect(tk.has(eventKey(es[0]!))).toBe(false);
  });

  it('filters by family and measures the rate', () => {
    const tk = new EventTicker(100, 5000);
    tk.add([event(), event({ family: 'door', type: 'door.opened' })], 1000);
    tk.add([event()], 3000);
    expect(tk.list('door', 10)).toHaveLength(1);
    expect(tk.rate(4000)).toBeCloseTo(3 / 5);
    expect(tk.rate(7000)).toBeCloseTo(1 / 5);
  });

  it('leaves heartbeats out unless asked for', () => {
    const tk = new EventTicker(100);
    tk.add([event({ family: 'door', type: 'door.heartbeat' }), event({ family: 'door', type: 'door.opened' }), event({ family: 'camera', type: 'camera.heartbeat' })]);
    expect(tk.list('all', 10).map((e) => e.type)).toEqual(['door.opened']);
    expect(tk.list('door', 10, true)).toHaveLength(2);
    expect(tk.list('all', 10, true)).toHaveLength(3);
  });
});

describe('grid tree', () => {
  const cells: GridCell[] = [
    { id: 's', level: 'street', name: '街道' },
    { id: 'c', level: 'community', name: '社区', parentId: 's' },
    { id: 'p', level: 'compound', name: '小区', parentId: 'c' },
    { id: 'u1', level: 'unit', name: '1单元', parentId: 'p' },
    { id: 'u2', level: 'unit', name: '2单元', parentId: 'p' },
  ];
  const dev = (deviceId: string, cellId: string, online: boolean): DeviceView => ({ siteId: 'demo', deviceId, family: 'bin', cellId, location: deviceId, online, lastSeen: null, status: null, rejected: 0 });

  it('rolls devices and open tickets up 街道 › 社区 › 楼院 › 单元', () => {
    const tree = buildGridTree(cells, [dev('a', 'u1', true), dev('b', 'u2', false), dev('c', 'p', true), dev('x', 'nowhere', true)], new Map([['u1', 2], ['c', 1]]));
    const street = tree.roots[0]!;
    expect(tree.roots).toHaveLength(1);
    expect({ total: street.total, online: street.online, open: street.openTickets }).toEqual({ total: 3, online: 2, open: 3 });
    expect(street.children[0]!.children[0]!.children.map((n) => n.cell.id)).toEqual(['u1', 'u2']);
    expect(tree.unplaced.map((d) => d.deviceId)).toEqual(['x']);
    const offline = filterTree(tree.roots, (d) => !d.online, () => false);
    expect(offline[0]!.children[0]!.children[0]!.children.map((n) => n.cell.id)).toEqual(['u2']);
  });
});

describe('actions', () => {
  it('normalises allowed actions and orders the buttons', () => {
    expect(normaliseActions(['resolve', 'comment', 'request-dismiss', 'bogus', 'dispatch'])).toEqual(['dispatch', 'resolve', 'comment', 'request_dismiss']);
  });
  it('builds bodies and refuses a missing required note', () => {
    expect(actionBody('resolve', { note: '  ' }, 3)).toEqual({ ok: false, missing: 'note' });
    expect(actionBody('resolve', { note: ' cleared ' }, 3)).toEqual({ ok: true, body: { version: 3, note: 'cleared' } });
    expect(actionBody('dispatch', { note: '', assigneeId: 'w1' }, 1)).toEqual({ ok: true, body: { version: 1, assigneeId: 'w1' } });
    expect(actionBody('rate', { note: '', rating: 'unsatisfied' }, 2)).toEqual({ ok: true, body: { version: 2, rating: 'unsatisfied' } });
    expect(actionBody('request_dismiss', { note: 'test run', reasonCategory: 'test' }, 2)).toEqual({ ok: true, body: { version: 2, note: 'test run', reasonCategory: 'test' } });
  });
  it("asks each action's form for what the hub's body schema requires", () => {
    expect(actionForm('dispatch')).toEqual({ note: 'optional', field: 'assignee' });
    expect(actionForm('accept')).toEqual({ note: 'optional' });
    expect(actionForm('comment')).toEqual({ note: 'required' });
    expect(actionForm('resolve')).toEqual({ note: 'required' });
    expect(actionForm('rate')).toEqual({ note: 'optional', field: 'rating' });
    expect(actionForm('request_dismiss')).toEqual({ note: 'required', field: 'reason' });
    expect(actionForm('approve_dismiss')).toEqual({ note: 'optional' });
    expect(actionForm('reject_dismiss')).toEqual({ note: 'required' });
    expect(actionForm('escalate')).toEqual({ note: 'required' });
    expect(actionForm('reopen')).toEqual({ note: 'required' });
    expect(actionForm('arrive')).toEqual({ note: 'optional' });
  });
});

describe('chart series', () => {
  it('zero-fills buckets and pivots families', () => {
    const s = eventSeries({ bucket: '1h', from: '2025-03-01T00:00:00.000Z', to: '2025-03-01T03:00:00.000Z', items: [
      { t: '2025-03-01T00:00:00.000Z', family: 'bin', count: 4 }, { t: '2025-03-01T02:00:00.000Z', family: 'door', count: 1 },
    ] }, ['bin', 'door']);
    expect(s.xs).toHaveLength(3);
    expect(s.series.get('bin')).toEqual([4, 0, 0]);
    expect(s.series.get('door')).toEqual([0, 0, 1]);
    const t = ticketSeries({ bucket: '1d', from: '2025-02-28T16:00:00.000Z', to: '2025-03-02T16:00:00.000Z', items: [{ t: '2025-03-01T16:00:00.000Z', opened: 2, resolved: 1 }] });
    expect(t).toMatchObject({ opened: [0, 2], resolved: [0, 1] });
  });
});

describe('FrameBatcher', () => {
  it('hands over everything pushed before a frame in one call', async () => {
    const calls: number[][] = [];
    let frame: (() => void) | null = null;
    const b = new FrameBatcher<number>((xs) => calls.push(xs), 1000, (cb) => { frame = cb; return 1; });
    for (let i = 0; i < 200; i++) b.push(i);
    expect(calls).toHaveLength(0);
    (frame as unknown as () => void)();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(200);
  });

  it('flushes on a timer when no frames come (background tab)', async () => {
    const calls: number[][] = [];
    const b = new FrameBatcher<number>((xs) => calls.push(xs), 10, () => 1);
    b.push(1, 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toEqual([[1, 2]]);
  });
});
