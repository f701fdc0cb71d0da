import { describe, expect, it } from 'vitest';
import { compileSchedule, scheduleActive, localTime } from '../src/rules/core/index.ts';
import { brief, device, Harness, MIN, rule, SEC } from './rules-fixtures.ts';

/** Wall-clock time in Shanghai (UTC+8, no DST) as epoch ms. */
const sh = (y: number, mo: number, d: number, h: number, mi: number) => Date.UTC(y, mo - 1, d, h - 8, mi);

describe('schedule: active hours in a time zone (Intl, no I/O)', () => {
  it('reads the wall clock of Asia/Shanghai', () => {
    // 2026-01-09 is a Friday.
    expect(localTime(sh(2026, 1, 9, 23, 30), 'Asia/Shanghai')).toEqual({ weekday: 5, minute: 23 * 60 + 30 });
    expect(localTime(sh(2026, 1, 9, 0, 5), 'Asia/Shanghai')).toEqual({ weekday: 5, minute: 5 });
  });

  it('22:00–06:00 crosses midnight; the early hours belong to the day the window started', () => {
    const fri = compileSchedule({ days: [5], from: '22:00', to: '06:00', tz: 'Asia/Shanghai' });
    expect(scheduleActive(fri, sh(2026, 1, 9, 21, 59))).toBe(false);
    expect(scheduleActive(fri, sh(2026, 1, 9, 22, 0))).toBe(true);
    expect(scheduleActive(fri, sh(2026, 1, 10, 5, 59))).toBe(true); // Saturday early = Friday night
    expect(scheduleActive(fri, sh(2026, 1, 10, 6, 0))).toBe(false);
    expect(scheduleActive(fri, sh(2026, 1, 9, 3, 0))).toBe(false); // Friday early = Thursday night
    expect(scheduleActive(fri, sh(2026, 1, 10, 22, 30))).toBe(false);
    const sun = compileSchedule({ days: [7], from: '22:00', to: '06:00' });
    expect(scheduleActive(sun, sh(2026, 1, 12, 1, 0))).toBe(true); // Monday 01:00 = Sunday night
  });

  it('same-day windows, whole days (from = to), default every day', () => {
    const office = compileSchedule({ days: [1, 2, 3, 4, 5], from: '08:30', to: '17:30' });
    expect(scheduleActive(office, sh(2026, 1, 5, 8, 29))).toBe(false);
    expect(scheduleActive(office, sh(2026, 1, 5, 8, 30))).toBe(true);
    expect(scheduleActive(office, sh(2026, 1, 5, 17, 30))).toBe(false);
    expect(scheduleActive(office, sh(2026, 1, 10, 12, 0))).toBe(false);
    const weekend = compileSchedule({ days: [6, 7], from: '00:00', to: '00:00' });
    expect(scheduleActive(weekend, sh(2026, 1, 10, 12, 0))).toBe(true);
    expect(scheduleActive(weekend, sh(2026, 1, 12, 0, 0))).toBe(false);
    expect(scheduleActive(compileSchedule({ from: '22:00', to: '06:00' }), sh(2026, 1, 6, 23, 0))).toBe(true);
  });

  it('other zones work too (UTC)', () => {
    const s = compileSchedule({ from: '00:00', to: '01:00', tz: 'UTC' });
    expect(scheduleActive(s, Date.UTC(2026, 0, 5, 0, 30))).toBe(true);
    expect(scheduleActive(s, sh(2026, 1, 5, 0, 30))).toBe(false);
  });

  it('a rule outside its hours does not open; a pending run opens at the first tick inside', () => {
    const door = device('door-1', 'door');
    const night = rule({
      id: 'door.night_open', family: 'door', kind: 'duration', start: { type: 'door.opened' }, stop: [{ type: 'door.closed' }],
      forMs: 60_000, schedule: { from: '22:00', to: '06:00', tz: 'Asia/Shanghai' }, category: 'security',
    });
    const forced = rule({ id: 'door.night_forced', family: 'door', kind: 'match', on: { type: 'door.forced' }, schedule: { from: '22:00', to: '06:00' }, deviceVerifiable: false, category: 'security' });
    const h = new Harness([night, forced], [door]);
    expect(h.at(sh(2026, 1, 6, 21, 0), door, 'door.forced')).toEqual([]);
    expect(h.at(sh(2026, 1, 6, 23, 0), door, 'door.forced')).toHaveLength(1);
    h.at(sh(2026, 1, 6, 21, 58), door, 'door.opened');
    expect(h.ticks(sh(2026, 1, 6, 21, 58), sh(2026, 1, 6, 22, 0) - 1, 10 * SEC)).toEqual([]);
    expect(brief(h.tick(sh(2026, 1, 6, 22, 0)))).toEqual(['door.night_open:s1:device:door-1'].map((k) => `open:${k}`));
    // Resolves outside the window too.
    h.at(sh(2026, 1, 7, 5, 0), door, 'door.opened');
    h.tick(sh(2026, 1, 7, 5, 0) + 2 * MIN);
    expect(h.at(sh(2026, 1, 7, 7, 0), door, 'door.closed').map((d) => d.kind)).toEqual(['resolve_by_device']);
  });
});
