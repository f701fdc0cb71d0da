/*
 * 充电桩 e-bike charging post (~10 ports). Riders plug in mostly in the evening (and delivery
 * riders at noon); a session draws 150–400 W in bulk, tapers, then trickles < 30 W when the
 * battery is full until the rider unplugs — sometimes an hour or two later, which is what
 * the "full, not unplugged" rule catches. Posts stop sessions at 7.5 h (paid blocks), port
 * temperatures stay 25–45 °C. Heartbeat every 30 s; telemetry per busy port every minute.
 */
import type { Device } from '@shaobing/schemas';
import type { Rng } from '../random.ts';
import { clamp, round } from '../random.ts';
import { Agenda, HOUR, MINUTE, SECOND, dailyCurve, hourOfDay, maxOf, nextArrival, type Emit, type Profile } from './types.ts';

const HEARTBEAT_MS = 30 * SECOND;
const TELEMETRY_MS = MINUTE;
const SESSIONS_PER_PORT_PER_DAY = 1.2;
const MAX_SESSION_MS = 7.5 * HOUR;
const TAPER_MS = 20 * MINUTE;
//               0    1    2    3    4    5    6  7  8  9    10   11   12   13   14   15   16   17   18 19   20 21   22   23
const WEIGHTS = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1, 1, 0.8, 0.8, 0.8, 1.5, 1.2, 0.8, 0.8, 0.8, 1.5, 3, 3.5, 3, 2.5, 1.5, 0.6];
const curve = dailyCurve(WEIGHTS);
const PEAK = maxOf(WEIGHTS);

interface Session { id: string; port: number; start: number; bulkW: number; bulkMs: number; unplugAt: number; energyWh: number; lastAt: number }

/** Power of a session at time t: bulk, a linear taper, then trickle. */
export function sessionPower(s: Pick<Session, 'start' | 'bulkW' | 'bulkMs'>, t: number, trickleW: number): number {
  const e = t - s.start;
  if (e < s.bulkMs) return s.bulkW * (1 - 0.1 * (e / s.bulkMs)); // slight sag as voltage rises
  if (e < s.bulkMs + TAPER_MS) {
    const from = s.bulkW * 0.9;
    return from + ((trickleW - from) * (e - s.bulkMs)) / TAPER_MS;
  }
  return trickleW;
}

function ambient(t: number): number {
  return 26 + 3 * Math.sin((2 * Math.PI * (hourOfDay(t) - 9)) / 24);
}

function heartbeat(_device: Device, _rng: Rng): Emit {
  return { type: 'charger.heartbeat', data: { portsInUse: 0 } };
}

export const chargerProfile: Profile = {
  family: 'charger',
  firmware: 'EV-2.8.5',
  heartbeatEveryMs: HEARTBEAT_MS,
  heartbeat,
  meanRatePerSec: (device) => 1 / 30 + ((device.ports ?? 10) * SESSIONS_PER_PORT_PER_DAY * (4.5 * 60 + 2)) / 86400,
  create(device, rng, t0) {
    const agenda = new Agenda();
    const ports = device.ports ?? 10;
    const sessions = new Map<number, Session>();
    let counter = 0;

    const telemetry = (s: Session, at: number): Emit => {
      const trickle = rng.float(5, 25);
      const powerW = sessionPower(s, at, trickle);
      s.energyWh += (powerW * (at - s.lastAt)) / HOUR;
      s.lastAt = at;
      const temperatureC = clamp(ambient(at) + 14 * (powerW / 400) + rng.normal(0, 0.8), 25, 45);
      return { type: 'charger.telemetry', data: { port: s.port, powerW: round(powerW), temperatureC: round(temperatureC), plugged: true, sessionId: s.id } };
    };
    const stop = (s: Session, at: number): Emit[] => {
      const last = telemetry(s, at);
      sessions.delete(s.port);
      return [
        last,
        { type: 'charger.session_stop', data: { port: s.port, sessionId: s.id, energyWh: round(s.energyWh) } },
        { type: 'charger.telemetry', data: { port: s.port, powerW: 0, temperatureC: round(clamp(ambient(at) + rng.normal(0, 0.5), 25, 45)), plugged: false } },
      ];
    };
    const arrival = (at: number): Emit[] => {
      agenda.schedule(nextArrival(rng, at, SESSIONS_PER_PORT_PER_DAY * ports, curve, PEAK), arrival);
      const free = Array.from({ length: ports }, (_, i) => i + 1).filter((p) => !sessions.has(p));
      if (free.length === 0) return []; // the rider finds the shed full and leaves
      const port = rng.pick(free);
      const bulkMs = rng.float(1.5, 5) * HOUR;
      // Some riders come back soon after it is full, some much later; the post cuts off at 7.5 h.
      const unplugAt = at + Math.min(MAX_SESSION_MS, bulkMs + TAPER_MS + rng.exp(45 * MINUTE));
      const s: Session = { id: `${device.id}-p${port}-${++counter}`, port, start: at, bulkW: rng.float(150, 400), bulkMs, unplugAt, energyWh: 0, lastAt: at };
      sessions.set(port, s);
      const tick = (t: number): Emit[] => {
        if (sessions.get(port) !== s) return [];
        if (t >= s.unplugAt) return stop(s, t);
        agenda.schedule(Math.min(t + TELEMETRY_MS, s.unplugAt), tick);
        return [telemetry(s, t)];
      };
      agenda.schedule(at + TELEMETRY_MS, tick);
      return [{ type: 'charger.session_start', data: { port, sessionId: s.id } }, telemetry(s, at)];
    };
    agenda.every(t0 + rng.float(0, HEARTBEAT_MS), HEARTBEAT_MS, () => [{ type: 'charger.heartbeat', data: { portsInUse: sessions.size } }]);
    agenda.schedule(nextArrival(rng, t0, SESSIONS_PER_PORT_PER_DAY * ports, curve, PEAK), arrival);
    return agenda;
  },
};
