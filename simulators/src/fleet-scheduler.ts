/*
 * The pure half of the simulator: who speaks next, and when. Devices live in simulated time on
 * a heap; each tick fills a rate budget from the real clock and pops devices while it lasts,
 * so the simulated clock advances only as fast as `ratePerSec` allows and daily rhythms stay
 * intact at any speed. Follow-ups (Emit.then) run on real time. No sockets and no timers: the
 * driver (simulator.ts) passes a clock and link states in and publishes what comes out, so
 * these rules are tested with a hand-moved clock (test/fleet-scheduler.test.ts).
 */
import { MinHeap } from './heap.ts';
import type { DeviceModel, Emit } from './profiles/index.ts';
import type { Rng } from './random.ts';

/** What the scheduler reads of a device's MQTT link. */
export interface LinkState { readonly ready: boolean; readonly connected: boolean }

export interface Speaker<L extends LinkState = LinkState> {
  model: DeviceModel;
  link: L;
  /** Simulated time of the device's next message (its heap key). */
  key: number;
  /** A scenario speaks for the device; its own behaviour stays silent. */
  takenOver: boolean;
}

/** Something to publish: a message of the device, or one malformed message over its link. */
export type Said<D> = { kind: 'emit'; device: D; emit: Emit } | { kind: 'malformed'; device: D };

export interface Tick<D> {
  said: Said<D>[];
  /** The slice ran out before the work did: tick again right after pending I/O. */
  more: boolean;
}

export interface FleetSchedulerOptions {
  /** Messages per second across the fleet. */
  ratePerSec: number;
  /** What the fleet says per second at real speed (sets the time scale). */
  naturalRatePerSec: number;
  /** Simulated start time (epoch ms). */
  simStartMs: number;
  /** Real time in ms (performance.now() in the driver). */
  clock: () => number;
  /** Share (0..0.9) of extra malformed messages. */
  malformedShare?: number;
  /** Decides where malformed messages go; required when malformedShare > 0. */
  rng?: Rng;
}

/** Real time one tick may spend before it yields to I/O. */
export const TICK_MS = 10;
/** The clock fills the rate budget but may not outrun the mean time scale by more than this:
 *  otherwise the few devices connected first would race through the day while the rest connect. */
const MAX_CLOCK_LEAD = 4;
/** A disconnected device's backlog older than this is lost, as on a real device. */
const STALE_BACKLOG_MS = 60_000;
/** A follow-up whose link is busy waits this long, never dropped. */
const FOLLOW_UP_RETRY_MS = 250;

export class FleetScheduler<D extends Speaker> {
  readonly timeScale: number;
  private readonly heap = new MinHeap<D>();
  private readonly followUps = new MinHeap<{ d: D; emit: Emit }>();
  private readonly parked = new Map<D['link'], D[]>();
  private readonly share: number;
  private readonly realStart: number;
  private readonly simStart: number;
  private simNow: number;
  private budget = 0;
  private last: number;

  constructor(private readonly o: FleetSchedulerOptions) {
    if (!(o.ratePerSec > 0)) throw new Error('ratePerSec must be > 0');
    this.share = Math.min(0.9, Math.max(0, o.malformedShare ?? 0));
    if (this.share > 0 && !o.rng) throw new Error('malformedShare needs an rng');
    this.timeScale = o.ratePerSec / Math.max(o.naturalRatePerSec, 1e-9);
    this.simStart = this.simNow = o.simStartMs;
    this.realStart = this.last = o.clock();
  }

  /** Simulated time of the last message popped. */
  get simTime(): number { return this.simNow; }

  /** Adds a device; it speaks once its link reports ready. */
  add(d: D): void {
    d.key = d.model.nextAt;
    this.park(d);
  }

  /** The link can take messages (connected, or drained below its in-flight cap). */
  linkReady(link: D['link']): void {
    const list = this.parked.get(link);
    if (!list || !link.ready) return;
    this.parked.delete(link);
    for (const d of list) {
      if (d.key < this.simNow - STALE_BACKLOG_MS) { d.model.step(this.simNow); d.key = d.model.nextAt; }
      this.heap.push(d.key, d);
    }
  }

  /** A message the driver sent on its own (a scenario's): its follow-up is scheduled here. */
  sent(d: D, e: Emit): void {
    if (e.then) this.followUps.push(this.o.clock() + e.then.afterMs, { d, emit: e.then.emit });
  }

  /**
   * One slice: follow-ups that are due, then devices in simulated order while the rate
   * budget lasts. `allowed` caps the messages this slice may produce (maxMessages).
   */
  tick(allowed = Number.POSITIVE_INFINITY): Tick<D> {
    const now = this.o.clock();
    const rate = this.o.ratePerSec;
    this.budget = Math.min(this.budget + (rate * (now - this.last)) / 1000, Math.max(rate * 0.25, 2));
    this.last = now;
    const said: Said<D>[] = [];
    const say = (d: D, emit: Emit): void => { said.push({ kind: 'emit', device: d, emit }); this.sent(d, emit); this.budget--; };
    this.dueFollowUps(now, say);
    // Pops that say nothing (silenced devices, quiet agenda items) still end; busy ones loop freely.
    let guard = 4 * (this.heap.size + Math.ceil(this.budget)) + 16;
    const simLimit = this.simStart + (now - this.realStart) * this.timeScale * MAX_CLOCK_LEAD;
    let n = 0;
    while (this.budget >= 1 && this.heap.peekKey() <= simLimit && guard-- > 0 && said.length < allowed) {
      // Yield to I/O after a few ms, so acks, connects and timers keep flowing at any rate.
      if ((++n & 63) === 0 && this.o.clock() - now > TICK_MS) return { said, more: true };
      const d = this.heap.pop()!;
      if (!d.link.ready) { this.park(d); continue; }
      this.simNow = Math.max(this.simNow, d.key);
      const emits = d.model.step(this.simNow);
      d.key = d.model.nextAt;
      this.heap.push(d.key, d);
      if (d.takenOver) continue;
      for (const e of emits) {
        say(d, e);
        if (this.share > 0 && this.o.rng!.chance(this.share / (1 - this.share))) { said.push({ kind: 'malformed', device: d }); this.budget--; }
      }
    }
    return { said, more: false };
  }

  /** At stop: every pending follow-up of a connected device, now (no door is left open). */
  drain(): Said<D>[] {
    const said: Said<D>[] = [];
    while (this.followUps.size > 0) {
      const f = this.followUps.pop()!;
      if (!f.d.takenOver && f.d.link.connected) said.push({ kind: 'emit', device: f.d, emit: f.emit });
    }
    return said;
  }

  /**
   * A device a scenario took over in the meantime says nothing (the scenario decides; it may
   * hold the door open). A link that is not ready delays the follow-up.
   */
  private dueFollowUps(now: number, say: (d: D, e: Emit) => void): void {
    const later: { d: D; emit: Emit }[] = [];
    while (this.followUps.size > 0 && this.followUps.peekKey() <= now) {
      const f = this.followUps.pop()!;
      if (f.d.takenOver) continue;
      if (!f.d.link.ready) { later.push(f); continue; }
      say(f.d, f.emit);
    }
    for (const f of later) this.followUps.push(now + FOLLOW_UP_RETRY_MS, f);
  }

  private park(d: D): void {
    const list = this.parked.get(d.link) ?? [];
    list.push(d);
    this.parked.set(d.link, list);
  }
}
