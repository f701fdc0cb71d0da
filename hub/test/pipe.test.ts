import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { HubHandle } from '../src/hub.ts';
import { storeTargets } from './support/store-targets.ts';
import { apiGet, closeClient, connectAs, envelope, eventually, login, startTestHub } from './support/test-hub.ts';

/*
 * The pipe end to end with real parts: real aedes on port 0, real mqtt.js devices, the real
 * store (embedded PGlite+TimescaleDB, and a PostgreSQL server over the wire).
 */
describe.each(storeTargets())('pipe on $name', (target) => {
  let hub: HubHandle;
  let token: string;
  const clients: MqttClient[] = [];
  const rows = (sql: string, params: unknown[] = []) => hub.db.query(sql, params);

  beforeAll(async () => {
    hub = await startTestHub({ databaseUrl: await target.databaseUrl(), mqttRateLimitPerSec: 50 });
    token = await login(hub);
  });
  afterAll(async () => {
    await Promise.all(clients.map(closeClient));
    await hub?.stop();
    await target.cleanup();
  });
  const device = async (username: string) => {
    const c = await connectAs(hub, username);
    clients.push(c);
    return c;
  };

  it('stores valid messages of every family with the right fields, and a QoS 1 publish resolves only once the row is queryable', async () => {
    const cases = [
      ['t1/door-1', 'shaobing/v1/t1/door/door-1/event', envelope('door.access_denied', { credential: 'card', reason: 'expired' })],
      ['t1/cam-1', 'shaobing/v1/t1/camera/cam-1/event', envelope('camera.alert', { kind: 'ebike_in_elevator', confidence: 0.93, snapshotUrl: 'http://127.0.0.1/s/1.jpg' })],
      ['t1/bin-1', 'shaobing/v1/t1/bin/bin-1/telemetry', envelope('bin.telemetry', { fillPct: 42.5, temperatureC: 24 })],
      ['t1/chg-1', 'shaobing/v1/t1/charger/chg-1/telemetry', envelope('charger.telemetry', { port: 3, powerW: 260, temperatureC: 38, plugged: true })],
    ] as const;
    for (const [user, topic, msg] of cases) {
      const c = await device(user);
      await c.publishAsync(topic, JSON.stringify(msg), { qos: 1 });
      // No polling: the PUBACK means committed.
      const [row] = await rows('SELECT * FROM events WHERE device_id = $1 AND msg_id = $2', [user.split('/')[1], msg.id]);
      expect(row).toMatchObject({ site_id: 't1', family: msg.type.split('.')[0], type: msg.type, data: msg.data });
      expect((row!.ts as Date).toISOString()).toBe(new Date(msg.ts).toISOString());
    }
    const readings = await rows(`SELECT metric, port, value FROM readings WHERE device_id = 'chg-1' ORDER BY metric`);
    expect(readings).toEqual([{ metric: 'power_w', port: 3, value: 260 }, { metric: 'temperature_c', port: 3, value: 38 }]);
    const page = await apiGet<{ items: { deviceId: string; type: string }[] }>(hub, '/api/events?siteId=t1&family=bin', token);
    expect(page.items.map((e) => e.deviceId)).toContain('bin-1');
    expect(page.items.every((e) => e.type.startsWith('bin.'))).toBe(true);
  });

  it('stores a redelivered message (same device + id) once', async () => {
    const c = await device('t1/bin-1');
    const msg = envelope('bin.telemetry', { fillPct: 10 });
    await c.publishAsync('shaobing/v1/t1/bin/bin-1/telemetry', JSON.stringify(msg), { qos: 1 });
    await c.publishAsync('shaobing/v1/t1/bin/bin-1/telemetry', JSON.stringify(msg), { qos: 1, dup: true });
    const found = await rows('SELECT count(*)::int AS n FROM events WHERE device_id = $1 AND msg_id = $2', ['bin-1', msg.id]);
    expect(found[0]!.n).toBe(1);
  });

  it('accepts a gateway batch for devices of its site and dead-letters the unknown ones', async () => {
    const gw = await device('t1/gw-1');
    const good = { deviceId: 'bin-2', ...envelope('bin.telemetry', { fillPct: 55 }) };
    const unknown = { deviceId: 'ghost-9', ...envelope('bin.telemetry', { fillPct: 1 }) };
    await gw.publishAsync('shaobing/v1/t1/gateway/gw-1/batch', JSON.stringify([good, unknown]), { qos: 1 });
    expect(await rows('SELECT 1 FROM events WHERE device_id = $1 AND msg_id = $2', ['bin-2', good.id])).toHaveLength(1);
    const dl = await eventually(async () => (await rows(`SELECT * FROM dead_letters WHERE reason = 'unknown_device' AND device_id = 'ghost-9'`))[0]);
    expect(dl.raw).toContain('ghost-9');
  });

  it('rejects bad input with a reason code in the dead-letter table, keeps serving, and counts it', async () => {
    const bin = await device('t1/bin-1');
    const topic = 'shaobing/v1/t1/bin/bin-1/telemetry';
    await bin.publishAsync(topic, '{"id": 1, "ts": ', { qos: 1 });                                                  // bad_json
    await bin.publishAsync(topic, JSON.stringify(envelope('bin.telemetry', { fillPct: 180 })), { qos: 1 });        // schema
    await bin.publishAsync(topic, JSON.stringify(envelope('door.opened', {})), { qos: 1 });                         // schema: wrong family
    await bin.publishAsync(topic, JSON.stringify(envelope('bin.telemetry', { fillPct: 5, note: 'a\u0000b' })), { qos: 1 }); // schema: NUL
    await bin.publishAsync(topic, JSON.stringify(envelope('bin.telemetry', { fillPct: 5, pad: 'x'.repeat(300_000) })), { qos: 1 }); // too_large
    const deep = `{"id":"deep-1","ts":${Date.now()},"type":"bin.telemetry","data":{"fillPct":1,"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
    await bin.publishAsync(topic, deep, { qos: 1 });                                                                // schema: nesting (must not crash)
    const hostile = envelope('bin.telemetry', { fillPct: 7, label: `'); DROP TABLE events; -- <script>alert(1)</script> 🚮` });
    await bin.publishAsync(topic, JSON.stringify(hostile), { qos: 1 });                                               // accepted, stored verbatim
    const reasons = await eventually(async () => {
      const r = await rows(`SELECT reason, detail FROM dead_letters WHERE device_id = 'bin-1' ORDER BY id`);
      return r.length >= 6 ? r : null;
    });
    expect(reasons.map((r) => r.reason)).toEqual(['bad_json', 'schema', 'schema', 'schema', 'too_large', 'schema']);
    expect(String(reasons[5]!.detail)).toMatch(/nested deeper/);
    expect(String(reasons[1]!.detail)).toContain('/fillPct');
    const [stored] = await rows('SELECT data FROM events WHERE msg_id = $1', [hostile.id]);
    expect((stored!.data as { label: string }).label).toBe(hostile.data.label);
    expect(bin.connected).toBe(true);

    const devices = await apiGet<{ items: { deviceId: string; rejected: number; online: boolean }[] }>(hub, '/api/devices?siteId=t1', token);
    expect(devices.items.find((d) => d.deviceId === 'bin-1')).toMatchObject({ rejected: 6, online: true });
    const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/shaobing_messages_rejected_total\{reason="schema"\} [1-9]/);
  });

  it('refuses a wrong password at CONNACK and a foreign topic by closing that connection only', async () => {
    await expect(connectAs(hub, 't1/door-1', { password: 'wrong' })).rejects.toThrow(/Bad username or password|not authorized/i);
    const door = await device('t1/door-1');
    const other = await device('t1/cam-1');
    const closed = new Promise<void>((r) => door.once('close', () => r()));
    door.publish('shaobing/v1/t1/bin/bin-1/telemetry', JSON.stringify(envelope('bin.telemetry', { fillPct: 99 })), { qos: 1 });
    await closed;
    await eventually(async () => (await rows(`SELECT 1 FROM dead_letters WHERE reason = 'forbidden_topic'`)).length > 0);
    // The broker keeps serving everyone else.
    const msg = envelope('camera.heartbeat', { fps: 25 });
    await other.publishAsync('shaobing/v1/t1/camera/cam-1/telemetry', JSON.stringify(msg), { qos: 1 });
    expect(await rows('SELECT 1 FROM events WHERE msg_id = $1', [msg.id])).toHaveLength(1);
  });

  it('rate-limits a flooding client: the burst passes, the rest is counted rate_limited (exactly) and dead-lettered (bounded), nothing is lost', async () => {
    const cam = await device('t1/cam-1');
    const msgs = Array.from({ length: 160 }, () => envelope('camera.heartbeat', {}));
    // The counter is exact; dead-letter rows are sampled under a flood (ingest/dead-letter-budget.ts).
    const counted = async () => {
      const m = /shaobing_messages_rejected_total\{reason="rate_limited"\} (\d+)/.exec(await (await fetch(`${hub.httpUrl}/metrics`)).text());
      return m ? Number(m[1]) : 0;
    };
    const deadRows = async () => (await rows(`SELECT 1 FROM dead_letters WHERE reason = 'rate_limited' AND device_id = 'cam-1'`)).length;
    const countedBefore = await counted();
    const rowsBefore = await deadRows();
    const t0 = Date.now();
    await Promise.all(msgs.map((m) => cam.publishAsync('shaobing/v1/t1/camera/cam-1/telemetry', JSON.stringify(m), { qos: 1 })));
    const elapsedS = (Date.now() - t0) / 1000;
    const ids = msgs.map((m) => m.id);
    const stored = async () => (await rows('SELECT 1 FROM events WHERE msg_id = ANY($1::text[])', [ids])).length;
    const limited = async () => (await counted()) - countedBefore;
    // Every message is either stored or counted rate_limited.
    await eventually(async () => (await stored()) + (await limited()) === 160);
    const n = await stored();
    // 50/s with a 2 s burst: the first 100 pass at once, then 50 more per second of the flood.
    expect(n).toBeGreaterThanOrEqual(100);
    expect(n).toBeLessThanOrEqual(100 + Math.ceil(50 * elapsedS) + 1);
    expect(await limited()).toBe(160 - n);
    // Dead letters record the flood without one row per refused message.
    await eventually(async () => (await deadRows()) > rowsBefore);
    expect((await deadRows()) - rowsBefore).toBeLessThanOrEqual(Math.min(160 - n, 21));
  });

  it('reports health and pages through events with a cursor', async () => {
    const health = await (await fetch(`${hub.httpUrl}/healthz`)).json() as { status: string; store: { kind: string } };
    expect(health).toMatchObject({ status: 'ok', store: { kind: target.kind } });
    const first = await apiGet<{ items: { msgId: string }[]; nextCursor: string | null }>(hub, '/api/events?limit=2', token);
    expect(first.items).toHaveLength(2);
    const second = await apiGet<{ items: { msgId: string }[] }>(hub, `/api/events?limit=2&cursor=${first.nextCursor}`, token);
    expect(second.items.map((e) => e.msgId)).not.toContain(first.items[0]!.msgId);
    expect((await fetch(`${hub.httpUrl}/api/events`)).status).toBe(401);
  });
});
