import { describe, expect, it } from 'vitest';
import { BIN_RULES } from '../src/rules/defaults/index.ts';
import { brief, device, Harness, MIN, rule, T0 } from './rules-fixtures.ts';

const full = BIN_RULES.find((r) => r.id === 'bin.full')!;
const a = device('bin-a', 'bin', { cellId: 'c-a', unitId: 'u1', buildingId: 'b1' });
const b = device('bin-b', 'bin', { cellId: 'c-b', unitId: 'u2', buildingId: 'b1' });
const yard = device('bin-yard', 'bin', { cellId: 'c-yard', unitId: undefined, buildingId: undefined });
const other = device('bin-x', 'bin', { siteId: 's2', cellId: 'c-x', unitId: 'u1', buildingId: 'b1' });

function keysFor(scope: 'device' | 'unit' | 'building' | 'site') {
  const h = new Harness([rule({ ...full, id: `bin.full_${scope}`, dedupScope: scope, forMs: 0 })], [a, b, yard, other]);
  return [a, b, yard, other].map((d) => h.at(T0, d, 'bin.telemetry', { fillPct: 90 })[0]?.dedupKey);
}

describe('dedup scopes and keys', () => {
  it('device / unit / building / site keys; outside a unit or building falls back to the cell', () => {
    expect(keysFor('device')).toEqual(['bin.full_device:s1:device:bin-a', 'bin.full_device:s1:device:bin-b', 'bin.full_device:s1:device:bin-yard', 'bin.full_device:s2:device:bin-x']);
    expect(keysFor('unit')).toEqual(['bin.full_unit:s1:unit:u1', 'bin.full_unit:s1:unit:u2', 'bin.full_unit:s1:cell:c-yard', 'bin.full_unit:s2:unit:u1']);
    expect(keysFor('building')).toEqual(['bin.full_building:s1:building:b1', 'bin.full_building:s1:building:b1', 'bin.full_building:s1:cell:c-yard', 'bin.full_building:s2:building:b1']);
    expect(keysFor('site')).toEqual(['bin.full_site:s1:site', 'bin.full_site:s1:site', 'bin.full_site:s1:site', 'bin.full_site:s2:site']);
  });

  it('dedupGroup replaces the rule id in the key', () => {
    const h = new Harness([rule({ ...full, id: 'bin.full_b', dedupGroup: 'bin.shared', forMs: 0 })], [a]);
    expect(brief(h.at(T0, a, 'bin.telemetry', { fillPct: 90 }))).toEqual(['open:bin.shared:s1:device:bin-a']);
  });

  it('a building-scoped ticket resolves only when its last full bin is emptied', () => {
    const h = new Harness([rule({ ...full, id: 'bin.full_bldg', dedupScope: 'building' })], [a, b]);
    h.at(T0, a, 'bin.telemetry', { fillPct: 90 });
    h.at(T0 + MIN, b, 'bin.telemetry', { fillPct: 95 });
    expect(brief(h.tick(T0 + 3 * MIN))).toEqual(['open:bin.full_bldg:s1:building:b1', 'open:bin.full_bldg:s1:building:b1']);
    expect(h.at(T0 + 4 * MIN, a, 'bin.telemetry', { fillPct: 5 })).toEqual([]);
    expect(brief(h.at(T0 + 5 * MIN, b, 'bin.telemetry', { fillPct: 5 }))).toEqual(['resolve:bin.full_bldg:s1:building:b1']);
  });

  it('a rule that is not device-verifiable never emits resolve_by_device; a clear re-arms it', () => {
    const h = new Harness([rule({ ...full, id: 'bin.manual', deviceVerifiable: false, forMs: 0 })], [a]);
    h.at(T0, a, 'bin.telemetry', { fillPct: 90 });
    expect(h.at(T0 + MIN, a, 'bin.telemetry', { fillPct: 5 })).toEqual([]);
    expect(brief(h.at(T0 + 2 * MIN, a, 'bin.telemetry', { fillPct: 90 }))).toEqual(['open:bin.manual:s1:device:bin-a']);
  });

  it('one event clearing two rules of one group resolves the ticket once', () => {
    const r1 = rule({ ...full, id: 'bin.g1', dedupGroup: 'bin.g', forMs: 0 });
    const r2 = rule({ ...full, id: 'bin.g2', dedupGroup: 'bin.g', forMs: 0 });
    const h = new Harness([r1, r2], [a]);
    expect(brief(h.at(T0, a, 'bin.telemetry', { fillPct: 90 }))).toEqual(['open:bin.g:s1:device:bin-a', 'open:bin.g:s1:device:bin-a']);
    expect(brief(h.at(T0 + MIN, a, 'bin.emptied'))).toEqual(['resolve:bin.g:s1:device:bin-a']);
  });
});
