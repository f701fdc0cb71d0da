/*
 * The scenario catalogue (see scenarios.ts for the machinery). Defaults match the hub's
 * default rules (DESIGN §5) with a margin, in real milliseconds before `timeScale`.
 */
import type { Device } from '@shaobing/schemas';
import { binKind, cameraPlacement } from './device-kinds.ts';
import { PROFILES } from './profiles/index.ts';
import type { ScenarioScript, ScenarioStep, ScriptKit } from './scenarios.ts';

const S = 1000;
const MIN = 60 * S;
const isFamily = (f: Device['family']) => (d: Device): boolean => d.family === f;

/** Charger telemetry for one port of a session. */
function chargerReading(k: ScriptKit, at: number, d: Device, port: number, sessionId: string, powerW: number, temperatureC: number): ScenarioStep {
  return k.emit(at, d, 'charger.telemetry', { port, powerW, temperatureC, plugged: true, sessionId });
}

/** A charging session driven by a list of (power, temperature) readings, then stopped. */
function chargerSession(k: ScriptKit, d: Device, readings: Array<[number, number]>, intervalMs: number, tag: string): ScenarioStep[] {
  const port = Math.min(d.ports ?? 1, 3);
  const sessionId = `${d.id}-p${port}-${tag}`;
  const steps: ScenarioStep[] = [k.emit(0, d, 'charger.session_start', { port, sessionId })];
  readings.forEach(([w, c], i) => steps.push(chargerReading(k, i * intervalMs, d, port, sessionId, w, c)));
  const end = readings.length * intervalMs;
  steps.push(k.emit(end, d, 'charger.session_stop', { port, sessionId }));
  steps.push(k.emit(end, d, 'charger.telemetry', { port, powerW: 0, temperatureC: 30, plugged: false }));
  return [...steps, ...k.keepAlive(d, 0, end)];
}

export const SCENARIO_SCRIPTS = {
  'bin-overflow': {
    description: 'a kitchen bin fills past 80 % at dinner, stays there, then is emptied below 30 %',
    params: { intervalMs: 30 * S, sustainMs: 3 * MIN, emptyAfterMs: 1 * MIN },
    build(k) {
      const d = k.pick(isFamily('bin'), (b) => binKind(b) === 'kitchen');
      const { intervalMs, sustainMs, emptyAfterMs } = k.p as Record<string, number>;
      const i = k.ms(intervalMs!);
      const steps: ScenarioStep[] = [k.emit(0, d, 'bin.telemetry', { fillPct: 62, temperatureC: 25, tiltDeg: 1 }), k.emit(i, d, 'bin.telemetry', { fillPct: 74, temperatureC: 25, tiltDeg: 1 })];
      const fullFrom = 2 * i;
      const fullUntil = fullFrom + k.ms(sustainMs!);
      for (let t = fullFrom, n = 0; t <= fullUntil; t += i, n++) steps.push(k.emit(t, d, 'bin.telemetry', { fillPct: Math.min(99, 84 + n * 2), temperatureC: 26, tiltDeg: 1 }));
      const emptyAt = fullUntil + k.ms(emptyAfterMs!);
      steps.push(k.emit(emptyAt, d, 'bin.emptied', {}), k.emit(emptyAt, d, 'bin.telemetry', { fillPct: 3, temperatureC: 25, tiltDeg: 1 }));
      return { takeover: [d], steps };
    },
  },
  'bin-fire': {
    description: 'a bin heats up past 60 °C (smouldering waste), then cools down',
    params: { intervalMs: 20 * S, hotMs: 2 * MIN },
    build(k) {
      const d = k.pick(isFamily('bin'));
      const i = k.ms(k.p.intervalMs!);
      const temps = [29, 38, 51, 63, 72];
      const steps = temps.map((c, n) => k.emit(n * i, d, 'bin.telemetry', { fillPct: 55, temperatureC: c, tiltDeg: 2 }));
      const hotEnd = temps.length * i + k.ms(k.p.hotMs!);
      for (let t = temps.length * i; t < hotEnd; t += i) steps.push(k.emit(t, d, 'bin.telemetry', { fillPct: 55, temperatureC: 78, tiltDeg: 2 }));
      steps.push(k.emit(hotEnd, d, 'bin.telemetry', { fillPct: 55, temperatureC: 27, tiltDeg: 2 }));
      return { takeover: [d], steps };
    },
  },
  'charger-overheat': {
    description: 'a charging port climbs past 65 °C while charging',
    params: { intervalMs: 15 * S },
    build(k) {
      const d = k.pick(isFamily('charger'));
      return { takeover: [d], steps: chargerSession(k, d, [[320, 36], [330, 44], [340, 53], [345, 61], [350, 67], [350, 71], [340, 72]], k.ms(k.p.intervalMs!), 'overheat') };
    },
  },
  'charger-overload': {
    description: 'a modified e-bike draws > 1000 W on one port',
    params: { intervalMs: 15 * S },
    build(k) {
      const d = k.pick(isFamily('charger'));
      return { takeover: [d], steps: chargerSession(k, d, [[380, 34], [1250, 40], [1380, 43], [1420, 44], [1300, 44]], k.ms(k.p.intervalMs!), 'overload') };
    },
  },
  'charger-full-not-unplugged': {
    description: 'a battery is full (< 30 W for 60 min) and stays plugged another 30+ min',
    params: { intervalMs: 1 * MIN, bulkMs: 5 * MIN, trickleMs: 100 * MIN },
    build(k) {
      const d = k.pick(isFamily('charger'));
      const i = k.ms(k.p.intervalMs!);
      const readings: Array<[number, number]> = [];
      for (let t = 0; t < k.ms(k.p.bulkMs!); t += i) readings.push([280, 38]);
      for (let t = 0; t < k.ms(k.p.trickleMs!); t += i) readings.push([12, 29]);
      return { takeover: [d], steps: chargerSession(k, d, readings, i, 'full') };
    },
  },
  'charger-smoke': {
    description: 'the smoke detector of a charging shed fires',
    params: { intervalMs: 10 * S },
    build(k) {
      const d = k.pick(isFamily('charger'));
      const i = k.ms(k.p.intervalMs!);
      const port = Math.min(d.ports ?? 1, 2);
      return { takeover: [d], steps: [k.emit(0, d, 'charger.telemetry', { port, powerW: 310, temperatureC: 58, plugged: true }), k.emit(i, d, 'charger.smoke', { port }), k.emit(2 * i, d, 'charger.smoke', { port })] };
    },
  },
  'charger-fault': {
    description: 'a charging post reports a relay fault',
    params: {},
    build(k) {
      const d = k.pick(isFamily('charger'));
      return { takeover: [], steps: [k.emit(0, d, 'charger.fault', { port: 1, code: 'E07', message: '继电器粘连 relay welded' })] };
    },
  },
  'door-held-open': {
    description: 'a unit door is propped open for longer than 60 s',
    params: { holdMs: 90 * S, vendorAlarmMs: 60 * S },
    build(k) {
      const d = k.pick(isFamily('door'));
      const hold = k.ms(k.p.holdMs!);
      return {
        takeover: [d],
        steps: [
          k.emit(0, d, 'door.access_granted', { credential: 'card', subjectRef: 'r-scenario' }),
          k.emit(0, d, 'door.opened', { door: 'main', method: 'card' }),
          // Most controllers raise their own held-open alarm too; the hub must not double-count.
          k.emit(k.ms(k.p.vendorAlarmMs!), d, 'door.held_open', { durationS: Math.round(k.p.vendorAlarmMs! / 1000) }),
          k.emit(hold, d, 'door.closed', { door: 'main' }),
          ...k.keepAlive(d, 0, hold),
        ],
      };
    },
  },
  'door-forced': {
    description: 'a unit door is forced open (no credential, no exit button)',
    params: { closeAfterMs: 20 * S },
    build(k) {
      const d = k.pick(isFamily('door'));
      const close = k.ms(k.p.closeAfterMs!);
      return { takeover: [d], steps: [k.emit(0, d, 'door.forced', {}), k.emit(0, d, 'door.opened', { door: 'main' }), k.emit(close, d, 'door.closed', { door: 'main' })] };
    },
  },
  'door-denied-burst': {
    description: 'someone tries unknown cards at a door: 6 denials within 2 minutes',
    params: { count: 6, spacingMs: 15 * S },
    build(k) {
      const d = k.pick(isFamily('door'));
      const steps = Array.from({ length: k.p.count! }, (_, n) => k.emit(n * k.ms(k.p.spacingMs!), d, 'door.access_denied', { credential: n % 2 ? 'card' : 'qr', reason: n % 3 ? 'unknown_credential' : 'expired' }));
      return { takeover: [d], steps };
    },
  },
  'elderly-inactivity': {
    description: 'the door of a 关爱 (elderly) unit stays alive but sees no activity for 25 h',
    params: { silentMs: 25 * 60 * MIN },
    build(k) {
      const cells = new Set(k.site.grid.filter((g) => g.elderlyCare).map((g) => g.id));
      const d = k.pick((x) => x.family === 'door' && cells.has(x.cellId));
      const end = k.ms(k.p.silentMs!);
      // Heartbeats go on (the device is online); only the residents' passages stop.
      return { takeover: [d], steps: [...k.keepAlive(d, 0, end), { atMs: end, kind: 'release', deviceId: d.id }] };
    },
  },
  'camera-burst': {
    description: 'a lift camera sees e-bikes again and again (conf ~0.9): one ticket, many occurrences',
    params: { count: 5, spacingMs: 20 * S },
    build(k) {
      const d = k.pick(isFamily('camera'), (c) => cameraPlacement(c) === 'lift');
      const i = k.ms(k.p.spacingMs!);
      const trackId = `burst-${k.rng.hex(4)}`;
      const steps = Array.from({ length: k.p.count! }, (_, n) => k.emit(n * i, d, 'camera.alert', {
        kind: 'ebike_in_elevator', confidence: 0.88 + (n % 3) * 0.03, trackId, snapshotUrl: `http://127.0.0.1/snapshots/${d.id}/${trackId}-${n + 1}.jpg`,
      }));
      steps.push(k.emit(k.p.count! * i, d, 'camera.alert_cleared', { kind: 'ebike_in_elevator', trackId }));
      return { takeover: [], steps };
    },
  },
  'camera-smoke': {
    description: 'a camera detects smoke or fire (critical)',
    params: { spacingMs: 10 * S },
    build(k) {
      const d = k.pick(isFamily('camera'), (c) => cameraPlacement(c) === 'lane' || cameraPlacement(c) === 'binpt');
      const trackId = `smoke-${k.rng.hex(4)}`;
      return { takeover: [], steps: [0, 1].map((n) => k.emit(n * k.ms(k.p.spacingMs!), d, 'camera.alert', { kind: 'smoke_fire', confidence: 0.93, trackId, snapshotUrl: `http://127.0.0.1/snapshots/${d.id}/${trackId}-${n + 1}.jpg` })) };
    },
  },
  'device-offline': {
    description: 'a door controller goes silent for 11 min (drop=1: its connection dies and the Last Will fires)',
    params: { silentMs: 11 * MIN, drop: 0 },
    build(k) {
      const d = k.pick(isFamily('door'), (x) => !k.site.grid.some((g) => g.id === x.cellId && g.elderlyCare));
      const end = k.ms(k.p.silentMs!);
      const steps: ScenarioStep[] = [{ atMs: end, kind: 'release', deviceId: d.id }];
      if (k.p.drop && k.mode === 'devices') steps.push({ atMs: 0, kind: 'drop', deviceId: d.id });
      return { takeover: [d], steps };
    },
  },
  flood: {
    description: 'one device floods the hub with valid heartbeats (rate limiting)',
    params: { ratePerSec: 200, durationMs: 5 * S },
    build(k) {
      const d = k.pick((x) => Boolean(x.secretHash) || k.mode === 'gateways');
      const every = 1000 / k.p.ratePerSec!;
      const count = Math.round((k.p.durationMs! / 1000) * k.p.ratePerSec!);
      const hb = PROFILES[d.family].heartbeat(d, k.rng);
      const steps = Array.from({ length: count }, (_, n) => k.emit(Math.round(n * every), d, hb.type, hb.data));
      return { takeover: [], steps };
    },
  },
  malformed: {
    description: 'one message of every malformed and hostile kind (bad JSON, schema, unknown device, oversized, forbidden topic, SQL/HTML/emoji/control strings)',
    params: { spacingMs: 500 },
    build(k) {
      return { takeover: [], steps: k.malformed(0, k.ms(k.p.spacingMs!)) };
    },
  },
} satisfies Record<string, ScenarioScript>;
