/*
 * 垃圾桶 bin fill sensor. Fill rises with the household rhythm — kitchen waste jumps after
 * meals, most of all after dinner (18–20 h) — and drops when the cleaners empty the bin at
 * the collection rounds (or on call once it is nearly full). Some evenings are heavy and the
 * round is late, so a kitchen bin can sit above 80 % at dinner time: exactly what the
 * bin-overflow rule is for. Reports every 5 min, every minute when ≥ 70 % (fast mode).
 */
import type { Device } from '@shaobing/schemas';
import { binKind, type BinKind } from '../device-kinds.ts';
import type { Rng } from '../random.ts';
import { clamp, round } from '../random.ts';
import { Agenda, HOUR, MINUTE, hourOfDay, type Emit, type Profile } from './types.ts';

/** Fill (% per hour) by hour of day and garbage class. */
const FILL_PER_HOUR: Record<BinKind, readonly number[]> = {
  //         0    1    2    3    4    5   6  7  8  9 10 11 12 13 14 15 16 17 18  19  20 21 22 23
  kitchen: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 4, 8, 4, 2, 2, 6, 10, 4, 2, 2, 2, 8, 18, 16, 6, 2, 2, 2],
  other: [0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 2, 4, 3, 2, 2, 2, 3, 2, 2, 2, 2, 3, 5, 5, 3, 2, 1, 1],
  recyclable: [0, 0, 0, 0, 0, 0, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 1.5, 1, 0.5, 0],
  hazardous: [0, 0, 0, 0, 0, 0, 0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.1, 0, 0, 0],
};
/** Collection rounds (hour of day) and the fill below which the round skips the bin. */
const ROUNDS: Record<BinKind, { hours: readonly number[]; minFill: number }> = {
  kitchen: { hours: [9, 14, 21], minFill: 10 },
  other: { hours: [9, 21], minFill: 10 },
  recyclable: { hours: [10], minFill: 60 },
  hazardous: { hours: [10], minFill: 40 },
};
const SLOW_MS = 5 * MINUTE;
const FAST_MS = MINUTE;
const ON_CALL_FILL = 92;

/** Ambient temperature: 20–30 °C, warmest mid-afternoon. */
function ambient(t: number, rng: Rng): number {
  return clamp(25 + 4 * Math.sin((2 * Math.PI * (hourOfDay(t) - 9)) / 24) + rng.normal(0, 0.6), 20, 30);
}

function heartbeat(_device: Device, rng: Rng): Emit {
  return { type: 'bin.telemetry', data: { fillPct: round(rng.float(5, 40)), temperatureC: round(rng.float(21, 28)), tiltDeg: round(rng.float(0, 4)) } };
}

export const binProfile: Profile = {
  family: 'bin',
  firmware: 'BS-1.4.2',
  heartbeatEveryMs: SLOW_MS,
  heartbeat,
  meanRatePerSec: () => 1 / 240,
  create(device, rng, t0) {
    const agenda = new Agenda();
    const kind = binKind(device);
    const capacity = rng.float(0.7, 1.3); // bin size and households served
    const tilt = round(rng.float(0, 4));
    let battery = rng.float(60, 100);
    let fill = rng.float(0, 40);
    let lastAt = t0;
    let dayFactor = rng.float(0.8, 1.6);
    let day = Math.floor((t0 + 8 * HOUR) / (24 * HOUR));
    let onCallAt = Number.POSITIVE_INFINITY;

    // Integrates the fill curve hour by hour between two readings.
    const advance = (to: number): void => {
      for (let t = lastAt; t < to;) {
        const next = Math.min(to, (Math.floor(t / HOUR) + 1) * HOUR);
        const today = Math.floor((t + 8 * HOUR) / (24 * HOUR));
        if (today !== day) { day = today; dayFactor = rng.float(0.8, 1.6); }
        fill += (FILL_PER_HOUR[kind][Math.floor(hourOfDay(t))]! * capacity * dayFactor * (next - t)) / HOUR;
        t = next;
      }
      fill = Math.min(100, fill);
      lastAt = to;
    };
    const telemetry = (at: number): Emit => {
      battery = Math.max(5, battery - 0.002);
      const warm = kind === 'kitchen' ? 1 : 0; // fermenting kitchen waste runs a little warmer
      return { type: 'bin.telemetry', data: { fillPct: round(fill), temperatureC: round(Math.min(30, ambient(at, rng) + warm)), tiltDeg: tilt, batteryPct: round(battery, 0) } };
    };
    const empty = (at: number): Emit[] => {
      advance(at);
      fill = rng.float(0, 5);
      onCallAt = Number.POSITIVE_INFINITY;
      return [{ type: 'bin.emptied', data: {} }, telemetry(at)];
    };
    const report = (at: number): Emit[] => {
      advance(at);
      agenda.schedule(at + (fill >= 70 ? FAST_MS : SLOW_MS), report);
      // Nearly full: someone is called; they come within the hour.
      if (fill >= ON_CALL_FILL && onCallAt === Number.POSITIVE_INFINITY) {
        onCallAt = at + rng.float(20, 60) * MINUTE;
        agenda.schedule(onCallAt, (t) => (t === onCallAt ? empty(t) : []));
      }
      return [telemetry(at)];
    };
    const round_ = (at: number): void => {
      advance(at);
      const late = rng.chance(0.2) ? rng.float(30, 90) * MINUTE : rng.float(0, 20) * MINUTE;
      agenda.schedule(nextRound(kind, at + HOUR), round_);
      // The truck may come late; by then the bin may have been emptied on call already.
      agenda.schedule(at + late, (t) => { advance(t); return fill >= ROUNDS[kind].minFill ? empty(t) : []; });
    };
    agenda.schedule(t0 + rng.float(0, SLOW_MS), report);
    agenda.schedule(nextRound(kind, t0), round_);
    return agenda;
  },
};

/** The next collection round strictly after `t`. */
function nextRound(kind: BinKind, t: number): number {
  const startOfDay = Math.floor((t + 8 * HOUR) / (24 * HOUR)) * 24 * HOUR - 8 * HOUR;
  for (let d = 0; d < 2; d++) {
    for (const h of ROUNDS[kind].hours) {
      const at = startOfDay + d * 24 * HOUR + h * HOUR;
      if (at > t) return at;
    }
  }
  return t + 24 * HOUR;
}
