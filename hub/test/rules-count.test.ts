import { describe, expect, it } from 'vitest';
import { DOOR_RULES } from '../src/rules/defaults/index.ts';
import { brief, device, Harness, MIN, opens, rule, SEC, T0 } from './rules-fixtures.ts';

const door = device('door-1', 'door');
const burst = DOOR_RULES.find((r) => r.id === 'door.denied_burst')!;
const KEY = 'door.denied_burst:s1:device:door-1';
const denied = { credential: 'card', reason: 'unknown_credential' };

describe('count: ≥5 door.access_denied within 2 min', () => {
  it('4 then a 5th exactly 2:00.000 after the first opens (inclusive window)', () => {
    const h = new Harness([burst], [door]);
    for (const s of [0, 10, 20, 30]) expect(h.at(T0 + s * SEC, door, 'door.access_denied', denied)).toEqual([]);
    const [d] = h.at(T0 + 2 * MIN, door, 'door.access_denied', denied);
    expect(d).toMatchObject({ kind: 'open', dedupKey: KEY, severity: 'high', category: 'security' });
    expect(d?.kind === 'open' && d.description['zh-CN']).toBe('门禁 door-1 在 2分钟 内被拒绝开门 5 次，疑似有人试图非法进入，请安保人员到场核查。');
  });

  it('4 then a 5th at 2:00.001 after the first does not open', () => {
    const h = new Harness([burst], [door]);
    for (const s of [0, 10, 20, 30]) h.at(T0 + s * SEC, door, 'door.access_denied', denied);
    expect(h.at(T0 + 2 * MIN + 1, door, 'door.access_denied', denied)).toEqual([]);
    // …but the next one makes 5 within the window that starts at 0:10.
    expect(brief(h.at(T0 + 2 * MIN + 2, door, 'door.access_denied', denied))).toEqual([`open:${KEY}`]);
  });

  it('every further denial inside the burst is an occurrence (same key)', () => {
    const h = new Harness([burst], [door]);
    for (let i = 0; i < 8; i++) h.at(T0 + i * SEC, door, 'door.access_denied', denied);
    expect(brief(h.log.map((l) => l.d))).toEqual(Array(4).fill(`open:${KEY}`));
    const last = h.log.at(-1)?.d;
    expect(last?.kind === 'open' && last.description.en).toContain('8 times');
  });

  it('out-of-order: a late event is counted by its own time', () => {
    const h = new Harness([burst], [door]);
    for (const s of [0, 30, 60, 90]) h.at(T0 + s * SEC, door, 'door.access_denied', denied);
    h.at(T0 + 10 * MIN, door, 'door.access_denied', denied);
    // Stamped 1:45 it would complete a burst 0:00–1:45, but it arrives after an event at
    // 10:00 and is older than that window (8:00–10:00): dropped, its burst long judged.
    expect(h.at(T0 + 105 * SEC, door, 'door.access_denied', denied)).toEqual([]);
    const h2 = new Harness([burst], [door]);
    for (const s of [0, 30, 90, 100]) h2.at(T0 + s * SEC, door, 'door.access_denied', denied);
    expect(brief(h2.at(T0 + 60 * SEC, door, 'door.access_denied', denied))).toEqual([`open:${KEY}`]);
  });

  it('a unit-scoped count adds up the doors of the unit', () => {
    const a = device('door-a', 'door');
    const b = device('door-b', 'door');
    const other = device('door-c', 'door', { unitId: 'u2' });
    const r = rule({ ...burst, id: 'unit.burst', dedupScope: 'unit' });
    const h = new Harness([r], [a, b, other]);
    for (const [i, d] of [a, b, a, other, b].entries()) h.at(T0 + i * SEC, d, 'door.access_denied', denied);
    expect(h.log).toEqual([]);
    expect(brief(h.at(T0 + 10 * SEC, a, 'door.access_denied', denied))).toEqual(['open:unit.burst:s1:unit:u1']);
  });

  it('ticks forget bursts that left the window', () => {
    const h = new Harness([burst], [door]);
    h.at(T0, door, 'door.access_denied', denied);
    expect(Object.keys(h.state.slots['s1/door.denied_burst']!.s)).toHaveLength(1);
    h.tick(T0 + 2 * MIN + 1);
    expect(h.state.slots['s1/door.denied_burst']!.s).toEqual({});
    expect(h.state.slots['s1/door.denied_burst']!.due).toEqual({});
  });

  it('memory stays bounded under a flood', () => {
    const h = new Harness([burst], [door]);
    for (let i = 0; i < 1000; i++) h.at(T0 + i * 10, door, 'door.access_denied', denied);
    expect(h.state.slots['s1/door.denied_burst']!.s[KEY]!.times!.length).toBeLessThanOrEqual(10);
    expect(opens(h.log.map((l) => l.d))).toHaveLength(996);
  });
});
