import { describe, expect, it } from 'vitest';
import { BIN_RULES, CHARGER_RULES } from '../src/rules/defaults/index.ts';
import { brief, device, Harness, MIN, opens, resolves, rule, SEC, T0 } from './rules-fixtures.ts';

const bin = device('bin-1', 'bin');
const full = BIN_RULES.find((r) => r.id === 'bin.full')!;
const hot = BIN_RULES.find((r) => r.id === 'bin.hot')!;
const KEY = 'bin.full:s1:device:bin-1';

function harness() {
  return new Harness([full, hot], [bin]);
}

describe('threshold: bin fill ≥ 80 % held 2 min, clears below 30 %', () => {
  it('opens exactly at the threshold (≥) but not just under it', () => {
    const h = harness();
    h.at(T0, bin, 'bin.telemetry', { fillPct: 79.9 });
    expect(h.tick(T0 + 3 * MIN)).toEqual([]);
    h.at(T0 + 4 * MIN, bin, 'bin.telemetry', { fillPct: 80 });
    expect(h.tick(T0 + 6 * MIN - 1)).toEqual([]);
    const ds = h.tick(T0 + 6 * MIN);
    expect(brief(ds)).toEqual([`open:${KEY}`]);
  });

  it('opens on a tick with no further event: a bin at 85 % that goes quiet still opens at 2 min', () => {
    const h = harness();
    expect(h.at(T0, bin, 'bin.telemetry', { fillPct: 85 })).toEqual([]);
    expect(h.tick(T0 + 2 * MIN - 1)).toEqual([]);
    const [d] = h.tick(T0 + 2 * MIN);
    expect(d).toMatchObject({ kind: 'open', ruleId: 'bin.full', dedupKey: KEY, severity: 'normal', category: 'sanitation', deviceVerifiable: true, cellId: 'c-unit-1', deviceId: 'bin-1' });
    if (d?.kind !== 'open') throw new Error('expected open');
    expect(d.title['zh-CN']).toBe('垃圾桶将满：bin-1 @ 1号楼1单元');
    expect(d.description['zh-CN']).toContain('满溢度 85%（≥80%）已持续 2分钟');
    expect(d.description.en).toContain('85% full (≥ 80%) for 2 min');
    expect(d.evidence.eventKey).toMatch(/^s1\/bin-1\/m\d+$/);
    expect(d.evidence.ts).toBe(new Date(T0).toISOString());
  });

  it('opens on the reading that completes the duration, without a tick', () => {
    const h = harness();
    h.at(T0, bin, 'bin.telemetry', { fillPct: 85 });
    expect(h.at(T0 + MIN, bin, 'bin.telemetry', { fillPct: 86 })).toEqual([]);
    const ds = h.at(T0 + 2 * MIN, bin, 'bin.telemetry', { fillPct: 88 });
    expect(brief(ds)).toEqual([`open:${KEY}`]);
    expect(ds[0]?.kind === 'open' && ds[0].description.en).toContain('88%');
  });

  it('a dip under the threshold restarts the duration', () => {
    const h = harness();
    h.at(T0, bin, 'bin.telemetry', { fillPct: 85 });
    h.at(T0 + 90 * SEC, bin, 'bin.telemetry', { fillPct: 70 });
    h.at(T0 + 100 * SEC, bin, 'bin.telemetry', { fillPct: 85 });
    expect(h.tick(T0 + 2 * MIN)).toEqual([]);
    expect(h.tick(T0 + 100 * SEC + 2 * MIN - 1)).toEqual([]);
    expect(opens(h.tick(T0 + 100 * SEC + 2 * MIN))).toHaveLength(1);
  });

  it('hysteresis: flapping around 80 % opens once, the band keeps it open, < 30 % resolves once', () => {
    const h = harness();
    const all = [];
    let t = T0;
    for (const pct of [79, 80, 81, 79, 85]) all.push(...h.at((t += 10 * SEC), bin, 'bin.telemetry', { fillPct: pct }));
    all.push(...h.tick(t + 2 * MIN));
    t += 2 * MIN;
    for (const pct of [75, 82, 50, 85, 79, 31, 30]) all.push(...h.at((t += 10 * SEC), bin, 'bin.telemetry', { fillPct: pct }));
    all.push(...h.ticks(t, t + 10 * MIN, 10 * SEC));
    expect(brief(all)).toEqual([`open:${KEY}`]);
    const r = h.at((t += 11 * MIN), bin, 'bin.telemetry', { fillPct: 29.9 });
    expect(brief(r)).toEqual([`resolve:${KEY}`]);
    expect(r[0]?.evidence.summary).toContain('fillPct=29.9');
    expect(h.at((t += 10 * SEC), bin, 'bin.telemetry', { fillPct: 10 })).toEqual([]);
    // A new episode opens a new ticket.
    h.at((t += 10 * SEC), bin, 'bin.telemetry', { fillPct: 90 });
    expect(brief(h.tick(t + 2 * MIN))).toEqual([`open:${KEY}`]);
  });

  it('bin.emptied (clearOn) resolves and cancels a pending run', () => {
    const h = harness();
    h.at(T0, bin, 'bin.telemetry', { fillPct: 90 });
    h.tick(T0 + 2 * MIN);
    expect(brief(h.at(T0 + 3 * MIN, bin, 'bin.emptied'))).toEqual([`resolve:${KEY}`]);
    h.at(T0 + 4 * MIN, bin, 'bin.telemetry', { fillPct: 90 });
    h.at(T0 + 5 * MIN, bin, 'bin.emptied');
    expect(h.tick(T0 + 7 * MIN)).toEqual([]);
  });

  it('a due run is opened before a clearing reading that arrives first (open + resolve, no tick)', () => {
    const h = harness();
    h.at(T0, bin, 'bin.telemetry', { fillPct: 90 });
    expect(brief(h.at(T0 + 3 * MIN, bin, 'bin.telemetry', { fillPct: 5 }))).toEqual([`open:${KEY}`, `resolve:${KEY}`]);
  });

  it('out-of-order: a late reading older than the newest is ignored', () => {
    const h = harness();
    h.at(T0 + 10 * SEC, bin, 'bin.telemetry', { fillPct: 85 });
    h.at(T0 + 20 * SEC, bin, 'bin.telemetry', { fillPct: 20 });
    // The 85 % from before the 20 % arrives late: it must not start a run.
    h.at(T0 + 5 * SEC, bin, 'bin.telemetry', { fillPct: 95 });
    expect(h.tick(T0 + 10 * MIN)).toEqual([]);
  });

  it('a device clock ahead of the hub is capped at the hub clock', () => {
    const h = harness();
    const e = { siteId: 's1', deviceId: 'bin-1', family: 'bin' as const, channel: 'telemetry' as const, type: 'bin.telemetry' as const, msgId: 'x', ts: T0 + 3600_000, receivedAt: T0, data: { fillPct: 90 } };
    h.send(e);
    expect(opens(h.tick(T0 + 2 * MIN))).toHaveLength(1);
  });

  it('missing field: neither opens nor clears (telemetry without temperature)', () => {
    const h = harness();
    h.at(T0, bin, 'bin.telemetry', { fillPct: 10, temperatureC: 70 });
    expect(h.log.map((l) => l.d.ruleId)).toEqual(['bin.hot']);
    expect(h.at(T0 + SEC, bin, 'bin.telemetry', { fillPct: 10 })).toEqual([]);
    expect(resolves(h.at(T0 + 2 * SEC, bin, 'bin.telemetry', { fillPct: 10, temperatureC: 44 }))).toHaveLength(1);
  });

  it('forMs 0 opens on the event; gt is strict (overload > 1000 W)', () => {
    const overload = CHARGER_RULES.find((r) => r.id === 'charger.overload')!;
    const ch = device('ch-1', 'charger');
    const h = new Harness([overload], [ch]);
    expect(h.at(T0, ch, 'charger.telemetry', { port: 1, powerW: 1000, temperatureC: 30, plugged: true })).toEqual([]);
    const ds = h.at(T0 + SEC, ch, 'charger.telemetry', { port: 1, powerW: 1000.5, temperatureC: 30, plugged: true });
    expect(brief(ds)).toEqual(['open:charger.overload:s1:device:ch-1:port=1']);
    expect(ds[0]?.kind === 'open' && ds[0].title['zh-CN']).toBe('充电功率超限：ch-1 @ 1号楼1单元 1号口');
    // Ports are separate subjects and tickets.
    expect(brief(h.at(T0 + 2 * SEC, ch, 'charger.telemetry', { port: 2, powerW: 1200, temperatureC: 30, plugged: true }))).toEqual(['open:charger.overload:s1:device:ch-1:port=2']);
    expect(brief(h.at(T0 + 3 * SEC, ch, 'charger.telemetry', { port: 1, powerW: 800, temperatureC: 30, plugged: true }))).toEqual(['resolve:charger.overload:s1:device:ch-1:port=1']);
  });

  it('compound condition: full but not unplugged (power < 30 W and plugged) for 90 min', () => {
    const r = CHARGER_RULES.find((x) => x.id === 'charger.full_not_unplugged')!;
    const ch = device('ch-1', 'charger');
    const h = new Harness([r], [ch]);
    const tel = (t: number, powerW: number, plugged: boolean) => h.at(t, ch, 'charger.telemetry', { port: 3, powerW, temperatureC: 30, plugged });
    tel(T0, 400, true);
    tel(T0 + MIN, 20, true);
    tel(T0 + 30 * MIN, 10, true);
    expect(h.tick(T0 + 91 * MIN - 1)).toEqual([]);
    const [d] = h.tick(T0 + 91 * MIN);
    expect(d?.dedupKey).toBe('charger.full_not_unplugged:s1:device:ch-1:port=3');
    expect(d?.kind === 'open' && d.description['zh-CN']).toContain('功率低于30W）且插头 1小时30分钟 未拔');
    expect(tel(T0 + 95 * MIN, 0, true)).toEqual([]);
    expect(resolves(tel(T0 + 100 * MIN, 0, false))).toHaveLength(1);
  });
});
