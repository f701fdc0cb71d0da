import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pino from 'pino';
import { loadConfig, type HubConfig } from '../../src/config.ts';
import { startHub, type HubHandle } from '../../src/hub.ts';
import { OPERATORS, WORKER_LOGINS, secretOf, writeTestSiteFile } from './test-site.ts';

/** Starts a real hub on free ports (embedded store in memory unless a databaseUrl is given). */
export async function startTestHub(overrides: Partial<HubConfig> = {}, opts: { now?: () => number } = {}): Promise<HubHandle> {
  const config = loadConfig({}, {
    httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: 'memory://',
    siteFile: await writeTestSiteFile(), logLevel: 'silent', ingestBatchDelayMs: 5,
    // TimescaleDB 2.28.3's policy jobs fail on PostgreSQL 15.20 ("cannot drop portal"), which
    // /healthz reports as degraded; test hubs own maintenance, as the README tells an operator
    // of such a server to configure. store-job-health.test.ts covers the default.
    storeMaintenance: 'hub', ...overrides,
  });
  return startHub(config, { log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), dashboardDir: null, ...opts });
}

/** A real mqtt.js client logged in as `username` (site/device) with its test secret. */
export async function connectAs(hub: HubHandle, username: string, extra: Partial<IClientOptions> = {}): Promise<MqttClient> {
  // Client ids are bound to the credential (broker/client-identity.ts): the username by default.
  return mqtt.connectAsync(hub.mqttUrl!, { username, password: secretOf(username), clientId: username, reconnectPeriod: 0, connectTimeout: 5000, ...extra });
}

export async function login(hub: HubHandle, username: keyof typeof OPERATORS = 'admin'): Promise<string> {
  const res = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: OPERATORS[username] }) });
  if (!res.ok) throw new Error(`login failed: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

/** Logs a grid worker in (phone page account). */
export async function loginWorker(hub: HubHandle, workerId: keyof typeof WORKER_LOGINS): Promise<string> {
  const res = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: workerId, password: WORKER_LOGINS[workerId] }) });
  if (!res.ok) throw new Error(`worker login failed: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

export async function apiGet<T>(hub: HubHandle, path: string, token: string): Promise<T> {
  const res = await fetch(`${hub.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

let n = 0;
/** A fresh envelope; ids unique within a test run. */
export function envelope(type: string, data: Record<string, unknown>, id?: string): { id: string; ts: string; type: string; data: Record<string, unknown> } {
  return { id: id ?? `m-${Date.now()}-${++n}`, ts: new Date().toISOString(), type, data };
}

/** Polls until fn returns a truthy value or the time is up. */
export async function eventually<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 5000, stepMs = 25): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Ends a client whether or not the broker already closed it (endAsync never settles on a closed one). */
export async function closeClient(c: MqttClient): Promise<void> {
  if (!c.connected) {
    c.end(true);
    return;
  }
  await c.endAsync();
}

/** CONNACK: true when the broker accepts `username` with `password`. */
export async function connects(hub: HubHandle, username: string, password: string): Promise<boolean> {
  try {
    const c = await mqtt.connectAsync(hub.mqttUrl!, { username, password, clientId: username, reconnectPeriod: 0, connectTimeout: 5000 });
    await c.endAsync();
    return true;
  } catch {
    return false;
  }
}
