import { createHmac } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import selfsigned from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { startHub, type HubHandle } from '../src/hub.ts';
import { envelope, eventually, login, startTestHub } from './support/test-hub.ts';
import { secretOf, writeTestSiteFile } from './support/test-site.ts';

const SECRET = 'transport-test-signing-key-0123456789';

/** HS256 JWT signed with the hub's key, claims as given (so one without `exp` can be made). */
function signToken(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

describe('HTTP hardening', () => {
  let hub: HubHandle;
  beforeAll(async () => {
    const dashboard = await mkdtemp(join(tmpdir(), 'shaobing-dash-'));
    await writeFile(join(dashboard, 'index.html'), '<!doctype html><title>dash</title><div id="app"></div>');
    // A dashboard directory, so the single-page fallback is active as in production.
    hub = await startHub(loadConfig({}, { httpPort: 0, mqttPort: 0, dataDir: 'memory://', siteFile: await writeTestSiteFile(), logLevel: 'silent', authSecret: SECRET }), { log: pino({ level: 'silent' }), dashboardDir: dashboard });
  });
  afterAll(async () => { await hub?.stop(); });

  it('sends security headers with a CSP on the dashboard and the API', async () => {
    for (const path of ['/', '/api/devices']) {
      const res = await fetch(`${hub.httpUrl}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('strict-transport-security')).toBeNull(); // plain HTTP: no HSTS
    }
  });

  it('refuses a correctly signed token without exp, accepts the same with exp', async () => {
    const claims = { sub: 'admin', role: 'admin', sites: null, iat: Math.floor(Date.now() / 1000) };
    const without = await fetch(`${hub.httpUrl}/api/devices`, { headers: { authorization: `Bearer ${signToken(claims)}` } });
    expect(without.status).toBe(401);
    const withExp = await fetch(`${hub.httpUrl}/api/devices`, { headers: { authorization: `Bearer ${signToken({ ...claims, exp: claims.iat + 600 })}` } });
    expect(withExp.status).toBe(200);
    const expired = await fetch(`${hub.httpUrl}/api/devices`, { headers: { authorization: `Bearer ${signToken({ ...claims, exp: claims.iat - 10 })}` } });
    expect(expired.status).toBe(401);
  });

  it('answers JSON 404 for unknown server paths and the SPA only for dashboard routes', async () => {
    for (const path of ['/api/nope', '/api', '/docs/x/y', '/ws/other', '/metrics/x']) {
      const res = await fetch(`${hub.httpUrl}${path}`);
      expect([path, res.status, res.headers.get('content-type')]).toEqual([path, 404, expect.stringContaining('application/json')]);
      expect(((await res.json()) as { code: string }).code).toBe('HUB_ERR_NOT_FOUND');
    }
    // Open311 answers its unknown paths with a GeoReport error list, still JSON 404, never the SPA.
    for (const path of ['/open311', '/open311/v2/nope.json', '/open311/v3/services.json']) {
      const res = await fetch(`${hub.httpUrl}${path}`);
      expect([path, res.status, res.headers.get('content-type')]).toEqual([path, 404, expect.stringContaining('application/json')]);
    }
    for (const path of ['/tickets/T-1', '/map', '/docsfoo']) {
      const res = await fetch(`${hub.httpUrl}${path}`);
      expect([path, res.status, await res.text()]).toEqual([path, 200, expect.stringContaining('<div id="app">')]);
    }
  });

  it('has CORS off: no Access-Control-Allow-Origin for a foreign origin, preflight not answered', async () => {
    const token = await login(hub);
    const res = await fetch(`${hub.httpUrl}/api/devices`, { headers: { origin: 'https://evil.example', authorization: `Bearer ${token}` } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${hub.httpUrl}/api/devices`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.status).toBe(404);
  });
});

describe.each([true, false])('TRUST_PROXY=%s: X-Forwarded-For names the client only when set', (trustProxy) => {
  let hub: HubHandle;
  beforeAll(async () => { hub = await startTestHub({ trustProxy }); });
  afterAll(async () => { await hub?.stop(); });
  const wrongLogin = (forwardedFor: string, i: number) => fetch(`${hub.httpUrl}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ username: `nobody-${i}`, password: 'guess' }),
  }).then((r) => r.status);

  it('limits logins per forwarded address only behind a trusted proxy', async () => {
    // The login route allows 10 requests a minute per client address.
    const first = [];
    for (let i = 0; i < 11; i++) first.push(await wrongLogin('10.0.0.1', i));
    expect(first.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(first[10]).toBe(429);
    // Another forwarded address is another client only behind a trusted proxy.
    expect(await wrongLogin('10.0.0.2', 99)).toBe(trustProxy ? 401 : 429);
  });
});

describe('TLS: MQTT over TLS, secure WebSocket and HTTPS on one certificate', () => {
  let hub: HubHandle;
  let ca: string;
  beforeAll(async () => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048, algorithm: 'sha256',
      extensions: [{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
    });
    const dir = await mkdtemp(join(tmpdir(), 'shaobing-tls-'));
    await writeFile(join(dir, 'cert.pem'), pems.cert);
    await writeFile(join(dir, 'key.pem'), pems.private);
    ca = pems.cert;
    hub = await startTestHub({ mqttTlsPort: 0, mqttWssPort: 0, httpTls: true, tlsCertFile: join(dir, 'cert.pem'), tlsKeyFile: join(dir, 'key.pem') });
  });
  afterAll(async () => { await hub?.stop(); });

  it('stores a message sent over mqtts:// and over wss://, verified against the CA', async () => {
    expect(hub.mqttTlsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(hub.mqttWssUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const ids: string[] = [];
    for (const [url, user] of [[hub.mqttTlsUrl!, 't1/bin-1'], [hub.mqttWssUrl!, 't1/door-1']] as const) {
      const c = await mqtt.connectAsync(url, { username: user, password: secretOf(user), clientId: user, ca, rejectUnauthorized: true, reconnectPeriod: 0 });
      const e = user === 't1/bin-1' ? envelope('bin.telemetry', { fillPct: 12 }) : envelope('door.heartbeat', {});
      ids.push(e.id);
      await c.publishAsync(user === 't1/bin-1' ? 'shaobing/v1/t1/bin/bin-1/telemetry' : 'shaobing/v1/t1/door/door-1/telemetry', JSON.stringify(e), { qos: 1 });
      await c.endAsync();
    }
    const rows = await eventually(async () => { const r = await hub.db.query('SELECT 1 FROM events WHERE msg_id = ANY($1::text[])', [ids]); return r.length === 2 ? r : null; });
    expect(rows).toHaveLength(2);
  });

  it('refuses a client that does not trust the certificate', async () => {
    await expect(mqtt.connectAsync(hub.mqttTlsUrl!, { username: 't1/bin-1', password: secretOf('t1/bin-1'), clientId: 't1/bin-1', rejectUnauthorized: true, reconnectPeriod: 0, connectTimeout: 3000 }))
      .rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('serves the API over HTTPS with HSTS', async () => {
    expect(hub.httpUrl).toMatch(/^https:/);
    const { status, headers, body } = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = request(`${hub.httpUrl}/healthz`, { ca }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on('error', reject).end();
    });
    expect(status).toBe(200);
    expect((JSON.parse(body) as { status: string }).status).toBe('ok');
    expect(String(headers['strict-transport-security'])).toMatch(/max-age=\d+/);
  });
});
