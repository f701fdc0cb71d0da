import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import pino from 'pino';
import { openDb } from '../src/store/open-db.ts';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { envelope } from './support/test-hub.ts';
import { secretOf, writeTestSiteFile } from './support/test-site.ts';

/*
 * kill -9 of the hub process under QoS 1 load from devices with persistent sessions: every
 * message the hub PUBACKed must be stored exactly once after a restart and a resend of what
 * was not acknowledged — on the embedded store (on disk) and on the PostgreSQL server.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEVICES = [
  { user: 't1/bin-1', topic: 'shaobing/v1/t1/bin/bin-1/telemetry', msg: () => envelope('bin.telemetry', { fillPct: 20 }) },
  { user: 't1/door-1', topic: 'shaobing/v1/t1/door/door-1/telemetry', msg: () => envelope('door.heartbeat', {}) },
  { user: 't1/cam-1', topic: 'shaobing/v1/t1/camera/cam-1/telemetry', msg: () => envelope('camera.heartbeat', {}) },
  { user: 't1/chg-1', topic: 'shaobing/v1/t1/charger/chg-1/telemetry', msg: () => envelope('charger.heartbeat', {}) },
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts `npm start`'s entry point as a child process and waits for its MQTT line. */
async function spawnHub(env: Record<string, string>, phase: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'hub/src/main.ts')], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    // Generous: a cold embedded store (migrations, TimescaleDB) on a loaded CI machine is slow.
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`hub did not start (${phase}): ${out.slice(-2000)}`)); }, 150_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('shaobing: mqtt ')) { clearTimeout(timer); resolve(); }
    });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`hub exited with ${code}: ${out.slice(-2000)}`)); });
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

interface Ledger { acked: Set<string>; unacked: Map<string, { topic: string; payload: string }> }

/** A device with a persistent session firing QoS 1 messages, recording which were PUBACKed. */
function loadFrom(url: string, d: (typeof DEVICES)[number], ledger: Ledger): { client: MqttClient; stop: () => void } {
  const client = mqtt.connect(url, { username: d.user, password: secretOf(d.user), clientId: d.user, clean: false, reconnectPeriod: 0, connectTimeout: 5000 });
  client.on('error', () => undefined);
  let running = true;
  const pump = () => {
    if (!running || !client.connected) return;
    // At most ~100 unacknowledged per device: steady load, not an ever-growing client queue.
    for (let i = 0; i < 20 && ledger.unacked.size < 100 * DEVICES.length; i++) {
      const e = d.msg();
      const payload = JSON.stringify(e);
      ledger.unacked.set(e.id, { topic: d.topic, payload });
      client.publish(d.topic, payload, { qos: 1 }, (err) => {
        if (err) return;
        ledger.acked.add(e.id);
        ledger.unacked.delete(e.id);
      });
    }
    setTimeout(pump, 10);
  };
  client.on('connect', pump);
  return { client, stop: () => { running = false; } };
}

async function crashRun(env: Record<string, string>, countStored: (ids: string[]) => Promise<{ id: string; n: number }[]>): Promise<{ acked: number; resent: number; stored: number }> {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const base = { ...env, MQTT_PORT: String(mqttPort), HTTP_PORT: String(httpPort), SITE_FILE: await writeTestSiteFile(), MQTT_RATE_LIMIT_PER_SEC: '100000' };
  const url = `mqtt://127.0.0.1:${mqttPort}`;
  const ledger: Ledger = { acked: new Set(), unacked: new Map() };
  let hub = await spawnHub(base, 'first start');
  const loads = DEVICES.map((d) => loadFrom(url, d, ledger));
  // Load until a good number of PUBACKs are in, then kill -9 mid-stream.
  const until = Date.now() + 60_000;
  while (ledger.acked.size < 400 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  const exited = new Promise((r) => hub.once('exit', r));
  hub.kill('SIGKILL');
  await exited;
  for (const l of loads) { l.stop(); l.client.end(true); }
  const ackedAtCrash = new Set(ledger.acked);

  hub = await spawnHub(base, 'restart after kill -9');
  let resent = 0;
  try {
    // Reconnect each device (same id, persistent session) and resend everything not acknowledged.
    const resend = [...ledger.unacked.entries()];
    resent = resend.length;
    const clients = await Promise.all(DEVICES.map((d) => mqtt.connectAsync(url, { username: d.user, password: secretOf(d.user), clientId: d.user, clean: false, reconnectPeriod: 0 })));
    await Promise.all(resend.map(([id, m]) => {
      const c = clients[DEVICES.findIndex((d) => d.topic === m.topic)]!;
      return c.publishAsync(m.topic, m.payload, { qos: 1 }).then(() => { ledger.acked.add(id); });
    }));
    await Promise.all(clients.map((c) => c.endAsync()));
  } finally {
    // A clean stop (SIGTERM) after the restart; the store is then read from outside.
    const exited2 = new Promise((r) => hub.once('exit', r));
    hub.kill('SIGTERM');
    await exited2;
  }
  const all = [...ledger.acked];
  const rows = await countStored(all);
  const byId = new Map(rows.map((r) => [r.id, r.n]));
  // Every acknowledged id (before the crash, and after the resend) is stored exactly once.
  const missing = all.filter((id) => !byId.has(id));
  const twice = rows.filter((r) => r.n !== 1);
  expect({ missing: missing.length, twice: twice.length }).toEqual({ missing: 0, twice: 0 });
  expect(ackedAtCrash.size).toBeGreaterThanOrEqual(400);
  return { acked: ackedAtCrash.size, resent, stored: rows.length };
}

async function countEmbedded(dataDir: string, ids: string[]): Promise<{ id: string; n: number }[]> {
  const db = await openDb({ dataDir, log: pino({ level: 'silent' }) });
  try {
    const rows = await db.query<{ id: string; n: string | number }>('SELECT msg_id AS id, count(*) AS n FROM events WHERE msg_id = ANY($1::text[]) GROUP BY msg_id', [ids]);
    return rows.map((x) => ({ id: x.id, n: Number(x.n) }));
  } finally {
    await db.close();
  }
}

describe('kill -9 under QoS 1 load', () => {
  const dirs: string[] = [];
  afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

  it('embedded store on disk: every PUBACKed id stored exactly once after restart and resend', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shaobing-crash-'));
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    // The store is read after the hub stopped, by opening the same DATA_DIR in this process.
    const r = await crashRun({ DATA_DIR: dataDir }, (ids) => countEmbedded(dataDir, ids));
    console.log(`[kill -9, embedded] ${r.acked} acked before the kill, ${r.resent} resent, ${r.stored} distinct ids stored, 0 missing, 0 duplicates`);
  }, 420_000);

  it('PostgreSQL server: every PUBACKed id stored exactly once after restart and resend', async () => {
    const admin = inject('pgUrl');
    if (!admin) return console.warn('no PostgreSQL server; skipped');
    const name = `crash_${process.pid}_${Date.now()}`;
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
    const url = admin.replace(/\/[^/]*$/, `/${name}`);
    const r = await crashRun({ DATABASE_URL: url, DATA_DIR: await mkdtemp(join(tmpdir(), 'shaobing-crash-pg-')) }, async (ids) => {
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const res = await db.query<{ id: string; n: string }>('SELECT msg_id AS id, count(*) AS n FROM events WHERE msg_id = ANY($1::text[]) GROUP BY msg_id', [ids]);
      await db.end();
      return res.rows.map((x) => ({ id: x.id, n: Number(x.n) }));
    });
    console.log(`[kill -9, PostgreSQL] ${r.acked} acked before the kill, ${r.resent} resent, ${r.stored} distinct ids stored, 0 missing, 0 duplicates`);
  }, 420_000);
});
