import { RuleDecision, Validator } from '@shaobing/schemas';
import { describe, expect, it } from 'vitest';
import type { IngestedEvent } from '../src/events.ts';
import { compileRules, evaluate, historyWindowMs, rebuildState, type RuleState } from '../src/rules/core/index.ts';
import { DEFAULT_RULES } from '../src/rules/defaults/index.ts';
import { brief, device, event, HOUR, MIN, SEC, T0 } from './rules-fixtures.ts';

const rules = compileRules(DEFAULT_RULES);
const bin1 = device('bin-1', 'bin');
const bin2 = device('bin-2', 'bin', { unitId: 'u2' });
const door1 = device('door-1', 'door', { elderlyCare: true, unitId: 'u-care' });
const door2 = device('door-2', 'door');
const ch = device('ch-1', 'charger');
const cam = device('cam-1', 'camera');
const devices = [bin1, bin2, door1, door2, ch, cam];
const STEP = 10 * SEC;
const END = T0 + 30 * HOUR;

/** 30 h of a small fleet with one episode of every kind (deterministic). */
function scenario(): IngestedEvent[] {
  const out: IngestedEvent[] = [];
  const add = (d: typeof bin1, type: Parameters<typeof event>[1], data: Record<string, unknown>, ts: number) => out.push(event(d, type, data, ts));
  for (let t = T0; t <= END; t += 5 * MIN) {
    const h = (t - T0) / HOUR;
    add(bin1, 'bin.telemetry', { fillPct: h >= 2 && h < 5 ? 85 : 10 }, t);
    add(bin2, 'bin.telemetry', { fillPct: h >= 10 && h < 10.2 ? 90 : h >= 10.2 && h < 20 ? 50 : 15 }, t);
    if (!(h >= 12 && h < 12.5)) add(door1, 'door.heartbeat', { batteryPct: 90 }, t + SEC);
    add(door2, 'door.heartbeat', {}, t + SEC);
    add(cam, 'camera.heartbeat', {}, t + 2 * SEC);
    add(ch, 'charger.heartbeat', {}, t + 3 * SEC);
    if (h >= 6 && h < 11) add(ch, 'charger.telemetry', { port: 1, powerW: h < 8 ? 500 : 10, temperatureC: h === 7 ? 70 : 35, plugged: true }, t + 4 * SEC);
  }
  add(door1, 'door.opened', {}, T0 + HOUR);
  add(door1, 'door.closed', {}, T0 + HOUR + 5 * SEC);
  add(door1, 'door.opened', {}, T0 + 27 * HOUR);
  add(door2, 'door.opened', {}, T0 + 3 * HOUR);
  add(door2, 'door.closed', {}, T0 + 3 * HOUR + 3 * MIN);
  for (let i = 0; i < 5; i++) add(door2, 'door.access_denied', { credential: 'card', reason: 'other' }, T0 + 4 * HOUR + i * 10 * SEC);
  add(ch, 'charger.session_start', { port: 1, sessionId: 's' }, T0 + 6 * HOUR);
  add(ch, 'charger.telemetry', { port: 1, powerW: 0, temperatureC: 30, plugged: false }, T0 + 11 * HOUR + 7 * SEC);
  add(ch, 'charger.session_stop', { port: 1, sessionId: 's' }, T0 + 11 * HOUR + 8 * SEC);
  add(cam, 'camera.alert', { kind: 'ebike_in_elevator', confidence: 0.9 }, T0 + 2 * HOUR);
  add(cam, 'camera.alert', { kind: 'ebike_in_elevator', confidence: 0.9 }, T0 + 2 * HOUR + MIN);
  return out.sort((a, b) => a.ts - b.ts);
}

const EVENTS = scenario();
const byId = new Map(devices.map((d) => [d.deviceId, d]));
type Logged = { at: number; d: RuleDecision };

/** Events at receive time, ticks on the STEP grid (a tick at t runs before events at t). */
function run(state: RuleState, events: readonly IngestedEvent[], fromTick: number, to: number): Logged[] {
  const log: Logged[] = [];
  let next = fromTick;
  const tick = (at: number) => { for (const d of evaluate(rules, state, { kind: 'tick', now: at, devices }, at).decisions) log.push({ at, d }); };
  for (const e of events) {
    if (e.receivedAt > to) break;
    while (next <= e.receivedAt) { tick(next); next += STEP; }
    for (const d of evaluate(rules, state, { kind: 'event', event: e, device: byId.get(e.deviceId)! }, e.receivedAt).decisions) log.push({ at: e.receivedAt, d });
  }
  while (next <= to) { tick(next); next += STEP; }
  return log;
}

const fresh = (): RuleState => ({ v: 1, slots: {}, orphans: {} });
const full = run(fresh(), EVENTS, T0, END);
const show = (l: Logged[]) => l.map(({ at, d }) => `${(at - T0) / 1000}s ${brief([d])[0]} ${d.evidence.eventKey}`);

/** Tickets (dedup keys) open in the uninterrupted run just after `at`. */
function openAt(at: number): string[] {
  const open = new Set<string>();
  for (const { at: t, d } of full) {
    if (t > at) break;
    if (d.kind === 'open') open.add(d.dedupKey); else open.delete(d.dedupKey);
  }
  return [...open];
}

function restartAt(r: number, openKeys?: string[]) {
  const history = EVENTS.filter((e) => e.receivedAt <= r);
  const rebuilt = rebuildState(rules, history, devices, r, { coverageFrom: T0, tickEveryMs: STEP, ...(openKeys ? { openKeys } : {}) });
  const firstTick = T0 + (Math.floor((r - T0) / STEP) + 1) * STEP;
  const after = run(rebuilt.state, EVENTS.filter((e) => e.receivedAt > r), firstTick, END);
  return { reasserted: rebuilt.decisions, after };
}

describe('rebuildState: a restart gives the same decisions as an uninterrupted run', () => {
  it('the scenario exercises every kind', () => {
    const rulesHit = new Set(full.map((l) => `${l.d.ruleId}:${l.d.kind}`));
    for (const id of ['bin.full:open', 'bin.full:resolve_by_device', 'door.elderly_inactivity:open', 'door.elderly_inactivity:resolve_by_device',
      'door.offline:open', 'door.offline:resolve_by_device', 'door.held_open:open', 'door.held_open:resolve_by_device', 'door.denied_burst:open',
      'charger.overheat:open', 'charger.overheat:resolve_by_device', 'charger.full_not_unplugged:open', 'charger.full_not_unplugged:resolve_by_device',
      'camera.ebike_in_elevator:open', 'camera.ebike_in_elevator:resolve_by_device']) expect(rulesHit).toContain(id);
    const check = new Validator(RuleDecision);
    for (const { d } of full) expect(check.validate(d).ok, JSON.stringify(d)).toBe(true);
  });

  const restarts: Array<[string, number]> = [
    ['mid 2-min bin duration', T0 + 2 * HOUR + MIN],
    ['mid door held-open minute', T0 + 3 * HOUR + 30 * SEC],
    ['mid camera quiet timer', T0 + 2 * HOUR + 5 * MIN],
    ['mid 90-min full-not-unplugged', T0 + 9 * HOUR],
    ['bin open in the hysteresis band', T0 + 15 * HOUR],
    ['mid offline silence', T0 + 12 * HOUR + 5 * MIN],
    ['mid 24-h inactivity', T0 + 24 * HOUR],
    ['inactivity ticket open', T0 + 26 * HOUR],
  ];
  for (const [name, r] of restarts) {
    it(`restart ${name} (history from ${historyWindowMs(rules) / HOUR} h window)`, () => {
      const expected = full.filter((l) => l.at > r);
      const { after, reasserted } = restartAt(r);
      expect(show(after)).toEqual(show(expected));
      // Without openKeys every live episode is re-asserted, identical to the original open.
      const live = new Set(openAt(r));
      for (const d of reasserted) {
        expect(live).toContain(d.dedupKey);
        expect(full.find((l) => l.d.kind === 'open' && l.d.dedupKey === d.dedupKey && l.at <= r && l.d.evidence.eventKey === d.evidence.eventKey)).toBeDefined();
      }
      // With the open tickets known, nothing needs re-asserting and the future is the same.
      const known = restartAt(r, openAt(r));
      expect(known.reasserted).toEqual([]);
      expect(show(known.after)).toEqual(show(expected));
    });
  }

  it('a condition that came due while the hub was down is re-asserted at start-up', () => {
    // Hub crashed at 2h00m30s (no ticks after), restarted at 2h10m: bin-1 came due at 2h02m.
    const crash = T0 + 2 * HOUR + 30 * SEC;
    const r = T0 + 2 * HOUR + 10 * MIN;
    const history = EVENTS.filter((e) => e.receivedAt <= crash);
    const rebuilt = rebuildState(rules, history, devices, r, { coverageFrom: T0, tickEveryMs: STEP, openKeys: openAt(crash) });
    expect(brief(rebuilt.decisions)).toContain('open:bin.full:s1:device:bin-1');
  });

  it('an open ticket older than the history (orphan) still resolves when the device proves it', () => {
    const band = [event(bin1, 'bin.telemetry', { fillPct: 50 }, T0), event(bin1, 'bin.telemetry', { fillPct: 55 }, T0 + MIN)];
    const key = 'bin.full:s1:device:bin-1';
    const { state, decisions } = rebuildState(rules, band, [bin1], T0 + 2 * MIN, { openKeys: [key, 'door.forced:s1:device:door-9'] });
    expect(decisions).toEqual([]);
    expect(state.orphans).toEqual({ [key]: true });
    const e = event(bin1, 'bin.telemetry', { fillPct: 20 }, T0 + 3 * MIN);
    expect(brief(evaluate(rules, state, { kind: 'event', event: e, device: bin1 }, e.receivedAt).decisions)).toEqual([`resolve:${key}`]);
    expect(state.orphans).toEqual({});
  });

  it('the state is plain JSON: a snapshot restored from JSON continues identically', () => {
    const r = T0 + 24 * HOUR;
    const { state } = rebuildState(rules, EVENTS.filter((e) => e.receivedAt <= r), devices, r, { coverageFrom: T0, tickEveryMs: STEP });
    const copy = JSON.parse(JSON.stringify(state)) as RuleState;
    const rest = EVENTS.filter((e) => e.receivedAt > r);
    const firstTick = r + STEP;
    expect(show(run(copy, rest, firstTick, END))).toEqual(show(run(state, rest, firstTick, END)));
  });
});
