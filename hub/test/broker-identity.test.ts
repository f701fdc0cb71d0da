import { once } from 'node:events';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { generate } from 'mqtt-packet';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type HubConfig } from '../src/config.ts';
import { startHub, type HubHandle } from '../src/hub.ts';
import { apiGet, closeClient, connectAs, envelope, eventually, login } from './support/test-hub.ts';
import { OPERATORS, secretOf, writeTestSiteFile } from './support/test-site.ts';

/*
 * Device identity and limits against a real hub (aedes on port 0, embedded store) and real
 * mqtt.js clients: client ids bound to the credential, connections and publish budget per
 * credential, the documented Last Will, wildcard publishes, operator lockout under concurrency.
 */

const BIN = 't1/bin-1';
const CAM = 't1/cam-1';
const DOOR = 't1/door-1';
const GW = 't1/gw-1';
const binTopic = 'shaobing/v1/t1/bin/bin-1/telemetry';

/** A hub whose log lines are kept, so tests can see why a connection was refused. */
async function startLoggedHub(overrides: Partial<HubConfig>): Promise<{ hub: HubHandle; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
  const config = loadConfig({}, {
    httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: 'memory://',
    siteFile: await writeTestSiteFile(), logLevel: 'info', ingestBatchDelayMs: 5, ...overrides,
  });
  const hub = await startHub(config, { log: pino({ level: 'info' }, sink), dashboardDir: null });
  return { hub, lines };
}

async function count(hub: HubHandle, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await hub.db.query<{ n: string | number }>(sql, params);
  return Number(row!.n);
}

async function metric(hub: HubHandle, re: RegExp): Promise<number> {
  const text = await (await fetch(`${hub.httpUrl}/metrics`)).text();
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}

const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => closeClient(c).catch(() => undefined)));
});
async function track(p: Promise<MqttClient>): Promise<MqttClient> {
  const c = await p;
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

describe('client ids bound to the credential', () => {
  let hub: HubHandle;
  beforeAll(async () => { hub = await startLoggedHub({}).then((h) => h.hub); });
  afterAll(async () => { await hub?.stop(); });

  it("refuses another device's client id with CONNACK 2 and leaves that device connected", async () => {
    const cam = await track(connectAs(hub, CAM));
    const camClosed = new Promise<string>((r) => cam.once('close', () => r('closed')));
    await expect(connectAs(hub, DOOR, { clientId: CAM })).rejects.toThrow(/Identifier rejected/i);
    await expect(connectAs(hub, DOOR, { clientId: `${CAM}#x` })).rejects.toThrow(/Identifier rejected/i);
    // mqtt.js' random default id belongs to nobody.
    await expect(connectAs(hub, DOOR, { clientId: 'mqttjs_1234abcd' })).rejects.toThrow(/Identifier rejected/i);
    expect(await Promise.race([camClosed, new Promise((r) => setTimeout(() => r('still up'), 300))])).toBe('still up');
    await cam.publishAsync('shaobing/v1/t1/camera/cam-1/telemetry', JSON.stringify(envelope('camera.heartbeat', {})), { qos: 1 });
  });

  it('answers a hand-written CONNECT with a stolen id with CONNACK return code 2', async () => {
    // Raw bytes from mqtt-packet over a plain socket: the refusal is the protocol's, not mqtt.js'.
    const connack = async (clientId: string) => {
      const sock = connect(Number(new URL(hub.mqttUrl!).port), '127.0.0.1');
      sock.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId, username: DOOR, password: Buffer.from(secretOf(DOOR)) }));
      const [bytes] = (await once(sock, 'data')) as [Buffer];
      sock.destroy();
      return [...bytes.subarray(0, 4)];
    };
    expect(await connack(CAM)).toEqual([0x20, 0x02, 0x00, 0x02]);
    expect(await connack(DOOR)).toEqual([0x20, 0x02, 0x00, 0x00]);
  });

  it('speaks MQTT 3.1.1 only: a v5 CONNECT gets CONNACK 1 (unacceptable protocol version), nothing else breaks', async () => {
    await expect(connectAs(hub, DOOR, { protocolVersion: 5 })).rejects.toThrow(/Unacceptable protocol version/i);
    await track(connectAs(hub, DOOR));
  });

  it('lets a device take over its own session but allows it one connection', async () => {
    const will = { topic: 'shaobing/v1/t1/door/door-1/status', payload: Buffer.from('{"online": false}'), qos: 1 as const };
    const first = await track(connectAs(hub, DOOR, { will }));
    const firstClosed = new Promise<void>((r) => first.once('close', () => r()));
    await expect(connectAs(hub, DOOR, { clientId: `${DOOR}#second` })).rejects.toThrow(/Identifier rejected/i);
    const again = await track(connectAs(hub, DOOR)); // same id: a reconnect after a half-open socket
    await firstClosed;
    await again.publishAsync('shaobing/v1/t1/door/door-1/telemetry', JSON.stringify(envelope('door.heartbeat', {})), { qos: 1 });
    // The old connection's Last Will is not "offline": the device is right here.
    await new Promise((r) => setTimeout(r, 200));
    expect(await count(hub, `SELECT count(*) AS n FROM events WHERE device_id = 'door-1' AND msg_id LIKE 'will-%'`)).toBe(0);
  });

  it('allows a gateway MQTT_MAX_CONNECTIONS_PER_GATEWAY (4) suffixed ids, not a fifth', async () => {
    for (const s of ['a', 'b', 'c', 'd']) await track(connectAs(hub, GW, { clientId: `${GW}#${s}` }));
    await expect(connectAs(hub, GW, { clientId: `${GW}#e` })).rejects.toThrow(/Identifier rejected/i);
    await closeClient(clients.pop()!);
    await eventually(async () => track(connectAs(hub, GW, { clientId: `${GW}#e` })).catch(() => null), 3000);
  });
});

describe('publish budget per credential', () => {
  const RATE = 20;
  let hub: HubHandle;
  beforeAll(async () => {
    // Four connections allowed so the test can show extra client ids buy no extra budget.
    hub = await startLoggedHub({ mqttRateLimitPerSec: RATE, mqttRateLimitGraceS: 30, mqttMaxConnectionsPerDevice: 4 }).then((h) => h.hub);
  });
  afterAll(async () => { await hub?.stop(); });

  it('holds a device flooding from four client ids to its allowance while others keep every message', async () => {
    const flooders = await Promise.all(['a', 'b', 'c', 'd'].map((s) => track(connectAs(hub, BIN, { clientId: `${BIN}#${s}` }))));
    const door = await track(connectAs(hub, DOOR));
    const cam = await track(connectAs(hub, CAM));
    // The other devices' PUBACK latency without the flood, for the figure printed below.
    const quietLatencies: number[] = [];
    for (let k = 0; k < 10; k++) {
      const sentAt = performance.now();
      await door.publishAsync('shaobing/v1/t1/door/door-1/telemetry', JSON.stringify(envelope('door.heartbeat', {})), { qos: 1 });
      quietLatencies.push(performance.now() - sentAt);
    }
    // Each connection fires its QoS 1 publishes without waiting for each PUBACK (as fast as the
    // socket takes them); every one is acknowledged, stored or not.
    const PER_CLIENT = 300;
    const t0 = Date.now();
    const sent = PER_CLIENT * flooders.length;
    const flood = flooders.map((c) => Promise.all(Array.from({ length: PER_CLIENT }, () =>
      c.publishAsync(binTopic, JSON.stringify(envelope('bin.telemetry', { fillPct: 10 })), { qos: 1 }))));
    const othersIds: string[] = [];
    const floodLatencies: number[] = [];
    const others = [door, cam].map(async (c, i) => {
      for (let k = 0; k < 15; k++) {
        const e = i === 0 ? envelope('door.heartbeat', {}) : envelope('camera.heartbeat', {});
        othersIds.push(e.id);
        const sentAt = performance.now();
        await c.publishAsync(i === 0 ? 'shaobing/v1/t1/door/door-1/telemetry' : 'shaobing/v1/t1/camera/cam-1/telemetry', JSON.stringify(e), { qos: 1 });
        floodLatencies.push(performance.now() - sentAt);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    await Promise.all([...flood, ...others]);
    const elapsedS = (Date.now() - t0) / 1000;
    const stored = await count(hub, `SELECT count(*) AS n FROM events WHERE device_id = 'bin-1'`);
    // Token bucket: a burst of 2 s worth, then RATE per second, for all four connections together.
    const allowance = 2 * RATE + RATE * (elapsedS + 0.25);
    expect(sent).toBeGreaterThan(4 * allowance);
    expect(stored).toBeLessThanOrEqual(allowance);
    expect(stored).toBeGreaterThanOrEqual(2 * RATE);
    // The others were never limited: all 30 acknowledged messages are stored.
    expect(await count(hub, `SELECT count(*) AS n FROM events WHERE msg_id = ANY($1::text[])`, [othersIds])).toBe(30);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1);
    // The counter is exact; the dead-letter table gets a bounded sample (20 rows per 10 s per source).
    const limited = await metric(hub, /shaobing_messages_rejected_total\{reason="rate_limited"\} (\d+)/);
    expect(limited).toBe(sent - stored);
    const rows = await eventually(async () => (await count(hub, `SELECT count(*) AS n FROM dead_letters WHERE reason = 'rate_limited'`)) || null);
    expect(rows).toBeLessThanOrEqual(20 * Math.ceil(elapsedS / 10 + 1));
    expect(rows).toBeLessThan(limited);
    console.log(`[rate limit] ${sent} sent by one credential over 4 client ids in ${elapsedS.toFixed(2)} s → ${stored} stored (allowance ${allowance.toFixed(0)}), ${limited} counted rate_limited, ${rows} dead-letter rows; others' PUBACK median ${median(quietLatencies)} ms quiet, ${median(floodLatencies)} ms during the flood`);
  });

  it('a reconnect does not refill the bucket', async () => {
    // Ten connections in a row, 30 messages each: a bucket per connection would store all 300.
    const ids: string[] = [];
    const t0 = Date.now();
    for (let round = 0; round < 10; round++) {
      const c = await track(connectAs(hub, CAM));
      await Promise.all(Array.from({ length: 30 }, () => {
        const e = envelope('camera.heartbeat', {});
        ids.push(e.id);
        return c.publishAsync('shaobing/v1/t1/camera/cam-1/telemetry', JSON.stringify(e), { qos: 1 });
      }));
      await closeClient(c);
    }
    const elapsedS = (Date.now() - t0) / 1000;
    const stored = await count(hub, `SELECT count(*) AS n FROM events WHERE msg_id = ANY($1::text[])`, [ids]);
    expect(stored).toBeLessThanOrEqual(2 * RATE + RATE * (elapsedS + 0.25));
    expect(stored).toBeLessThan(ids.length);
  });
});

describe('a credential that stays over its rate', () => {
  let hub: HubHandle;
  beforeAll(async () => { hub = await startLoggedHub({ mqttRateLimitPerSec: 10, mqttRateLimitGraceS: 1, mqttRateLimitBanS: 3 }).then((h) => h.hub); });
  afterAll(async () => { await hub?.stop(); });

  it('is disconnected after MQTT_RATE_LIMIT_GRACE_S and refused for MQTT_RATE_LIMIT_BAN_S', async () => {
    const c = await track(connectAs(hub, BIN));
    const closed = new Promise<number>((r) => c.once('close', () => r(Date.now())));
    const t0 = Date.now();
    let open = true;
    void closed.then(() => { open = false; });
    while (open && Date.now() - t0 < 10_000) {
      c.publish(binTopic, JSON.stringify(envelope('bin.telemetry', { fillPct: 1 })), { qos: 0 });
      await new Promise((r) => setTimeout(r, 2));
    }
    const closedAt = await closed;
    expect(closedAt - t0).toBeGreaterThanOrEqual(1000);
    await expect(connectAs(hub, BIN)).rejects.toThrow(/Server unavailable/i);
    // Other devices are unaffected meanwhile.
    await track(connectAs(hub, DOOR));
    const back = await eventually(async () => connectAs(hub, BIN).catch(() => null), 8000, 250);
    clients.push(back);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(2500);
  });
});

describe('Last Will in the documented form', () => {
  let hub: HubHandle;
  beforeAll(async () => { hub = await startLoggedHub({}).then((h) => h.hub); });
  afterAll(async () => { await hub?.stop(); });

  it('a dead socket delivers {"online": false}, stamped by the hub, and the device is offline', async () => {
    const token = await login(hub);
    const will = { topic: 'shaobing/v1/t1/camera/cam-1/status', payload: Buffer.from('{"online": false}'), qos: 1 as const, retain: false };
    const cam = await track(connectAs(hub, CAM, { will }));
    await cam.publishAsync(will.topic, JSON.stringify(envelope('camera.status', { online: true })), { qos: 1 });
    const online = await apiGet<{ items: { deviceId: string; online: boolean }[] }>(hub, '/api/devices?siteId=t1', token);
    expect(online.items.find((d) => d.deviceId === 'cam-1')!.online).toBe(true);
    await new Promise((r) => setTimeout(r, 1100)); // a will's ts must be the delivery time, not CONNECT's
    const killedAt = Date.now();
    cam.stream.destroy(); // no DISCONNECT: the hub sees the socket die
    const [row] = await eventually(async () => {
      const r = await hub.db.query<{ msg_id: string; ts: Date; data: { online: boolean } }>(`SELECT msg_id, ts, data FROM events WHERE device_id = 'cam-1' AND type = 'camera.status' AND msg_id LIKE 'will-%'`);
      return r.length ? r : null;
    });
    expect(row!.data).toEqual({ online: false });
    expect(new Date(row!.ts).getTime()).toBeGreaterThanOrEqual(killedAt - 50);
    const after = await eventually(async () => {
      const list = await apiGet<{ items: { deviceId: string; online: boolean }[] }>(hub, '/api/devices?siteId=t1', token);
      return list.items.find((d) => d.deviceId === 'cam-1' && !d.online);
    });
    expect(after.online).toBe(false);
    expect(await count(hub, `SELECT count(*) AS n FROM dead_letters WHERE device_id = 'cam-1'`)).toBe(0);
  });
});

describe('wildcards in a PUBLISH topic', () => {
  let hub: HubHandle;
  beforeAll(async () => { hub = await startLoggedHub({}).then((h) => h.hub); });
  afterAll(async () => { await hub?.stop(); });

  it('are counted and dead-lettered as forbidden_topic, then the connection is closed', async () => {
    for (const topic of ['shaobing/v1/t1/bin/+/telemetry', 'shaobing/v1/t1/#']) {
      const c = await track(connectAs(hub, BIN));
      const closed = new Promise<void>((r) => c.once('close', () => r()));
      c.publish(topic, '{"payload":"sample"}', { qos: 1 });
      await closed;
    }
    const rows = await eventually(async () => {
      const r = await hub.db.query<{ reason: string; topic: string; raw: string; client_id: string }>(`SELECT reason, topic, raw, client_id FROM dead_letters ORDER BY topic`);
      return r.length >= 2 ? r : null;
    });
    expect(rows.map((r) => [r.reason, r.topic, r.raw, r.client_id])).toEqual([
      ['forbidden_topic', 'shaobing/v1/t1/#', '{"payload":"sample"}', BIN],
      ['forbidden_topic', 'shaobing/v1/t1/bin/+/telemetry', '{"payload":"sample"}', BIN],
    ]);
    expect(await metric(hub, /shaobing_messages_rejected_total\{reason="forbidden_topic"\} (\d+)/)).toBe(2);
  });
});

describe('operator lockout under concurrency', () => {
  let hub: HubHandle;
  let lines: Record<string, unknown>[];
  beforeAll(async () => { ({ hub, lines } = await startLoggedHub({})); });
  afterAll(async () => { await hub?.stop(); });

  const operator = (username: string, password: string) =>
    mqtt.connectAsync(hub.mqttUrl!, { username, password, clientId: username, reconnectPeriod: 0, connectTimeout: 20_000 });

  it('checks at most 5 of 10 parallel wrong MQTT passwords, then refuses the right one for the minute', async () => {
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => operator('viewer', 'wrong')));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    const whys = lines.filter((l) => l.username === 'viewer').map((l) => String(l.why));
    expect(whys.filter((w) => w === 'wrong password')).toHaveLength(5);
    expect(whys.filter((w) => w.startsWith('too many failed logins'))).toHaveLength(5);
    await expect(operator('viewer', OPERATORS.viewer)).rejects.toThrow(/Bad username or password/i);
    const ok = await operator('dispatcher', OPERATORS.dispatcher); // another username, same address: still under 20
    await ok.endAsync();
  });

  it('limits HTTP logins the same way: 5 checked, the rest 429', async () => {
    const tries = await Promise.all(Array.from({ length: 10 }, () => fetch(`${hub.httpUrl}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'supervisor', password: 'wrong' }),
    }).then((r) => r.status)));
    expect(tries.filter((s) => s === 401)).toHaveLength(5);
    expect(tries.filter((s) => s === 429)).toHaveLength(5);
    const right = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'supervisor', password: OPERATORS.supervisor }) });
    expect(right.status).toBe(429);
  });

  it('limits guesses per source address across usernames', async () => {
    // 20 failures per address a minute: the 5 checked viewer guesses above count, so 15 of these run.
    const names = Array.from({ length: 25 }, (_, i) => `nobody-${i}`);
    await Promise.allSettled(names.map((n) => operator(n, 'guess')));
    const refused = lines.filter((l) => String(l.username ?? '').startsWith('nobody-') && String(l.why).startsWith('too many failed logins'));
    expect(refused).toHaveLength(10);
  });
});
