import { createHmac } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import selfsigned from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { HubHandle } from '../src/hub.ts';
import { closeClient, envelope, eventually, startTestHub } from './support/test-hub.ts';
import { secretOf } from './support/test-site.ts';

/*
 * Every MQTT listener (TCP, TLS, WebSocket, secure WebSocket) applies the same identity,
 * connection, rate and topic rules: they all end in one aedes instance through one accept
 * path, and this proves it from outside. Also: the live socket /ws refuses a signed token
 * without `exp`, as the REST API does.
 */

const SECRET = 'transport-rules-signing-key-0123456789';
const RATE = 10;

function signToken(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

describe('the same rules on every MQTT transport', () => {
  let hub: HubHandle;
  let ca: string;
  const open: MqttClient[] = [];
  beforeAll(async () => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048, algorithm: 'sha256',
      extensions: [{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
    });
    const dir = await mkdtemp(join(tmpdir(), 'shaobing-tls-rules-'));
    await writeFile(join(dir, 'cert.pem'), pems.cert);
    await writeFile(join(dir, 'key.pem'), pems.private);
    ca = pems.cert;
    hub = await startTestHub({
      mqttWsPort: 0, mqttTlsPort: 0, mqttWssPort: 0, tlsCertFile: join(dir, 'cert.pem'), tlsKeyFile: join(dir, 'key.pem'),
      authSecret: SECRET, mqttRateLimitPerSec: RATE, mqttRateLimitGraceS: 60, mqttMaxConnectionsPerDevice: 4,
    });
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => closeClient(c).catch(() => undefined)));
    await hub?.stop();
  });

  const urls = () => ({ tcp: hub.mqttUrl!, ws: hub.mqttWsUrl!, tls: hub.mqttTlsUrl!, wss: hub.mqttWssUrl! });
  const connect = async (url: string, username: string, extra: Partial<IClientOptions> = {}) => {
    const c = await mqtt.connectAsync(url, { username, password: secretOf(username), clientId: username, ca, rejectUnauthorized: true, reconnectPeriod: 0, connectTimeout: 5000, ...extra });
    c.on('error', () => undefined);
    open.push(c);
    return c;
  };
  const connack = (url: string, username: string, extra: Partial<IClientOptions>) => connect(url, username, extra).then(() => 0, (err: { code?: number }) => err.code ?? -1);

  it('refuses a foreign client id and a wrong secret with the same CONNACK on each', async () => {
    const codes: Record<string, [number, number]> = {};
    for (const [name, url] of Object.entries(urls())) {
      codes[name] = [await connack(url, 't1/bin-1', { clientId: 't1/door-1' }), await connack(url, 't1/bin-1', { password: 'wrong-secret-of-the-right-length-0' })];
    }
    expect(codes).toEqual({ tcp: [2, 4], ws: [2, 4], tls: [2, 4], wss: [2, 4] });
  });

  it('dead-letters a publish to another device topic as forbidden_topic on each', async () => {
    for (const url of Object.values(urls())) {
      const c = await connect(url, 't1/cam-1');
      const closed = new Promise<void>((r) => c.once('close', () => r()));
      c.publish('shaobing/v1/t1/door/door-1/telemetry', JSON.stringify(envelope('door.heartbeat', {})), { qos: 1 });
      await closed; // no negative PUBACK in 3.1.1: the refusal is the close
    }
    const rows = await eventually(async () => {
      const r = await hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letters WHERE reason = 'forbidden_topic' AND client_id = 't1/cam-1'`);
      return r[0]!.n === 4 ? r : null;
    });
    expect(rows[0]!.n).toBe(4);
  });

  it('shares one publish budget and one connection table across transports', async () => {
    const u = urls();
    const cs = await Promise.all([u.tcp, u.ws, u.tls, u.wss].map((url, i) => connect(url, 't1/chg-1', { clientId: `t1/chg-1#${i}` })));
    // A fifth connection of the credential, on any transport, is over MQTT_MAX_CONNECTIONS_PER_DEVICE (4 here).
    expect(await connack(u.tls, 't1/chg-1', { clientId: 't1/chg-1#5' })).toBe(2);
    const ids: string[] = [];
    const t0 = Date.now();
    await Promise.all(cs.map((c) => Promise.all(Array.from({ length: 40 }, () => {
      const e = envelope('charger.heartbeat', {});
      ids.push(e.id);
      return c.publishAsync('shaobing/v1/t1/charger/chg-1/telemetry', JSON.stringify(e), { qos: 1 });
    }))));
    const elapsedS = (Date.now() - t0) / 1000;
    const [{ n }] = await hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE msg_id = ANY($1::text[])', [ids]) as [{ n: number }];
    // Burst of 2 s worth plus RATE per second, for all four transports together.
    expect(n).toBeLessThanOrEqual(2 * RATE + RATE * (elapsedS + 0.25));
    expect(n).toBeGreaterThanOrEqual(2 * RATE);
    expect(ids.length).toBe(160);
  });

  it('refuses a live-socket token without exp, accepts one with exp', async () => {
    const claims = { sub: 'admin', role: 'admin', sites: null, iat: Math.floor(Date.now() / 1000) };
    const wsUrl = `${hub.httpUrl.replace(/^http/, 'ws')}/ws?token=`;
    const outcome = (token: string) => new Promise<string>((resolve) => {
      const ws = new WebSocket(wsUrl + token);
      ws.once('open', () => { ws.close(); resolve('open'); });
      ws.once('unexpected-response', (_req, res) => { resolve(`http ${res.statusCode}`); ws.terminate(); });
      ws.once('error', () => resolve('error'));
    });
    expect(await outcome(signToken(claims))).toBe('http 401');
    expect(await outcome(signToken({ ...claims, exp: claims.iat - 10 }))).toBe('http 401');
    expect(await outcome(signToken({ ...claims, exp: claims.iat + 600 }))).toBe('open');
  });
});
