import { describe, expect, it } from 'vitest';
import type { NotifyChannel, Ticket, Worker } from '@shaobing/schemas';
import { planNotifications, type NotifyDirectory } from '../src/notify/plan.ts';
import {
  applyAction, buildGridIndex, gridHops, metresBetween, nearestWorkers, offerTicket, othersOffered, takenFrom, workerMayClaim, workerScope, workerSees,
  type Actor,
} from '../src/tickets/core/index.ts';
import { DISPATCHER, GRID, makeTicket, MIN, must, SYSTEM, T0 } from './tickets-fixtures.ts';

// 抢单 (DESIGN §6): offer a team ticket to the N nearest workers of the team; first accept takes it.
const CLEANERS: Worker[] = [
  { id: 'c-u1', name: '一单元保洁', cellId: 'U1', teams: ['cleaning'], lat: 31.2300, lng: 121.4700 },
  { id: 'c-u2', name: '二单元保洁', cellId: 'U2', teams: ['cleaning'], lat: 31.2310, lng: 121.4700 },
  { id: 'c-p1-far', name: '院保洁远', cellId: 'P1', teams: ['cleaning'], lat: 31.2400, lng: 121.4700 },
  { id: 'c-p1-near', name: '院保洁近', cellId: 'P1', teams: ['cleaning'], lat: 31.2301, lng: 121.4700 },
  { id: 'c-p1-nopos', name: '院保洁无位置', cellId: 'P1', teams: ['cleaning'] },
  { id: 'c-p3', name: '三号院保洁', cellId: 'P3', teams: ['cleaning'] },
  { id: 'g-u1', name: '一单元保安', cellId: 'U1', teams: ['security'] },
];
const INDEX = buildGridIndex(GRID, CLEANERS);
const BIN = { cellId: 'U1', lat: 31.2300, lng: 121.4700 };
const worker = (id: string): Actor => {
  const w = CLEANERS.find((x) => x.id === id)!;
  return { id, role: 'worker', scope: workerScope('site1', w, INDEX) };
};
const offered = (n: number): Ticket => offerTicket(makeTicket({ cellId: 'U1', category: 'sanitation', deviceVerifiable: false }), INDEX, BIN, n);

describe('nearest workers', () => {
  it('grid steps: same cell 0, parent 1, sibling 2, another community 4; unrelated trees are Infinity', () => {
    expect(gridHops(INDEX, 'U1', 'U1')).toBe(0);
    expect(gridHops(INDEX, 'U1', 'P1')).toBe(1);
    expect(gridHops(INDEX, 'U1', 'U2')).toBe(2);
    expect(gridHops(INDEX, 'U1', 'P3')).toBe(5); // U1›P1›C1›S1 ‹C2‹P3
    expect(gridHops(INDEX, 'U1', 'nowhere')).toBe(Infinity);
  });

  it('ranks by grid steps, then metres (unknown position last), then id; only the ticket\'s team; at most n', () => {
    expect(nearestWorkers(INDEX, 'cleaning', BIN, 10).map((w) => w.id)).toEqual(['c-u1', 'c-p1-near', 'c-p1-far', 'c-p1-nopos', 'c-u2', 'c-p3']);
    expect(nearestWorkers(INDEX, 'cleaning', BIN, 3).map((w) => w.id)).toEqual(['c-u1', 'c-p1-near', 'c-p1-far']);
    expect(nearestWorkers(INDEX, 'security', BIN, 3).map((w) => w.id)).toEqual(['g-u1']);
    // Without the device's coordinates: grid steps, then id.
    expect(nearestWorkers(INDEX, 'cleaning', { cellId: 'U1' }, 4).map((w) => w.id)).toEqual(['c-u1', 'c-p1-far', 'c-p1-near', 'c-p1-nopos']);
    expect(Math.round(metresBetween({ lat: 31.23, lng: 121.47 }, { lat: 31.24, lng: 121.47 }))).toBe(1112);
  });
});

describe('offering and taking (抢单)', () => {
  it('an offered ticket has no assignee, the nearest N as candidates, the ladder kept for escalation', () => {
    const routed = makeTicket({ cellId: 'U1', category: 'sanitation' });
    const t = offered(3);
    expect(t.assigneeId).toBeUndefined();
    expect(t.offeredTo).toEqual(['c-u1', 'c-p1-near', 'c-p1-far']);
    expect(t.ladder).toEqual(routed.ladder);
    // One candidate is no competition: routed as usual.
    const guard = makeTicket({ cellId: 'U1', category: 'security' });
    const lone = offerTicket(guard, INDEX, BIN, 3);
    expect(lone).toBe(guard);
  });

  it('each candidate sees and may take it, even outside their cells; others may not', () => {
    const t = offered(3);
    expect(workerMayClaim(t, worker('c-p1-far').scope!)).toBe(true);
    expect(workerSees(t, worker('c-p1-near').scope!)).toBe(true);
    expect(workerSees(t, worker('c-u2').scope!)).toBe(false); // a cleaner of U2 not offered: not theirs
    expect(applyAction(t, { kind: 'accept' }, worker('c-u2'), T0 + MIN)).toMatchObject({ ok: false, error: { code: 'HUB_ERR_FORBIDDEN' } });
  });

  it('the first accept takes it; the second candidate learns who won; the others are told it is taken', () => {
    const t = offered(3);
    const won = must(t, { kind: 'accept', version: t.version }, worker('c-p1-near'), T0 + MIN);
    expect(won).toMatchObject({ status: 'accepted', assigneeId: 'c-p1-near' });
    // The loser had read the same version: the state machine refuses it on the new one.
    const late = applyAction(won, { kind: 'accept', version: t.version }, worker('c-u1'), T0 + MIN + 1);
    expect(late.ok).toBe(false);
    expect(takenFrom(won, 'c-u1')).toBe('c-p1-near');
    expect(takenFrom(won, 'c-p1-near')).toBeNull();
    expect(takenFrom(won, 'c-u2')).toBeNull(); // never offered it
    expect(othersOffered(won)).toEqual(['c-u1', 'c-p1-far']);
  });

  it('a dispatcher may still assign an offered ticket by hand', () => {
    const t = must(offered(3), { kind: 'dispatch', assigneeId: 'c-u2' }, DISPATCHER, T0 + MIN);
    expect(t).toMatchObject({ status: 'dispatched', assigneeId: 'c-u2' });
  });

  it('nobody takes it by the response deadline: the SLA sweep escalates it as any other', () => {
    const t = offered(3);
    const r = applyAction(t, { kind: 'escalate' }, SYSTEM, Date.parse(t.respondBy) + MIN);
    expect(r).toMatchObject({ ok: true, ticket: { escalationLevel: 1 } });
  });
});

describe('notifications of an offer', () => {
  const hook = (name: string): NotifyChannel => ({ kind: 'webhook', url: `http://127.0.0.1/${name}` });
  const dir: NotifyDirectory = {
    workerChannels: (_s, w) => [hook(w)], groupOf: () => undefined, global: [], quietHours: () => undefined, timezone: () => 'Asia/Shanghai',
  };
  const at = new Date(T0).toISOString();

  it('opening tells every candidate; the first accept tells the others it is taken (not the winner)', () => {
    const t = offered(3);
    const opened = planNotifications({ kind: 'opened', ticket: t, from: null, at, actor: 'system:bin' }, 'open', dir, T0);
    expect(opened.map((r) => [r.event, r.recipient])).toEqual([['offered', 'c-u1'], ['offered', 'c-p1-near'], ['offered', 'c-p1-far']]);
    const won = must(t, { kind: 'accept' }, worker('c-u1'), T0 + MIN);
    const taken = planNotifications({ kind: 'status', ticket: won, from: 'open', at, actor: 'c-u1' }, 'accept', dir, T0 + MIN);
    expect(taken.map((r) => [r.event, r.recipient])).toEqual([['taken', 'c-p1-near'], ['taken', 'c-p1-far']]);
    expect(taken[0]!.payload.text).toContain('已被抢');
  });

  it('an ordinary accept tells nobody', () => {
    const t = must(makeTicket({ cellId: 'U1' }), { kind: 'dispatch' }, DISPATCHER, T0);
    const acc = must(t, { kind: 'accept' }, DISPATCHER, T0 + MIN);
    expect(planNotifications({ kind: 'status', ticket: acc, from: 'dispatched', at, actor: 'disp' }, 'accept', dir, T0)).toEqual([]);
  });
});
