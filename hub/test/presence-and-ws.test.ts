import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { apiGet, closeClient, connectAs, envelope, eventually, login, startTestHub } from './support/test-hub.ts';
import { secretOf } from './support/test-site.ts';

type Devices = { items: { deviceId: string; online: boolean; lastSeen: string | null; status: Record<string, unknown> | null }[] };

describe('device presence and MQTT over WebSocket', () => {
  let hub: HubHandle;
  let token: string;
  beforeAll(async () => {
    hub = await startTestHub({ mqttWsPort: 0 });
    token = await login(hub, 'viewer');
  });
  afterAll(async () => { await hub?.stop(); });
  const device = async (id: string) => (await apiGet<Devices>(hub, '/api/devices?siteId=t1', token)).items.find((d) => d.deviceId === id)!;

  it('marks a device online with its retained status, and offline when its Last Will fires', async () => {
    const will = { topic: 'shaobing/v1/t1/door/door-1/status', payload: Buffer.from(JSON.stringify(envelope('door.status', { online: false }, 'will-1'))), qos: 1 as const, retain: true };
    const door = await connectAs(hub, 't1/door-1', { will });
    await door.publishAsync('shaobing/v1/t1/door/door-1/status', JSON.stringify(envelope('door.status', { online: true, firmware: '2.4.1' })), { qos: 1, retain: true });
    expect(await device('door-1')).toMatchObject({ online: true, status: { online: true, firmware: '2.4.1' } });
    expect((await device('door-1')).lastSeen).not.toBeNull();
    // An ungraceful drop (no DISCONNECT): the broker publishes the will.
    (door.stream as unknown as { destroy(): void }).destroy();
    door.end(true);
    await eventually(async () => (await device('door-1')).online === false);
    expect((await device('door-1')).status).toMatchObject({ online: false });
  });

  it('accepts devices over MQTT-over-WebSocket with the same credentials and durable acknowledgement', async () => {
    expect(hub.mqttWsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const c = await mqtt.connectAsync(hub.mqttWsUrl!, { username: 't1/bin-1', password: secretOf('t1/bin-1'), clientId: 't1/bin-1', reconnectPeriod: 0 });
    const msg = envelope('bin.telemetry', { fillPct: 66 });
    await c.publishAsync('shaobing/v1/t1/bin/bin-1/telemetry', JSON.stringify(msg), { qos: 1 });
    expect(await hub.db.query('SELECT 1 FROM events WHERE msg_id = $1', [msg.id])).toHaveLength(1);
    await closeClient(c);
    await expect(mqtt.connectAsync(hub.mqttWsUrl!, { username: 't1/bin-1', password: 'nope', clientId: 't1/bin-1', reconnectPeriod: 0 })).rejects.toThrow();
  });
});
