import { describe, expect, it } from 'vitest';
import { compileRules, dryRun } from '../src/rules/core/index.ts';
import { BIN_RULES, CAMERA_RULES, DOOR_RULES } from '../src/rules/defaults/index.ts';
import { device, event, HOUR, MIN, SEC, T0 } from './rules-fixtures.ts';

const cam = device('cam-1', 'camera');
const bin = device('bin-1', 'bin');
const door = device('door-1', 'door');
const rules = compileRules([...CAMERA_RULES.filter((r) => r.kind === 'match'), ...BIN_RULES.filter((r) => r.id === 'bin.full'), ...DOOR_RULES.filter((r) => r.id === 'door.forced')]);
const alert = (ts: number) => event(cam, 'camera.alert', { kind: 'ebike_in_elevator', confidence: 0.9 }, ts);

describe('dryRun: what would these rules have opened?', () => {
  it('reports tickets, merging repeats and closing on device-verified resolves', () => {
    const events = [
      alert(T0), alert(T0 + MIN), alert(T0 + 2 * MIN), // one ticket, 3 occurrences, quiet-resolved at 12 min
      alert(T0 + HOUR), // a second ticket
      event(bin, 'bin.telemetry', { fillPct: 90 }, T0 + 10 * MIN),
      event(bin, 'bin.telemetry', { fillPct: 10 }, T0 + 30 * MIN),
      event(door, 'door.forced', {}, T0 + 40 * MIN),
      event(door, 'door.forced', {}, T0 + 50 * MIN), // operator-only ticket: the repeat merges
    ].sort((a, b) => a.ts - b.ts);
    const r = dryRun(rules, events, [cam, bin, door], T0, T0 + 2 * HOUR, 10 * SEC);
    const view = r.tickets.map((t) => [t.ruleId, (t.openedAt - T0) / MIN, t.occurrences, t.resolvedAt === null ? null : (t.resolvedAt - T0) / MIN]);
    expect(view).toEqual([
      ['camera.ebike_in_elevator', 0, 3, 12],
      ['bin.full', 12, 1, 30],
      ['door.forced', 40, 2, null],
      ['camera.ebike_in_elevator', 60, 1, 70],
    ]);
    expect(r.tickets[0]?.evidence).toHaveLength(3);
    expect(r.tickets[0]?.title['zh-CN']).toBe('电动车进电梯：cam-1 @ 1号楼1单元');
    expect(r.decisions).toBe(3 + 1 + 2 + 2 + 1 + 1);
  });

  it('events before `from` warm the state up; tickets opened then are not reported', () => {
    const events = [alert(T0), alert(T0 + HOUR + 5 * MIN), event(bin, 'bin.telemetry', { fillPct: 90 }, T0 + HOUR - MIN)];
    events.sort((a, b) => a.ts - b.ts);
    const r = dryRun(rules, events, [cam, bin], T0 + HOUR, T0 + 2 * HOUR, 10 * SEC);
    // bin.full started before `from` and opens 1 min after it; the 0:00 camera ticket is not reported.
    expect(r.tickets.map((t) => [t.ruleId, (t.openedAt - T0) / MIN])).toEqual([['bin.full', 61], ['camera.ebike_in_elevator', 65]]);
  });
});
