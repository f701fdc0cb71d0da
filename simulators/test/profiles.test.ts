import { describe, expect, it } from 'vitest';
import { FAMILIES, deviceTopic, channelOfType, type Device, type MessageType, type Site } from '@shaobing/schemas';
import { buildSite } from '../src/community.ts';
import { binKind } from '../src/device-kinds.ts';
import { PROFILES, type Emit } from '../src/profiles/index.ts';
import { HOUR, hourOfDay } from '../src/profiles/types.ts';
import { Rng } from '../src/random.ts';
import { checkPublish } from './support/contract.ts';

const site = buildSite('shaobing-demo', 'demo', 'demo');
// Midnight in Beijing, so two simulated days cover every hour twice.
const T0 = Date.UTC(2026, 5, 1, 16, 0);
const DAYS = 2;

interface Said { t: number; device: Device; emit: Emit }

/** Runs every device of the site through its profile for DAYS simulated days. */
function simulate(s: Site): Said[] {
  const out: Said[] = [];
  for (const device of s.devices) {
    const model = PROFILES[device.family].create(device, new Rng(`test/${device.id}`), T0);
    while (model.nextAt < T0 + DAYS * 24 * HOUR) {
      const t = model.nextAt;
      for (const { then, ...emit } of model.step(t)) {
        out.push({ t, device, emit });
        // A follow-up in real time; at real speed (what this models) real time is simulated time.
        if (then) out.push({ t: t + then.afterMs, device, emit: then.emit });
      }
    }
  }
  return out;
}

const said = simulate(site);
const of = (type: MessageType): Said[] => said.filter((s) => s.emit.type === type);

describe('profiles', () => {
  it('emit only messages that the contract accepts, on the right topic, for every family', () => {
    const seen = new Set<string>();
    for (const { device, emit } of said) {
      seen.add(emit.type);
      const topic = deviceTopic(site.id, device.family, device.id, channelOfType(emit.type));
      const verdict = checkPublish(site, { kind: 'device', id: device.id }, topic, JSON.stringify({ id: 'x-1', ts: new Date(T0).toISOString(), ...emit }));
      if (!verdict.ok) throw new Error(`${device.id} ${emit.type} ${JSON.stringify(emit.data)}: ${verdict.reason}`);
    }
    for (const f of FAMILIES) expect([...seen].some((t) => t.startsWith(`${f}.`)), f).toBe(true);
    // Alarms belong to scenarios, not to normal life.
    for (const t of ['door.forced', 'door.held_open', 'door.tamper', 'charger.smoke', 'charger.fault']) expect(seen.has(t), t).toBe(false);
    expect(said.filter((s) => s.emit.type === 'camera.alert' && s.emit.data.kind === 'smoke_fire')).toHaveLength(0);
  });

  it('is deterministic for a seed', () => {
    const again = simulate(site);
    expect(again.length).toBe(said.length);
    expect(JSON.stringify(again.slice(0, 500).map((s) => s.emit))).toBe(JSON.stringify(said.slice(0, 500).map((s) => s.emit)));
  });

  it('doors: bursts at commute hours, closed within seconds, rare denials, heartbeats every minute', () => {
    const opened = of('door.opened');
    const byHour = (h: number): number => opened.filter((s) => Math.floor(hourOfDay(s.t)) === h).length;
    expect(byHour(8)).toBeGreaterThan(5 * byHour(3));
    expect(byHour(18)).toBeGreaterThan(5 * byHour(3));
    const perDoorPerDay = opened.length / site.devices.filter((d) => d.family === 'door').length / DAYS;
    expect(perDoorPerDay).toBeGreaterThan(40);
    expect(perDoorPerDay).toBeLessThan(120);
    expect(of('door.access_denied').length / of('door.access_granted').length).toBeLessThan(0.05);
    // Every opening is closed again before the 60 s held-open rule.
    const door = opened[0]!.device.id;
    const events = said.filter((s) => s.device.id === door && (s.emit.type === 'door.opened' || s.emit.type === 'door.closed'));
    expect(events.filter((e) => e.emit.type === 'door.closed').length).toBe(events.filter((e) => e.emit.type === 'door.opened').length);
    events.sort((a, b) => a.t - b.t);
    let openAt: number | null = null;
    for (const e of events) {
      if (e.emit.type === 'door.opened') openAt ??= e.t;
      else if (openAt !== null) { expect(e.t - openAt).toBeLessThan(60_000); openAt = null; }
    }
    const beats = said.filter((s) => s.device.id === door && s.emit.type === 'door.heartbeat');
    expect(beats.length).toBeCloseTo((DAYS * 24 * 60), -1);
  });

  it('bins: fill peaks at dinner, gets emptied, temperatures 20–30 °C', () => {
    const kitchen = of('bin.telemetry').filter((s) => binKind(s.device) === 'kitchen');
    const mean = (h: number): number => {
      const xs = kitchen.filter((s) => Math.floor(hourOfDay(s.t)) === h).map((s) => s.emit.data.fillPct as number);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    expect(mean(20)).toBeGreaterThan(mean(16) + 15);
    expect(mean(20)).toBeGreaterThan(mean(10));
    expect(of('bin.emptied').length).toBeGreaterThan(site.devices.filter((d) => binKind(d) === 'kitchen').length);
    const temps = of('bin.telemetry').map((s) => s.emit.data.temperatureC as number);
    expect(Math.min(...temps)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...temps)).toBeLessThanOrEqual(31);
    // An emptied bin reports a low fill right away (device-verified resolution).
    for (const e of of('bin.emptied').slice(0, 20)) {
      const next = said.find((s) => s.device.id === e.device.id && s.emit.type === 'bin.telemetry' && s.t === e.t);
      expect(next?.emit.data.fillPct).toBeLessThan(30);
    }
  });

  it('chargers: sessions start and stop, 150–400 W then trickle < 30 W, 25–45 °C, heartbeat 30 s', () => {
    const starts = of('charger.session_start');
    const stops = of('charger.session_stop');
    expect(starts.length).toBeGreaterThan(50);
    expect(stops.length).toBeGreaterThan(starts.length * 0.7);
    const plugged = of('charger.telemetry').filter((s) => s.emit.data.plugged);
    const watts = plugged.map((s) => s.emit.data.powerW as number);
    const temps = plugged.map((s) => s.emit.data.temperatureC as number);
    expect(Math.max(...watts)).toBeLessThanOrEqual(400);
    expect(Math.max(...watts)).toBeGreaterThanOrEqual(150);
    expect(Math.min(...watts)).toBeLessThan(30);
    expect(Math.min(...temps)).toBeGreaterThanOrEqual(25);
    expect(Math.max(...temps)).toBeLessThanOrEqual(45);
    // No session outlives the 8 h rule; evening is the busy time.
    const startOf = new Map(starts.map((s) => [s.emit.data.sessionId, s.t]));
    for (const s of stops) expect(s.t - startOf.get(s.emit.data.sessionId)!).toBeLessThan(8 * HOUR);
    const at = (h: number): number => starts.filter((s) => Math.floor(hourOfDay(s.t)) === h).length;
    expect(at(19)).toBeGreaterThan(3 * at(3));
    const post = starts[0]!.device.id;
    const beats = said.filter((s) => s.device.id === post && s.emit.type === 'charger.heartbeat');
    expect(beats.length).toBe(DAYS * 24 * 120);
  });

  it('cameras: rare alerts with confidence 0.5–0.99 and a snapshot URL, cleared when gone', () => {
    const alerts = of('camera.alert');
    expect(alerts.length).toBeGreaterThan(20);
    const conf = alerts.map((a) => a.emit.data.confidence as number);
    expect(Math.min(...conf)).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...conf)).toBeLessThanOrEqual(0.99);
    expect(alerts.every((a) => String(a.emit.data.snapshotUrl).startsWith('http://127.0.0.1/snapshots/'))).toBe(true);
    const high = alerts.filter((a) => (a.emit.data.confidence as number) >= 0.8).length / alerts.length;
    expect(high).toBeGreaterThan(0.2);
    expect(high).toBeLessThan(0.5);
    expect(of('camera.alert_cleared').length).toBeGreaterThan(0);
    const lift = alerts.filter((a) => a.device.id.includes('-lift-'));
    expect(lift.length).toBeGreaterThan(0);
    expect(lift.every((a) => ['ebike_in_elevator', 'corridor_clutter'].includes(a.emit.data.kind as string))).toBe(true);
    const perCameraPerDay = alerts.length / site.devices.filter((d) => d.family === 'camera').length / DAYS;
    expect(perCameraPerDay).toBeLessThan(30);
  });
});
