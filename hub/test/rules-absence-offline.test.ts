import { describe, expect, it } from 'vitest';
import { CHARGER_RULES, DOOR_RULES } from '../src/rules/defaults/index.ts';
import { brief, device, event, Harness, HOUR, MIN, rule, SEC, T0 } from './rules-fixtures.ts';

const care = DOOR_RULES.find((r) => r.id === 'door.elderly_inactivity')!;
const doorOffline = DOOR_RULES.find((r) => r.id === 'door.offline')!;

describe('absence: 24 h without door activity in an elderly-care unit', () => {
  const elderly = device('door-old', 'door', { elderlyCare: true, unitId: 'u-care' });
  const plain = device('door-young', 'door', { unitId: 'u-plain' });
  const KEY = 'door.elderly_inactivity:s1:unit:u-care';

  it('opens for the flagged unit only, exactly at 24 h after the last activity', () => {
    const h = new Harness([care], [elderly, plain]);
    h.tick(T0);
    h.at(T0 + HOUR, elderly, 'door.opened');
    h.at(T0 + HOUR, plain, 'door.opened');
    expect(h.tick(T0 + 25 * HOUR - 1)).toEqual([]);
    const [d] = h.tick(T0 + 25 * HOUR);
    expect(d).toMatchObject({ kind: 'open', dedupKey: KEY, category: 'care', severity: 'high', deviceVerifiable: true });
    expect(d?.kind === 'open' && d.title['zh-CN']).toBe('关爱提醒：独居老人单元 24小时 无开门记录');
    expect(d?.evidence.eventKey).toBe(`tick:${new Date(T0 + 25 * HOUR).toISOString()}`);
    expect(h.ticks(T0 + 25 * HOUR, T0 + 72 * HOUR, HOUR)).toEqual([]);
  });

  it('heartbeats and denied cards are not activity; a granted entry resolves', () => {
    const h = new Harness([care], [elderly]);
    h.tick(T0);
    h.at(T0 + 10 * HOUR, elderly, 'door.heartbeat', { batteryPct: 80 });
    h.at(T0 + 12 * HOUR, elderly, 'door.access_denied', { credential: 'card', reason: 'expired' });
    expect(brief(h.tick(T0 + 24 * HOUR))).toEqual([`open:${KEY}`]);
    expect(brief(h.at(T0 + 30 * HOUR, elderly, 'door.access_granted', { credential: 'face' }))).toEqual([`resolve:${KEY}`]);
    expect(brief(h.tick(T0 + 54 * HOUR))).toEqual([`open:${KEY}`]);
  });

  it('a device never heard from is silent since the engine started watching it', () => {
    const h = new Harness([care], [elderly]);
    h.tick(T0 + 5 * HOUR);
    expect(h.tick(T0 + 29 * HOUR - 1)).toEqual([]);
    expect(brief(h.tick(T0 + 29 * HOUR))).toEqual([`open:${KEY}`]);
  });

  it('unit scope: activity at any door of the unit counts', () => {
    const a = device('door-a', 'door', { elderlyCare: true, unitId: 'u-care' });
    const b = device('door-b', 'door', { elderlyCare: true, unitId: 'u-care' });
    const h = new Harness([care], [a, b]);
    h.tick(T0);
    h.at(T0 + 20 * HOUR, b, 'door.closed');
    expect(h.tick(T0 + 30 * HOUR)).toEqual([]);
    expect(brief(h.tick(T0 + 44 * HOUR))).toEqual([`open:${KEY}`]);
  });

  it('late activity older than 24 h does not resolve', () => {
    const h = new Harness([care], [elderly]);
    h.tick(T0);
    h.tick(T0 + 24 * HOUR);
    // A gateway replays a buffered opening stamped 20 h ago: stale proof, keep the ticket.
    expect(h.send(event(elderly, 'door.opened', {}, T0 + 2 * HOUR, T0 + 26 * HOUR))).toEqual([]);
    expect(brief(h.send(event(elderly, 'door.opened', {}, T0 + 26 * HOUR)))).toEqual([`resolve:${KEY}`]);
  });
});

describe('offline: no message of any kind for T', () => {
  const door = device('door-1', 'door');
  const KEY = 'door.offline:s1:device:door-1';

  it('opens at 10 min of silence, not before; any message resolves', () => {
    const h = new Harness([doorOffline], [door]);
    h.at(T0, door, 'door.heartbeat', {});
    expect(h.tick(T0 + 10 * MIN - 1)).toEqual([]);
    const [d] = h.tick(T0 + 10 * MIN);
    expect(d).toMatchObject({ kind: 'open', dedupKey: KEY, category: 'equipment' });
    expect(d?.evidence.summary).toContain('no message for 10 min');
    expect(h.tick(T0 + 20 * MIN)).toEqual([]);
    expect(brief(h.at(T0 + 25 * MIN, door, 'door.heartbeat', {}))).toEqual([`resolve:${KEY}`]);
    expect(h.tick(T0 + 34 * MIN)).toEqual([]);
    expect(brief(h.tick(T0 + 35 * MIN))).toEqual([`open:${KEY}`]);
  });

  it('liveness is the hub receive time, not the (old) device timestamp of a buffered message', () => {
    const h = new Harness([doorOffline], [door]);
    h.at(T0, door, 'door.heartbeat', {});
    h.tick(T0 + 10 * MIN);
    expect(brief(h.send(event(door, 'door.opened', {}, T0 + MIN, T0 + 12 * MIN)))).toEqual([`resolve:${KEY}`]);
    expect(h.tick(T0 + 21 * MIN)).toEqual([]);
  });

  it('Last Will ({online:false}) is not a sign of life and by default does not open at once', () => {
    const h = new Harness([doorOffline], [door]);
    h.at(T0, door, 'door.heartbeat', {});
    expect(h.at(T0 + 5 * MIN, door, 'door.status', { online: false })).toEqual([]);
    expect(h.tick(T0 + 6 * MIN)).toEqual([]);
    expect(brief(h.tick(T0 + 10 * MIN))).toEqual([`open:${KEY}`]);
    expect(brief(h.at(T0 + 11 * MIN, door, 'door.status', { online: true }))).toEqual([`resolve:${KEY}`]);
  });

  it('lastWillMs opens that long after the Last Will', () => {
    const r = rule({ ...doorOffline, id: 'door.offline_fast', lastWillMs: 30_000 });
    const h = new Harness([r], [door]);
    h.at(T0, door, 'door.heartbeat', {});
    h.at(T0 + MIN, door, 'door.status', { online: false });
    expect(h.tick(T0 + MIN + 29 * SEC)).toEqual([]);
    const [d] = h.tick(T0 + MIN + 30 * SEC);
    expect(d?.evidence.summary).toContain('Last Will');
    expect(d?.evidence.ts).toBe(new Date(T0 + MIN + 30 * SEC).toISOString());
  });

  it('a registered device never heard from opens after T from the first tick; per family', () => {
    const ch = device('ch-1', 'charger');
    const h = new Harness([doorOffline, CHARGER_RULES.find((r) => r.id === 'charger.offline')!], [door, ch]);
    h.tick(T0);
    expect(brief(h.tick(T0 + 10 * MIN))).toEqual([`open:${KEY}`]);
    expect(h.tick(T0 + 30 * MIN - 1)).toEqual([]);
    expect(brief(h.tick(T0 + 30 * MIN))).toEqual(['open:charger.offline:s1:device:ch-1']);
  });
});
