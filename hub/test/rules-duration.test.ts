import { describe, expect, it } from 'vitest';
import { CHARGER_RULES, DOOR_RULES } from '../src/rules/defaults/index.ts';
import { brief, device, Harness, HOUR, MIN, SEC, T0 } from './rules-fixtures.ts';

const door = device('door-1', 'door');
const held = DOOR_RULES.find((r) => r.id === 'door.held_open')!;
const KEY = 'door.held_open:s1:device:door-1';

describe('duration: door opened without closed for 60 s', () => {
  it('not yet at 59.999 s, opens on the tick at 60 s, closing resolves', () => {
    const h = new Harness([held], [door]);
    h.at(T0, door, 'door.opened', { method: 'card' });
    expect(h.tick(T0 + 60 * SEC - 1)).toEqual([]);
    const [d] = h.tick(T0 + 60 * SEC);
    expect(d).toMatchObject({ kind: 'open', dedupKey: KEY, deviceVerifiable: true });
    expect(d?.kind === 'open' && d.description['zh-CN']).toContain('开门后超过 1分钟 未关闭');
    expect(d?.evidence.summary).toBe('door.opened method=card with no door.closed for 1 min');
    expect(h.tick(T0 + 61 * SEC)).toEqual([]);
    expect(brief(h.at(T0 + 2 * MIN, door, 'door.closed'))).toEqual([`resolve:${KEY}`]);
  });

  it('closed within 60 s: nothing', () => {
    const h = new Harness([held], [door]);
    h.at(T0, door, 'door.opened');
    h.at(T0 + 59 * SEC, door, 'door.closed');
    expect(h.ticks(T0, T0 + 5 * MIN, 5 * SEC)).toEqual([]);
  });

  it('a repeated opened keeps the first start time', () => {
    const h = new Harness([held], [door]);
    h.at(T0, door, 'door.opened');
    h.at(T0 + 30 * SEC, door, 'door.opened');
    expect(brief(h.tick(T0 + 60 * SEC))).toEqual([`open:${KEY}`]);
  });

  it('closed after the run came due but before any tick: open and resolve together', () => {
    const h = new Harness([held], [door]);
    h.at(T0, door, 'door.opened');
    expect(brief(h.at(T0 + 65 * SEC, door, 'door.closed'))).toEqual([`open:${KEY}`, `resolve:${KEY}`]);
  });

  it('out-of-order: closed arrives before its opened → the door is closed, no alarm', () => {
    const h = new Harness([held], [door]);
    h.at(T0 + 12 * SEC, door, 'door.closed');
    h.at(T0 + 10 * SEC, door, 'door.opened');
    expect(h.ticks(T0, T0 + 5 * MIN, 10 * SEC)).toEqual([]);
  });

  it('charger session > 8 h, per port; a new session on the port restarts the clock', () => {
    const long = CHARGER_RULES.find((r) => r.id === 'charger.long_session')!;
    const ch = device('ch-1', 'charger');
    const h = new Harness([long], [ch]);
    h.at(T0, ch, 'charger.session_start', { port: 1, sessionId: 'a' });
    h.at(T0 + HOUR, ch, 'charger.session_start', { port: 2, sessionId: 'b' });
    h.at(T0 + 7 * HOUR, ch, 'charger.session_start', { port: 2, sessionId: 'c' });
    const ds = h.ticks(T0, T0 + 10 * HOUR, 10 * MIN);
    expect(brief(ds)).toEqual(['open:charger.long_session:s1:device:ch-1:port=1']);
    expect(ds[0]?.kind === 'open' && ds[0].description['zh-CN']).toContain('第1号口连续充电已超过 8小时');
    // Unplugged telemetry is a stop too.
    expect(brief(h.at(T0 + 11 * HOUR, ch, 'charger.telemetry', { port: 1, powerW: 0, temperatureC: 20, plugged: false })))
      .toEqual(['resolve:charger.long_session:s1:device:ch-1:port=1']);
    expect(brief(h.ticks(T0 + 11 * HOUR, T0 + 16 * HOUR, 10 * MIN))).toEqual(['open:charger.long_session:s1:device:ch-1:port=2']);
  });

  it('restart while open resolves the old run (the session ended unseen) and starts a new one', () => {
    const long = CHARGER_RULES.find((r) => r.id === 'charger.long_session')!;
    const ch = device('ch-1', 'charger');
    const h = new Harness([long], [ch]);
    h.at(T0, ch, 'charger.session_start', { port: 1, sessionId: 'a' });
    h.tick(T0 + 8 * HOUR);
    expect(brief(h.at(T0 + 9 * HOUR, ch, 'charger.session_start', { port: 1, sessionId: 'b' }))).toEqual(['resolve:charger.long_session:s1:device:ch-1:port=1']);
    expect(h.tick(T0 + 17 * HOUR - 1)).toEqual([]);
    expect(brief(h.tick(T0 + 17 * HOUR))).toEqual(['open:charger.long_session:s1:device:ch-1:port=1']);
  });
});
