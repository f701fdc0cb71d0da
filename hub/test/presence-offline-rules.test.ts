import { describe, expect, it } from 'vitest';
import { Presence, type PresenceChange } from '../src/devices/presence.ts';
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
