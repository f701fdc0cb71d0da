import { describe, expect, it } from 'vitest';
import { channelOfType, deviceTopic, type Device } from '@shaobing/schemas';
import { buildSite } from '../src/community.ts';
import { MALFORMED_KINDS, isHostile } from '../src/malformed.ts';
import { SCENARIO_NAMES, planScenario, type ScenarioPlan, type ScenarioStep } from '../src/scenarios.ts';
import { checkPublish } from './support/contract.ts';

const site = buildSite('shaobing-demo', 'demo', 'demo');
const plan = (name: string, timeScale = 1, params?: Record<string, number>): ScenarioPlan => planScenario(name, { site, seed: 'test', timeScale, ...(params ? { params } : {}) });
type Emitted = Extract<ScenarioStep, { kind: 'emit' }>;
const emits = (p: ScenarioPlan, type?: string): Emitted[] => p.steps.filter((s): s is Emitted => s.kind === 'emit' && (!type || s.emit.type === type));
const device = (id: string): Device => site.devices.find((d) => d.id === id)!;
const num = (s: Emitted, k: string): number => s.emit.data[k] as number;

describe('scenarios', () => {
  it('every scripted message of every scenario is valid for its device', () => {
    for (const name of SCENARIO_NAMES) {
      const p = plan(name);
      expect(p.steps.length, name).toBeGreaterThan(0);
      for (const s of emits(p)) {
        const d = device(s.deviceId);
        const v = checkPublish(site, { kind: 'device', id: d.id }, deviceTopic(site.id, d.family, d.id, channelOfType(s.emit.type)), JSON.stringify({ id: 'x', ts: Date.now(), ...s.emit }));
        expect(v.ok, `${name} ${s.emit.type} ${JSON.stringify(s.emit.data)}`).toBe(true);
      }
      // Taken-over devices are always handed back.
      for (const id of p.takeover) expect(p.steps.some((s) => s.kind === 'release' && s.deviceId === id), `${name} releases ${id}`).toBe(true);
    }
  });

  it('is deterministic, scales its timing, and avoids devices in use', () => {
    expect(plan('bin-overflow')).toEqual(plan('bin-overflow'));
    const full = plan('door-held-open');
    const fast = plan('door-held-open', 0.01);
    expect(fast.durationMs).toBeCloseTo(full.durationMs / 100, -1);
    const other = planScenario('door-held-open', { site, seed: 'test', timeScale: 1, exclude: new Set(full.takeover) });
    expect(other.takeover[0]).not.toBe(full.takeover[0]);
    expect(() => plan('bin-overflow', 1, { nope: 1 })).toThrow(/no parameter "nope"/);
    expect(() => plan('no-such')).toThrow(/unknown scenario/);
  });

  it('bin-overflow: ≥ 80 % for more than 2 min, then emptied below 30 %', () => {
    const t = emits(plan('bin-overflow'), 'bin.telemetry');
    const full = t.filter((s) => num(s, 'fillPct') >= 80);
    expect(full.at(-1)!.atMs - full[0]!.atMs).toBeGreaterThan(120_000);
    const emptied = emits(plan('bin-overflow'), 'bin.emptied')[0]!;
    expect(emptied.atMs).toBeGreaterThan(full.at(-1)!.atMs);
    expect(num(t.at(-1)!, 'fillPct')).toBeLessThan(30);
    expect(device(t[0]!.deviceId).id).toMatch(/-kitchen$/);
  });

  it('bin-fire and charger alarms cross the default thresholds', () => {
    expect(Math.max(...emits(plan('bin-fire'), 'bin.telemetry').map((s) => num(s, 'temperatureC')))).toBeGreaterThanOrEqual(60);
    expect(Math.max(...emits(plan('charger-overheat'), 'charger.telemetry').map((s) => num(s, 'temperatureC')))).toBeGreaterThanOrEqual(65);
    const overload = emits(plan('charger-overload'), 'charger.telemetry');
    expect(Math.max(...overload.map((s) => num(s, 'powerW')))).toBeGreaterThan(1000);
    expect(Math.max(...overload.map((s) => num(s, 'temperatureC')))).toBeLessThan(65);
    expect(emits(plan('charger-smoke'), 'charger.smoke').length).toBeGreaterThan(0);
    expect(emits(plan('charger-fault'), 'charger.fault').length).toBe(1);
    // Full, not unplugged: < 30 W for 60 min, still plugged 30 min after that.
    const full = emits(plan('charger-full-not-unplugged'), 'charger.telemetry').filter((s) => s.emit.data.plugged);
    const trickle = full.filter((s) => num(s, 'powerW') < 30);
    expect(trickle.at(-1)!.atMs - trickle[0]!.atMs).toBeGreaterThanOrEqual(90 * 60_000);
  });

  it('door scenarios: held open > 60 s, forced, ≥ 5 denials within 2 min', () => {
    const held = plan('door-held-open');
    const opened = emits(held, 'door.opened')[0]!;
    const closed = emits(held, 'door.closed')[0]!;
    expect(closed.atMs - opened.atMs).toBeGreaterThan(60_000);
    expect(emits(plan('door-forced'), 'door.forced')).toHaveLength(1);
    const denied = emits(plan('door-denied-burst'), 'door.access_denied');
    expect(denied.length).toBeGreaterThanOrEqual(5);
    expect(denied[4]!.atMs - denied[0]!.atMs).toBeLessThan(120_000);
  });

  it('elderly-inactivity: a 关爱 unit door keeps its heartbeat but has no passages for > 24 h', () => {
    const p = plan('elderly-inactivity');
    const door = device(p.takeover[0]!);
    expect(site.grid.find((g) => g.id === door.cellId)?.elderlyCare).toBe(true);
    expect(emits(p).every((s) => s.emit.type === 'door.heartbeat')).toBe(true);
    expect(p.durationMs).toBeGreaterThan(24 * 3_600_000);
  });

  it('camera scenarios: repeated high-confidence alerts at one camera; smoke_fire', () => {
    const burst = emits(plan('camera-burst'), 'camera.alert');
    expect(burst.length).toBeGreaterThanOrEqual(3);
    expect(new Set(burst.map((s) => s.deviceId)).size).toBe(1);
    expect(burst.every((s) => num(s, 'confidence') >= 0.8 && s.emit.data.kind === 'ebike_in_elevator')).toBe(true);
    expect(emits(plan('camera-smoke'), 'camera.alert').every((s) => s.emit.data.kind === 'smoke_fire')).toBe(true);
  });

  it('device-offline: silent past the offline threshold; flood: a burst from one device', () => {
    const off = plan('device-offline');
    expect(emits(off)).toHaveLength(0);
    expect(off.durationMs).toBeGreaterThan(10 * 60_000);
    expect(plan('device-offline', 1, { drop: 1 }).steps.some((s) => s.kind === 'drop')).toBe(true);
    const flood = emits(plan('flood'));
    expect(new Set(flood.map((s) => s.deviceId)).size).toBe(1);
    expect(flood.length / (flood.at(-1)!.atMs / 1000)).toBeGreaterThan(100);
  });

  it('malformed: every kind hits the rejection it is labelled with (or is valid but hostile)', () => {
    for (const mode of ['devices', 'gateways'] as const) {
      const raws = planScenario('malformed', { site, seed: 'test', timeScale: 1, mode }).steps.flatMap((s) => (s.kind === 'raw' ? [s.raw] : []));
      const kinds = new Set(raws.map((r) => r.kind));
      expect(kinds.size, mode).toBe(mode === 'devices' ? MALFORMED_KINDS.length : MALFORMED_KINDS.length - 2);
      if (mode === 'gateways') expect(raws.every((r) => r.via.kind === 'gateway')).toBe(true);
      for (const raw of raws) {
        const verdict = checkPublish(site, raw.via, raw.topic, raw.payload);
        const label = `${mode} ${raw.kind}`;
        if (raw.expect === 'accepted') {
          expect(verdict.ok, label).toBe(true);
          expect(isHostile(JSON.parse(raw.payload.toString())), label).toBe(true);
        } else {
          expect(verdict.ok ? 'accepted' : verdict.reason, label).toBe(raw.expect);
        }
      }
    }
  });
});
