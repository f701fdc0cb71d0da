import { describe, expect, it } from 'vitest';
import { FleetScheduler, TICK_MS, type Speaker } from '../src/fleet-scheduler.ts';
import type { DeviceModel, Emit } from '../src/profiles/index.ts';
import { Rng } from '../src/random.ts';

/** A device that says `type` every `everyMs` of simulated time; `then` adds a real-time follow-up. */
function every(everyMs: number, t0: number, then?: Emit['then']): DeviceModel {
  let next = t0 + everyMs;
  return {
    get nextAt() { return next; },
    step(t) {
      const out: Emit[] = [];
      while (next <= t) { out.push({ type: 'door.opened', data: { at: next }, ...(then ? { then } : {}) }); next += everyMs; }
      return out;
    },
  };
}
interface Dev extends Speaker { id: string; link: { ready: boolean; connected: boolean } }
const link = () => ({ ready: true, connected: true });

/** Ten devices, one message per simulated second each: natural rate 10 msg/s. */
function fleet(opts: { ratePerSec: number; then?: Emit['then']; malformedShare?: number }) {
  const clock = { now: 0 };
  const s = new FleetScheduler<Dev>({ ratePerSec: opts.ratePerSec, naturalRatePerSec: 10, simStartMs: 0, clock: () => clock.now, malformedShare: opts.malformedShare, rng: new Rng('mix') });
  const links = Array.from({ length: 2 }, link);
  const devs: Dev[] = Array.from({ length: 10 }, (_, i) => ({ id: `d${i}`, link: links[i % 2]!, key: 0, takenOver: false, model: every(1000, 0, opts.then) }));
  for (const d of devs) s.add(d);
  const run = (untilMs: number) => {
    const said = [];
    for (; clock.now < untilMs; clock.now += TICK_MS) said.push(...s.tick().said);
    return said;
  };
  return { s, clock, links, devs, run };
}

describe('FleetScheduler', () => {
  it('meets the message rate exactly and scales the simulated clock to it', () => {
    const f = fleet({ ratePerSec: 50 });
    for (const l of f.links) f.s.linkReady(l);
    expect(f.s.timeScale).toBe(5);
    const said = f.run(10_000);
    expect(said.length).toBeGreaterThanOrEqual(495);
    expect(said.length).toBeLessThanOrEqual(500);
    // 50 msg/s from 10 devices at 1 msg/s each: five simulated seconds per real second.
    expect(f.s.simTime).toBeGreaterThanOrEqual(49_000);
    expect(f.s.simTime).toBeLessThanOrEqual(50_000);
  });

  it('says nothing over a link before it is ready, and drops a backlog older than a minute', () => {
    const f = fleet({ ratePerSec: 50 });
    f.s.linkReady(f.links[0]!);
    f.links[1]!.ready = false;
    f.s.linkReady(f.links[1]!); // not ready: stays parked
    const early = f.run(20_000); // ~100 simulated s pass
    expect(new Set(early.map((x) => x.device.id))).toEqual(new Set(['d0', 'd2', 'd4', 'd6', 'd8']));
    f.links[1]!.ready = true;
    f.s.linkReady(f.links[1]!);
    const late = f.run(20_100);
    // The odd devices skip the ~100 s they missed instead of bursting them out.
    const odd = late.filter((x) => Number(x.device.id.slice(1)) % 2 === 1);
    expect(odd.length).toBeGreaterThan(0);
    for (const x of odd) expect(x.kind === 'emit' && Number(x.emit.data.at)).toBeGreaterThan(f.s.simTime - 60_000);
  });

  it('sends follow-ups on real time at any clock speed, late if the link is busy, never for a taken-over device', () => {
    const f = fleet({ ratePerSec: 1, then: { afterMs: 5000, emit: { type: 'door.closed', data: {} } } });
    for (const l of f.links) f.s.linkReady(l);
    expect(f.s.timeScale).toBe(0.1); // 5 s real = 0.5 s simulated
    const first = f.run(3000).filter((x) => x.kind === 'emit' && x.emit.type === 'door.opened');
    expect(first.length).toBeGreaterThan(0);
    const opened = first[0]!.device;
    opened.link.ready = false; // busy when the close falls due (≤ 8 s)
    const closes = (until: number) => f.run(until).filter((x) => x.kind === 'emit' && x.emit.type === 'door.closed' && x.device === opened);
    expect(closes(9000)).toHaveLength(0);
    opened.link.ready = true;
    f.s.linkReady(opened.link);
    expect(closes(9500).length).toBeGreaterThan(0);
    // A scenario takes the other link's devices over: their pending closes are dropped.
    const other = f.devs.filter((d) => d.link !== opened.link);
    for (const d of other) d.takenOver = true;
    const after = f.run(30_000);
    expect(after.some((x) => other.includes(x.device))).toBe(false);
  });

  it('drains the pending follow-ups of connected devices at stop', () => {
    const f = fleet({ ratePerSec: 20, then: { afterMs: 60_000, emit: { type: 'door.closed', data: {} } } });
    for (const l of f.links) f.s.linkReady(l);
    const opens = f.run(1000);
    f.links[1]!.connected = false;
    const drained = f.s.drain();
    expect(drained.length).toBe(opens.filter((x) => x.device.link === f.links[0]).length);
    expect(drained.every((x) => x.kind === 'emit' && x.emit.type === 'door.closed' && x.device.link === f.links[0])).toBe(true);
    expect(f.s.drain()).toHaveLength(0);
  });

  it('caps a slice at the messages allowed, and mixes in the malformed share', () => {
    const f = fleet({ ratePerSec: 1000, malformedShare: 0.2 });
    for (const l of f.links) f.s.linkReady(l);
    f.clock.now = 250;
    expect(f.s.tick(7).said.length).toBeLessThanOrEqual(8); // one device's message plus its malformed one may pass the cap
    const said = f.run(5000);
    const malformed = said.filter((x) => x.kind === 'malformed').length;
    expect(malformed / said.length).toBeGreaterThan(0.15);
    expect(malformed / said.length).toBeLessThan(0.25);
  });

  it('yields to I/O when a slice takes longer than a tick', () => {
    let now = 0;
    const s = new FleetScheduler<Dev>({ ratePerSec: 100_000, naturalRatePerSec: 10, simStartMs: 0, clock: () => (now += 0.5) });
    const l = link();
    for (let i = 0; i < 10; i++) s.add({ id: `d${i}`, link: l, key: 0, takenOver: false, model: every(1000, 0) });
    s.linkReady(l);
    now = 1000;
    const slice = s.tick();
    expect(slice.more).toBe(true);
    expect(slice.said.length).toBeGreaterThan(0);
  });
});
