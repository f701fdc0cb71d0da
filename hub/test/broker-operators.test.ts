import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import type { PresenceChange } from '../src/devices/presence.ts';
import { hashPassword } from '@shaobing/schemas/credentials';
import { closeClient, connectAs, envelope, eventually, startTestHub } from './support/test-hub.ts';
import { OPERATORS, testSiteFile, writeTestSiteFile } from './support/test-site.ts';

/* Operators on MQTT: live only, site-bounded, rejected payloads never forwarded, no password guessing. */
describe('operators on the embedded broker', () => {
  let hub: HubHandle;
  beforeAll(async () => {
    const file = structuredClone(await testSiteFile());
    file.operators.push({ username: 'outsider', displayName: 'outsider', role: 'viewer', siteIds: ['t9'], passwordHash: await hashPassword('outsider-pass') });
    hub = await startTestHub({ siteFile: await writeTestSiteFile(file) });
  });
  afterAll(async () => { await hub?.stop(); });
  const operator = (username: string, password: string, extra: mqtt.IClientOptions = {}) =>
    mqtt.connectAsync(hub.mqttUrl!, { username, password, clientId: username, reconnectPeriod: 0, ...extra });

  it('refuses operator sessions that would persist (queued replays bypass subscription checks)', async () => {
    await expect(operator('viewer', OPERATORS.viewer, { clean: false, clientId: 'viewer#persistent' })).rejects.toThrow(/Not authorized/i);
  });

  it('forwards stored messages to a watching operator, never rejected ones, and bounds sites', async () => {
    const admin = await operator('admin', OPERATORS.admin);
    const outsider = await operator('outsider', 'outsider-pass');
    const got: string[] = [];
    const outsiderGot: string[] = [];
    admin.on('message', (topic, payload) => got.push(`${topic} ${payload.toString().slice(0, 40)}`));
    outsider.on('message', (topic) => outsiderGot.push(topic));
    await admin.subscribeAsync(['shaobing/v1/#', '$shaobing/#']);
    // Refused in SUBACK (0x80) — the connection stays up.
    await expect(outsider.subscribeAsync('#')).rejects.toThrow(/Subscribe error/);
    await expect(outsider.subscribeAsync('shaobing/v1/t1/#')).rejects.toThrow(/Subscribe error/);
    expect(outsider.connected).toBe(true);

    const bin = await connectAs(hub, 't1/bin-1');
    const good = envelope('bin.telemetry', { fillPct: 44 });
    await bin.publishAsync('shaobing/v1/t1/bin/bin-1/telemetry', 'not json at all', { qos: 1 });
    await bin.publishAsync('shaobing/v1/t1/bin/bin-1/telemetry', JSON.stringify(good), { qos: 1 });
    await eventually(async () => got.some((g) => g.includes(good.id)));
    expect(got.some((g) => g.includes('not json'))).toBe(false);
    expect(outsiderGot).toEqual([]);
    await Promise.all([closeClient(bin), closeClient(admin), closeClient(outsider)]);
  });

  it('stops password guessing over MQTT after five failures a minute', async () => {
    for (let i = 0; i < 5; i++) await expect(operator('supervisor', `guess-${i}`)).rejects.toThrow();
    // The right password is refused too while the username is blocked.
    await expect(operator('supervisor', OPERATORS.supervisor)).rejects.toThrow();
  });
});

describe('hub shutdown', () => {
  it('does not publish the devices\' Last Wills as it closes their connections', async () => {
    const hub = await startTestHub();
    const will = { topic: 'shaobing/v1/t1/door/door-1/status', payload: Buffer.from(JSON.stringify(envelope('door.status', { online: false }))), qos: 1 as const, retain: true };
    const door = await connectAs(hub, 't1/door-1', { will });
    await door.publishAsync('shaobing/v1/t1/door/door-1/status', JSON.stringify(envelope('door.status', { online: true })), { qos: 1, retain: true });
    const changes: PresenceChange[] = [];
    hub.bus.on('device.presence', (c) => changes.push(c));
    door.on('error', () => undefined);
    await hub.stop();
    door.end(true);
    expect(changes.filter((c) => !c.state.online)).toEqual([]);
  });
});
