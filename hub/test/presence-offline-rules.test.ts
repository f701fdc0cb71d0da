import { describe, expect, it } from 'vitest';
import { PRESENCE_RECHECK_MS, Presence, type PresenceChange } from '../src/devices/presence.ts';
import type { IngestedEvent } from '../src/events.ts';
import { compileRuleFiles, offlineAfterMs } from '../src/rules/core/index.ts';
import { DEFAULT_RULES } from '../src/rules/defaults/index.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-03-02T08:00:00.000Z');
const heartbeat = (siteId: string, deviceId: string, at: number): IngestedEvent => ({
  siteId, deviceId, family: 'door', channel: 'telemetry', type: 'door.heartbeat', msgId: `${deviceId}-${at}`, ts: at, receivedAt: at, data: {},
});

/* The online dot and the offline ticket read one number: the offline rule's forMs. */
describe('presence follows the offline rules', () => {
  it('a RULES_FILE that shortens door.offline for one site moves that site\'s online dot, and only that site\'s', () => {
    const rules = compileRuleFiles(DEFAULT_RULES, [{ version: 1, siteId: 'north', rules: [{ id: 'door.offline', forMs: 2 * MIN }] }]);
    expect(offlineAfterMs(rules, 'north', 'door')).toBe(2 * MIN);
    expect(offlineAfterMs(rules, 'south', 'door')).toBe(10 * MIN); // the family default
    expect(offlineAfterMs(rules, 'south', 'charger')).toBe(30 * MIN);

    const changes: PresenceChange[] = [];
    const presence = new Presence({ onChange: (c) => changes.push(c), offlineAfterMs: (site, family) => offlineAfterMs(rules, site, family) });
    presence.seen(heartbeat('north', 'door-1', T0));
    presence.seen(heartbeat('south', 'door-1', T0));
    expect(presence.sweep(T0 + 2 * MIN + 1)).toBe(1);
    expect(presence.get('north', 'door-1')?.online).toBe(false);
    expect(presence.get('south', 'door-1')?.online).toBe(true);
    expect(presence.sweep(T0 + 10 * MIN + 1)).toBe(1);
    expect(presence.get('south', 'door-1')?.online).toBe(false);
    expect(changes.filter((c) => c.reason === 'timeout').map((c) => c.state.siteId)).toEqual(['north', 'south']);
  });

  it('a family whose offline rule is disabled is never marked offline by silence alone', () => {
    const rules = compileRuleFiles(DEFAULT_RULES, [{ version: 1, disable: ['door.offline'], rules: [] }]);
    expect(offlineAfterMs(rules, 'north', 'door')).toBeUndefined();
    const presence = new Presence({ offlineAfterMs: (site, family) => offlineAfterMs(rules, site, family) });
    presence.seen(heartbeat('north', 'door-1', T0));
    expect(presence.sweep(T0 + 48 * 60 * MIN)).toBe(0);
    expect(presence.get('north', 'door-1')?.online).toBe(true);
  });
});

describe('presence sweeps from a deadline heap', () => {
  const limits = new Map<string, number | undefined>([['door', 10 * MIN]]);
  const make = (calls: { n: number }, changes: PresenceChange[] = []) => new Presence({
    onChange: (c) => changes.push(c),
    offlineAfterMs: (_site, family) => { calls.n++; return limits.get(family); },
  });

  it('a sweep before anyone is due looks at no device, however many are online', () => {
    const calls = { n: 0 };
    const presence = make(calls);
    for (let i = 0; i < 10_000; i++) presence.seen(heartbeat('north', `door-${i}`, T0));
    for (let i = 0; i < 10_000; i++) presence.seen(heartbeat('north', `door-${i}`, T0 + MIN)); // already scheduled
    expect(calls.n).toBe(10_000); // once per device, when it first came online
    calls.n = 0;
    for (let t = 1; t <= 50; t++) expect(presence.sweep(T0 + t * 1000)).toBe(0);
    expect(calls.n).toBe(0);
  });

  it('goes offline exactly after the limit from the last message, also after many messages and a Last Will', () => {
    const calls = { n: 0 };
    const changes: PresenceChange[] = [];
    const presence = make(calls, changes);
    for (let t = 0; t <= 5 * MIN; t += 30_000) presence.seen(heartbeat('north', 'door-1', T0 + t));
    presence.seen(heartbeat('north', 'door-2', T0));
    presence.seen({ ...heartbeat('north', 'door-3', T0), channel: 'status', type: 'door.status', data: { online: false } });
    expect(presence.sweep(T0 + 10 * MIN)).toBe(0);
    expect(presence.sweep(T0 + 10 * MIN + 1)).toBe(1); // door-2, silent since T0
    expect(presence.get('north', 'door-1')?.online).toBe(true);
    expect(presence.sweep(T0 + 15 * MIN)).toBe(0);
    expect(presence.sweep(T0 + 15 * MIN + 1)).toBe(1); // door-1, last heard at T0 + 5 min
    expect(changes.filter((c) => c.reason === 'timeout').map((c) => c.state.deviceId)).toEqual(['door-2', 'door-1']);
    // Back online, then silent again: scheduled anew.
    presence.seen(heartbeat('north', 'door-2', T0 + 20 * MIN));
    expect(presence.sweep(T0 + 30 * MIN + 1)).toBe(1);
  });

  it('a limit changed by a rules reload applies within the recheck interval; restored devices are checked by the first sweep', () => {
    const calls = { n: 0 };
    const presence = make(calls);
    presence.seen(heartbeat('north', 'door-1', T0));
    expect(presence.sweep(T0 + PRESENCE_RECHECK_MS + 1)).toBe(0); // rechecked under the 10 min limit
    limits.set('door', 90_000);
    try {
      // Silent past the new 90 s at T0 + 100 s, but its entry is for the next recheck:
      expect(presence.sweep(T0 + 100_000)).toBe(0);
      // …which sees the new limit, at most PRESENCE_RECHECK_MS after the reload.
      expect(presence.sweep(T0 + 2 * PRESENCE_RECHECK_MS + 1)).toBe(1);
    } finally {
      limits.set('door', 10 * MIN);
    }
    const restored = make(calls);
    restored.restore([
      { siteId: 'north', deviceId: 'door-9', family: 'door', lastSeen: T0, online: true, status: null, statusAt: null },
      { siteId: 'north', deviceId: 'door-8', family: 'door', lastSeen: T0 + 55 * MIN, online: true, status: null, statusAt: null },
    ]);
    expect(restored.sweep(T0 + 60 * MIN)).toBe(1); // door-9 silent for an hour; door-8 rescheduled
    expect(restored.get('north', 'door-8')?.online).toBe(true);
    expect(restored.sweep(T0 + 65 * MIN + 1)).toBe(1); // door-8, 10 min after its last message
  });
});
