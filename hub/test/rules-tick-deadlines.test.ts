import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/rules/core/index.ts';
import type { DeviceContext } from '../src/rules/core/types.ts';
import { CHARGER_RULES, DOOR_RULES } from '../src/rules/defaults/index.ts';
import { brief, device, event, Harness, HOUR, MIN, rule, T0 } from './rules-fixtures.ts';

const care = DOOR_RULES.find((r) => r.id === 'door.elderly_inactivity')!;
const doorOffline = DOOR_RULES.find((r) => r.id === 'door.offline')!;
const chargerOffline = CHARGER_RULES.find((r) => r.id === 'charger.offline')!;
/** The engine's production tick is 1 s; 10 s keeps the test quick and the point the same. */
const TICK = 10_000;
const willFast = rule({ ...doorOffline, id: 'door.offline_will', lastWillMs: 90_000 });

/** Devices as the registry hands them out, counting how many a tick visits. */
class CountingDevices implements Iterable<DeviceContext> {
  visited = 0;
  constructor(private readonly list: readonly DeviceContext[]) {}
  *[Symbol.iterator](): Iterator<DeviceContext> {
    for (const d of this.list) { this.visited++; yield d; }
  }
}

/** Deterministic pseudo-random numbers (a test must replay the same traffic every run). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

describe('rule ticks are deadline-driven: absence and offline visit devices only when a silence is due', () => {
  const doors = Array.from({ length: 40 }, (_, i) => device(`door-${i}`, 'door', { unitId: `u${i % 20}`, elderlyCare: i % 3 === 0 }));
  const chargers = Array.from({ length: 20 }, (_, i) => device(`ch-${i}`, 'charger'));
  const all = [...doors, ...chargers];
  const rules = [care, doorOffline, chargerOffline, willFast];

  it('opens and resolves exactly what a full scan every tick does, over six hours of mixed traffic', () => {
    const full = new Harness(rules, all);
    const steady = new Harness(rules, all);
    const devices = new CountingDevices(all);
    const rnd = lcg(7);
    const tick = (now: number, first: boolean) => {
      const a = brief(full.tick(now));
      const b = brief(steady.record(evaluate(steady.rules, steady.state, { kind: 'tick', now, devices, fullScan: first }, now).decisions, now));
      expect(b, `tick at +${(now - T0) / MIN} min`).toEqual(a);
    };
    tick(T0, true);
    let ticks = 0;
    for (let now = T0 + TICK; now <= T0 + 6 * HOUR; now += TICK) {
      tick(now, false);
      ticks++;
      if ((now - T0) % MIN !== 0) continue;
      const minute = (now - T0) / MIN;
      all.forEach((dev, i) => {
        // Each device is silent for 40 min once, at its own time (some announce it with a Last Will).
        const outageStart = (i * 37) % 320;
        const inOutage = minute >= outageStart && minute < outageStart + 40;
        let type: 'door.status' | 'door.access_granted' | 'door.heartbeat' | 'charger.telemetry' | null = null;
        if (minute === outageStart && dev.family === 'door' && i % 2 === 0) type = 'door.status';
        else if (inOutage) type = null;
        else if (dev.family === 'door' && rnd() < 0.01) type = 'door.access_granted';
        else if ((minute + i) % 2 === 0) type = dev.family === 'door' ? 'door.heartbeat' : 'charger.telemetry';
        if (type === null) return;
        const data = type === 'door.status' ? { online: false } : type === 'door.access_granted' ? { credential: 'card' } : {};
        const ev = event(dev, type, data, now - Math.floor(rnd() * 30_000), now);
        expect(brief(steady.send(ev, dev))).toEqual(brief(full.send(ev, dev)));
      });
    }
    expect(brief(steady.log.map((l) => l.d)).length, 'the traffic opens and resolves tickets').toBeGreaterThan(20);
    // A full scan visits every device on every tick; deadlines visit a small fraction.
    expect(devices.visited).toBeLessThan((ticks * all.length) / 10);
  });

  it('a steady tick with nothing due visits no device at all', () => {
    const h = new Harness(rules, all);
    const devices = new CountingDevices(all);
    const steadyTick = (now: number) => h.record(evaluate(h.rules, h.state, { kind: 'tick', now, devices, fullScan: false }, now).decisions, now);
    h.tick(T0); // the first tick watches every device
    for (let now = T0 + MIN; now < T0 + 10 * MIN; now += MIN) expect(steadyTick(now)).toEqual([]);
    expect(devices.visited).toBe(0);
    // At 10 min every door has been silent long enough: they open without a full scan.
    expect(brief(steadyTick(T0 + 10 * MIN))).toContain('open:door.offline:s1:device:door-0');
    expect(devices.visited).toBe(all.length);
  });

  it('a Last Will brings the deadline forward without a full scan', () => {
    const door = doors[1]!;
    const h = new Harness([willFast], [door]);
    const steadyTick = (now: number) => brief(h.record(evaluate(h.rules, h.state, { kind: 'tick', now, devices: [door], fullScan: false }, now).decisions, now));
    h.tick(T0);
    h.at(T0 + MIN, door, 'door.heartbeat');
    h.at(T0 + 2 * MIN, door, 'door.status', { online: false });
    expect(steadyTick(T0 + 3 * MIN + 29_000)).toEqual([]);
    expect(steadyTick(T0 + 3 * MIN + 30_000)).toEqual(['open:door.offline_will:s1:device:door-1']);
  });
});
