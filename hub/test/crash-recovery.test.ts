import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import pino from 'pino';
import { openDb } from '../src/store/open-db.ts';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort, spawnHub } from './support/hub-process.ts';
import { envelope, eventually } from './support/test-hub.ts';
import { OPERATORS, secretOf, writeTestSiteFile } from './support/test-site.ts';
import type { Ticket } from '@shaobing/schemas';

/*
 * kill -9 of the hub process under QoS 1 load from devices with persistent sessions: every
 * message the hub PUBACKed must be stored exactly once after a restart and a resend of what
 * was not acknowledged — on the embedded store (on disk) and on the PostgreSQL server.
 */

// The door reports forced openings and tamper alarms: match rules with a ticket per device
// (door.forced, door.tamper). After the restart and the resend, each must have one live ticket.
let doorEvents = 0;
const DEVICES = [
  { user: 't1/bin-1', topic: 'shaobing/v1/t1/bin/bin-1/telemetry', msg: () => envelope('bin.telemetry', { fillPct: 20 }) },
  { user: 't1/door-1', topic: 'shaobing/v1/t1/door/door-1/event', msg: () => envelope(++doorEvents % 2 ? 'door.forced' : 'door.tamper', {}) },
  { user: 't1/cam-1', topic: 'shaobing/v1/t1/camera/cam-1/telemetry', msg: () => envelope('camera.heartbeat', {}) },
  { user: 't1/chg-1', topic: 'shaobing/v1/t1/charger/chg-1/telemetry', msg: () => envelope('charger.heartbeat', {}) },
];
const LIVE = `status IN ('open', 'dispatched', 'accepted', 'reopened')`;

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

/** Reads the store after the hub stopped: the test's own connection (server) or the same DATA_DIR (embedded). */
type ReadStore = <R extends Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<R[]>;

async function crashRun(env: Record<string, string>, read: ReadStore): Promise<{ acked: number; resent: number; stored: number; tickets: string }> {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const base = { ...env, MQTT_PORT: String(mqttPort), HTTP_PORT: String(httpPort), SITE_FILE: await writeTestSiteFile(), MQTT_RATE_LIMIT_PER_SEC: '100000' };
  const url = `mqtt://127.0.0.1:${mqttPort}`;
  const ledger: Ledger = { acked: new Set(), unacked: new Map() };
  let hub = await spawnHub(base, 'first start');
  const loads = DEVICES.map((d) => loadFrom(url, d, ledger));
  // Load until a good number of PUBACKs are in, then kill -9 mid-stream.
  const until = Date.now() + 60_000;
  while (ledger.acked.size < 400 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  await hub.stop('SIGKILL');
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
    // The rule engine catches up on what was stored before the kill (its event tail) before the
    // hub stops: wait for both door tickets (it stops cleanly either way).
    const token = await loginAdmin(base.HTTP_PORT);
    await eventually(async () => {
      const rules = new Set((await ticketsOf(base.HTTP_PORT, token)).map((t) => t.ruleId));
      return rules.has('door.forced') && rules.has('door.tamper');
    }, 60_000, 200);
  } finally {
    // A clean stop (SIGTERM) after the restart; the store is then read from outside.
    await hub.stop('SIGTERM');
  }
  const all = [...ledger.acked];
  const rows = (await read<{ id: string; n: string | number }>('SELECT msg_id AS id, count(*) AS n FROM events WHERE msg_id = ANY($1::text[]) GROUP BY msg_id', [all])).map((x) => ({ id: x.id, n: Number(x.n) }));
  const byId = new Map(rows.map((r) => [r.id, r.n]));
  // Every acknowledged id (before the crash, and after the resend) is stored exactly once.
  const missing = all.filter((id) => !byId.has(id));
  const twice = rows.filter((r) => r.n !== 1);
  expect({ missing: missing.length, twice: twice.length }).toEqual({ missing: 0, twice: 0 });
  expect(ackedAtCrash.size).toBeGreaterThanOrEqual(400);
  // No dedup key has two live tickets (the resend and the rule engine's catch-up after the
  // restart opened none twice), and each door alarm has its one live ticket.
  const perKey = (await read<{ rule_id: string; dedup_key: string; live: string | number; total: string | number }>(
    `SELECT rule_id, dedup_key, count(*) FILTER (WHERE ${LIVE}) AS live, count(*) AS total FROM tickets GROUP BY rule_id, dedup_key ORDER BY rule_id`)).map((r) => ({ rule: r.rule_id, key: r.dedup_key, live: Number(r.live), total: Number(r.total) }));
  expect(perKey.filter((k) => k.live > 1)).toEqual([]);
  expect(perKey.filter((k) => k.rule === 'door.forced' || k.rule === 'door.tamper').map((k) => [k.rule, k.live, k.total])).toEqual([['door.forced', 1, 1], ['door.tamper', 1, 1]]);
  const occurrences = (await read<{ n: string | number }>(`SELECT count(*) AS n FROM events WHERE type IN ('door.forced', 'door.tamper') AND msg_id = ANY($1::text[])`, [all]))[0]!;
  return { acked: ackedAtCrash.size, resent, stored: rows.length, tickets: `${perKey.length} dedup keys, none with two live tickets; ${Number(occurrences.n)} door alarms → 1 door.forced + 1 door.tamper ticket` };
}

function embeddedReader(dataDir: string): ReadStore {
  return async (sql, params) => {
    const db = await openDb({ dataDir, log: pino({ level: 'silent' }) });
    try {
      return await db.query(sql, params);
    } finally {
      await db.close();
    }
  };
}

async function loginAdmin(httpPort: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: OPERATORS.admin }) });
  if (!res.ok) throw new Error(`login ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

async function ticketsOf(httpPort: string, token: string): Promise<Ticket[]> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/tickets?siteId=t1&limit=500`, { headers: { authorization: `Bearer ${token}` } });
  return ((await res.json()) as { items: Ticket[] }).items;
}

describe('kill -9 under QoS 1 load', () => {
  const dirs: string[] = [];
  afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

  it('embedded store on disk: every PUBACKed id stored exactly once after restart and resend', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shaobing-crash-'));
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    // The store is read after the hub stopped, by opening the same DATA_DIR in this process.
    const r = await crashRun({ DATA_DIR: dataDir }, embeddedReader(dataDir));
    console.log(`[kill -9, embedded] ${r.acked} acked before the kill, ${r.resent} resent, ${r.stored} distinct ids stored, 0 missing, 0 duplicates; ${r.tickets}`);
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
    const r = await crashRun({ DATABASE_URL: url, DATA_DIR: await mkdtemp(join(tmpdir(), 'shaobing-crash-pg-')) }, async <R extends Record<string, unknown>>(sql: string, params?: unknown[]) => {
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        return (await db.query<R>(sql, params)).rows;
      } finally {
        await db.end();
      }
    });
    console.log(`[kill -9, PostgreSQL] ${r.acked} acked before the kill, ${r.resent} resent, ${r.stored} distinct ids stored, 0 missing, 0 duplicates; ${r.tickets}`);
  }, 420_000);
});
