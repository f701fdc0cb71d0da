import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, mb, rssOf, spawnHub, type HubProcess } from './support/hub-process.ts';
import { envelope, eventually } from './support/test-hub.ts';
import { OPERATORS, secretOf, writeTestSiteFile } from './support/test-site.ts';
import { createTestDatabase } from './support/pg.ts';

/*
 * An MQTT-over-WebSocket client that subscribes to everything and then never reads. The hub
 * must cut it off once what it holds for it passes MQTT_MAX_SEND_BUFFER_BYTES, and its own
 * memory must stay bounded meanwhile. The hub runs as its own process (its RSS is measured),
 * the slow reader is a raw WebSocket whose TCP socket is paused after SUBACK, and four devices
 * publish 32 KB messages through mqtt.js.
 */

const SEND_BUFFER = 1024 * 1024;
const PAD = 'x'.repeat(32 * 1024);
const FLOOD_MS = 8000;
const MAX_FLOOD_MS = 90_000;
const SLOW = 8; // MQTT_MAX_CONNECTIONS_PER_OPERATOR's default
/** aedes' drainTimeout in broker.ts: what used to end such a subscriber, holding every PUBACK meanwhile. */
const DRAIN_TIMEOUT_MS = 30_000;
/** Generous: the store's own growth from the flood is in it too; unbounded buffers grow by SLOW times the flood. */
// What the hub may legitimately grow by while ~1 GB fans out: the live feed's replay ring
// (64 MiB by design) plus V8 heap headroom. Without the send limit the 8 readers' queues alone
// pass this within seconds (every message is queued 8 times).
const RSS_GROWTH_LIMIT = 256 * 1024 * 1024;

const DEVICES = [
  { user: 't1/bin-1', topic: 'shaobing/v1/t1/bin/bin-1/telemetry', type: 'bin.telemetry', data: { fillPct: 20 } },
  { user: 't1/door-1', topic: 'shaobing/v1/t1/door/door-1/telemetry', type: 'door.heartbeat', data: {} },
  { user: 't1/cam-1', topic: 'shaobing/v1/t1/camera/cam-1/telemetry', type: 'camera.heartbeat', data: {} },
  { user: 't1/chg-1', topic: 'shaobing/v1/t1/charger/chg-1/telemetry', type: 'charger.heartbeat', data: {} },
];

/** CONNECT + SUBSCRIBE over a raw WebSocket; resolves after SUBACK with the socket still reading. */
async function slowSubscriber(url: string, clientId: string): Promise<{ ws: WebSocket; socket: Socket }> {
  const ws = new WebSocket(url, 'mqtt');
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const parser = mqttParser();
  const got: Packet[] = [];
  parser.on('packet', (p) => got.push(p));
  ws.on('message', (d: Buffer) => parser.parse(d));
  ws.on('error', () => undefined);
  ws.send(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 0, username: 'admin', password: Buffer.from(OPERATORS.admin) }));
  await eventually(async () => got.find((p) => p.cmd === 'connack'), 10_000);
  expect(got.find((p) => p.cmd === 'connack')).toMatchObject({ returnCode: 0 });
  ws.send(generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'shaobing/v1/#', qos: 0 }] }));
  await eventually(async () => got.find((p) => p.cmd === 'suback'), 10_000);
  return { ws, socket: (ws as unknown as { _socket: Socket })._socket };
}

/** Most a loopback connection buffers in the kernel: the sender's send buffer and the receiver's receive buffer. */
async function kernelSocketBuffers(): Promise<number> {
  const max = async (f: string) => Number((await readFile(f, 'utf8')).trim().split(/\s+/)[2]);
  return (await max('/proc/sys/net/ipv4/tcp_wmem')) + (await max('/proc/sys/net/ipv4/tcp_rmem'));
}

async function mqttClients(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  return Number(/^shaobing_mqtt_clients (\d+)/m.exec(text)?.[1] ?? NaN);
}

describe('MQTT over WebSocket: a subscriber that never reads', () => {
  let hub: HubProcess | null = null;
  const dirs: string[] = [];
  const databases: { drop(): Promise<void> }[] = [];
  afterAll(async () => {
    await hub?.stop();
    for (const d of databases) await d.drop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('is cut off at MQTT_MAX_SEND_BUFFER_BYTES without stalling the publishers, and the hub RSS stays bounded', async () => {
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const dataDir = await mkdtemp(join(tmpdir(), 'shaobing-slowws-'));
    dirs.push(dataDir);
    // The PostgreSQL server store: the embedded store's WebAssembly memory grows with the data
    // it takes in and never shrinks, which would hide (or fake) what the slow readers cost.
    const database = await createTestDatabase();
    databases.push(database);
    hub = await spawnHub({
      DATABASE_URL: database.url, DATA_DIR: dataDir, MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort),
      SITE_FILE: await writeTestSiteFile(), MQTT_RATE_LIMIT_PER_SEC: '100000', MQTT_MAX_SEND_BUFFER_BYTES: String(SEND_BUFFER),
    }, 'start');
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    // Every message is forwarded to each of them: SLOW copies of the flood the hub could end up holding.
    // One after the other: parallel logins of one username count against its guessing limit.
    const slow: { socket: Socket }[] = [];
    for (let i = 0; i < SLOW; i++) slow.push(await slowSubscriber(`ws://127.0.0.1:${wsPort}`, `admin#slow${i}`));
    for (const s of slow) s.socket.pause(); // never read again: the TCP window closes, the hub's writes pile up

    const devices: MqttClient[] = await Promise.all(DEVICES.map((d) => mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: d.user, password: secretOf(d.user), clientId: d.user, reconnectPeriod: 0 })));
    expect(await mqttClients(httpUrl)).toBe(DEVICES.length + SLOW);
    const rssBefore = (await rssOf(hub.child.pid!))!;
    let rssPeak = rssBefore;
    let acked = 0;
    let cut: { ms: number; acked: number } | null = null;
    const latencies: number[] = [];
    const t0 = Date.now();
    const sampler = setInterval(() => {
      void rssOf(hub!.child.pid!).then((r) => { if (r) rssPeak = Math.max(rssPeak, r); });
      void mqttClients(httpUrl).then((n) => { if (cut === null && n === DEVICES.length) cut = { ms: Date.now() - t0, acked }; }).catch(() => undefined);
    }, 200);
    await Promise.all(DEVICES.map(async (d, i) => {
      // Until every slow subscriber is cut and FLOOD_MS have passed (a loaded machine is slow).
      while ((cut === null || Date.now() - t0 < FLOOD_MS) && Date.now() - t0 < MAX_FLOOD_MS) {
        await Promise.all(Array.from({ length: 20 }, () => {
          const sentAt = performance.now();
          return devices[i]!.publishAsync(d.topic, JSON.stringify(envelope(d.type, { ...d.data, pad: PAD })), { qos: 1 }).then(() => { acked++; latencies.push(performance.now() - sentAt); });
        }));
      }
    }));
    clearInterval(sampler);
    await eventually(async () => (await mqttClients(httpUrl)) === DEVICES.length, 10_000, 100);
    const rssAfter = (await rssOf(hub.child.pid!))!;
    const size = PAD.length + 150;
    const overflows = Number(/^shaobing_mqtt_send_buffer_overflows_total (\d+)/m.exec(await (await fetch(`${httpUrl}/metrics`)).text())?.[1]);
    latencies.sort((a, b) => a - b);
    const c = cut as { ms: number; acked: number } | null;
    console.log(`[mqtt-ws never reads] ${SLOW} subscribers that never read; ${acked} messages of ~${PAD.length / 1024} KB (${mb(acked * size)} each, ${mb(acked * size * SLOW)} for all) in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
      `all cut ${c ? `${c.ms} ms in, after ${mb(c.acked * size)} each` : 'never'} (limit ${mb(SEND_BUFFER)} + the kernel's socket buffers), ${overflows} counted; publishers' PUBACK p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms; ` +
      `hub RSS ${mb(rssBefore)} before, peak ${mb(rssPeak)}, ${mb(rssAfter)} after`);
    // Cut at the buffer limit: what reached each of them is at most the limit plus what the
    // kernel buffers on both ends of a loopback TCP connection (tcp_wmem/tcp_rmem maxima)
    // plus one sampling period of the flood; the publishers never waited on them (before the
    // limit, aedes waited for 'drain' and held every PUBACK until its 30 s drain timeout).
    expect(c).not.toBeNull();
    expect(overflows).toBe(SLOW);
    expect(c!.acked * size).toBeLessThan(SEND_BUFFER + (await kernelSocketBuffers()) + 2 * 1024 * 1024);
    expect(latencies.at(-1)!).toBeLessThan(DRAIN_TIMEOUT_MS * 2 / 3);
    expect(rssPeak - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT);
    await Promise.all(devices.map((d) => d.endAsync()));
  }, 120_000);
});
