/*
 * What a simulator profile is: behaviour of one device family as data plus small functions.
 * A device model lives in *simulated* time (epoch ms): the simulator advances the clock as
 * fast as the requested message rate needs, so a day of behaviour can pass in minutes while
 * every message still carries the real wall-clock time.
 */
import type { Device, Family, MessageType } from '@shaobing/schemas';
import type { Rng } from '../random.ts';

/**
 * A message a device says, before it is wrapped in an envelope (id, ts). `then` is what the
 * device says next after a span of *real* time, whatever the simulated clock does: a door's
 * close follows its open within seconds of wall-clock time, as rules measure it (held-open),
 * even when the simulated clock runs slower than real time or the device's link was parked.
 */
export interface Emit { type: MessageType; data: Record<string, unknown>; then?: { afterMs: number; emit: Emit } }

export interface DeviceModel {
  /** Simulated time of the next thing this device will say. */
  readonly nextAt: number;
  /** Everything due at or before `t`, in order; advances the model. */
  step(t: number): Emit[];
}

export interface Profile {
  family: Family;
  create(device: Device, rng: Rng, t0: number): DeviceModel;
  /** One heartbeat-like message, used by scenarios that keep a taken-over device alive. */
  heartbeat(device: Device, rng: Rng): Emit;
  heartbeatEveryMs: number;
  /** Messages per second of one device at real speed, averaged over a day (for logs only). */
  meanRatePerSec(device: Device): number;
  firmware: string;
}

/** Ordered list of things a device will do; each action may schedule more. */
export class Agenda implements DeviceModel {
  private readonly items: Array<{ at: number; seq: number; run: (at: number) => Emit[] | void }> = [];
  private seq = 0;

  get nextAt(): number { return this.items[0]?.at ?? Number.POSITIVE_INFINITY; }

  schedule(at: number, run: (at: number) => Emit[] | void): void {
    const item = { at, seq: this.seq++, run };
    let i = this.items.length;
    while (i > 0 && this.items[i - 1]!.at > at) i--;
    this.items.splice(i, 0, item);
  }

  /** Schedules `run` every `everyMs`, starting at `first`. */
  every(first: number, everyMs: number | (() => number), run: (at: number) => Emit[] | void): void {
    const tick = (at: number): Emit[] | void => {
      this.schedule(at + (typeof everyMs === 'number' ? everyMs : everyMs()), tick);
      return run(at);
    };
    this.schedule(first, tick);
  }

  step(t: number): Emit[] {
    const out: Emit[] = [];
    while (this.items.length > 0 && this.items[0]!.at <= t) {
      const item = this.items.shift()!;
      const emitted = item.run(item.at);
      if (emitted) out.push(...emitted);
    }
    return out;
  }
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** Fractional hour of day in Beijing (UTC+8, no DST), which drives daily rhythms. */
export function hourOfDay(t: number): number {
  return (((t / HOUR + 8) % 24) + 24) % 24;
}

/** Hourly weights normalised to a mean of 1, so `perDay / 24 * w(h)` integrates to perDay. */
export function dailyCurve(weights: readonly number[]): (t: number) => number {
  if (weights.length !== 24) throw new Error('a daily curve needs 24 hourly weights');
  const mean = weights.reduce((a, b) => a + b, 0) / 24;
  return (t) => weights[Math.floor(hourOfDay(t))]! / mean;
}

/**
 * Next arrival of a Poisson process whose rate follows the day (per hour at peak = max):
 * thinning, so a quiet night really is quiet and a commute really bunches up.
 */
export function nextArrival(rng: Rng, from: number, perDay: number, curve: (t: number) => number, peak: number): number {
  const maxPerMs = (perDay / 24 / HOUR) * peak;
  let t = from;
  for (let i = 0; i < 10_000; i++) {
    t += rng.exp(1 / maxPerMs);
    if (rng.next() * peak <= curve(t)) return t;
  }
  return t;
}

export function maxOf(weights: readonly number[]): number {
  const mean = weights.reduce((a, b) => a + b, 0) / 24;
  return Math.max(...weights) / mean;
}
