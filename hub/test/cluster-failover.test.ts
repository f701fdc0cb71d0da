import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseHolders, metric, MOSQUITTO, multiSiteFile, siteOwners, spawnHub, startMosquitto, until, type HubProcess, type Mosquitto } from './support/cluster-rig.ts';
import { createTestDatabase, testServerUrl } from './support/pg.ts';
import pg from 'pg';

/*
 * Scale-out (README "Scaling out"), all real parts: Mosquitto 2 (persistence on, no queue
 * limit), one PostgreSQL database, hub processes started as in production. Devices publish
 * QoS 1; each hub stores what the shared subscription hands it; each site's rules run on the
 * one hub holding its lease, fed from the database, so a burst split across hubs still counts.
 */
const ENABLED = (MOSQUITTO || process.env.CI) && (testServerUrl() || process.env.CI);

const ACTIVE = `status IN ('open', 'dispatched', 'accepted', 'reopened')`;

interface Rig { broker: Mosquitto; db: pg.Client; dbUrl: string; drop: () => Promise<void>; siteFile: string; siteIds: string[] }

async function rig(sites: number): Promise<Rig> {
  const broker = await startMosquitto();
  const t = await createTestDatabase();
  const db = new pg.Client({ connectionString: t.url });
  await db.connect();
  const { path, siteIds } = await multiSiteFile(sites);
  return { broker, db, dbUrl: t.url, drop: async () => { await db.end(); await t.drop(); }, siteFile: path, siteIds };
}

const hubEnv = (r: Rig, extra: Record<string, string> = {}) => ({
  SITE_FILE: r.siteFile, DATABASE_URL: r.dbUrl, MQTT_URL: r.broker.url, LEASE_POLL_MS: '300', MQTT_INGEST_CONNECTIONS: '2', ...extra,
});

let n = 0;
const msg = (type: string, data: Record<string, unknown>, ts = Date.now()) => ({ id: `c-${process.pid}-${++n}`, ts: new Date(ts).toISOString(), type, data });

async function count(db: pg.Client, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await db.query<{ n: string }>(sql, params)).rows[0]!.n);
}

describe.runIf(ENABLED)('scale-out behind Mosquitto (hub processes)', () => {
  let r: Rig;
  const hubs: HubProcess[] = [];
  const devices: MqttClient[] = [];

  beforeAll(async () => { r = await rig(4); }, 60_000);
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.endAsync().catch(() => {})));
    await Promise.all(hubs.map((h) => h.kill('SIGTERM')));
    await r?.broker.stop();
    await r?.drop();
  }, 60_000);

  it('SIGKILL of one of three hubs mid-stream: its sites move, nothing is lost or doubled, split bursts still open their tickets', async () => {
    for (const id of ['ha', 'hb', 'hc']) hubs.push(spawnHub(id, hubEnv(r)));
    await Promise.all(hubs.map((h) => h.ready));
    await until(async () => (await siteOwners(r.db)).size === 4, 30_000);

    const device = await mqtt.connectAsync(r.broker.url, { clientId: 'publisher', reconnectPeriod: 0 });
    devices.push(device);
    const published: string[] = [];
    const publish = async (site: string, family: string, dev: string, channel: string, m: ReturnType<typeof msg>) => {
      await device.publishAsync(`shaobing/v1/${site}/${family}/${dev}/${channel}`, JSON.stringify(m), { qos: 1 });
      published.push(m.id); // PUBACK received: the broker holds it
    };
    const t0 = Date.now() - 60_000;
    // Each door's denied burst: 3 before the kill, 3 after, a second apart in device time.
    const denied = (site: string, i: number) => publish(site, 'door', 'door-1', 'event', msg('door.access_denied', { credential: 'card', reason: 'expired' }, t0 + i * 1000));
    const filler = async (k: number) => {
      for (let i = 0; i < k; i++) for (const site of r.siteIds) await publish(site, 'bin', 'bin-1', 'telemetry', msg('bin.telemetry', { fillPct: 10 + (i % 20) }));
    };
    for (let i = 0; i < 3; i++) for (const site of r.siteIds) await denied(site, i);
    await filler(40);

    // Kill the hub that owns t1 (so t1's rules must move) while messages are in flight.
    const before = await siteOwners(r.db);
    const victimId = before.get('t1')!;
    const victim = hubs.find((h) => h.hubId === victimId)!;
    const victimSites = [...before].filter(([, h]) => h === victimId).map(([s]) => s);
    const streaming = filler(60);
    await new Promise((res) => setTimeout(res, 200));
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    await streaming;
    for (let i = 3; i < 6; i++) for (const site of r.siteIds) await denied(site, i);

    const takeover = await until(async () => {
      const now = await siteOwners(r.db);
      return victimSites.every((s) => now.get(s) && now.get(s) !== victimId) ? Date.now() - killedAt : null;
    }, 20_000, 50);
    console.log(`[cluster-failover] sites ${victimSites.join(',')} of ${victimId} owned by other hubs ${takeover} ms after SIGKILL (LEASE_POLL_MS=300)`);
    expect(takeover).toBeLessThan(15_000);
    // Cluster-once jobs (SLA sweep, retention/aggregates, reports): each held by one live hub.
    const jobs = await until(async () => {
      const held = await leaseHolders(r.db, 'job:');
      return held.size === 2 && [...held.values()].every((h) => h !== victimId) ? held : null;
    }, 20_000, 50);
    expect([...jobs.keys()].sort()).toEqual(['reports', 'sla']);

    // Mosquitto keeps what it queued for the killed hub's persistent sessions; a supervisor
    // restarts the hub under the same HUB_ID and it drains them.
    const restarted = spawnHub(victimId, hubEnv(r));
    hubs.push(restarted);
    await restarted.ready;

    await until(async () => (await count(r.db, 'SELECT count(*) AS n FROM events WHERE msg_id = ANY($1::text[])', [published])) === published.length, 30_000, 200);
    expect(await count(r.db, 'SELECT count(*) AS n FROM events')).toBe(published.length); // each exactly once

    // The burst of every door was ingested by several hubs, yet each site's ticket opens.
    const ingestedBy = await count(r.db, `SELECT count(*) AS n FROM events WHERE type = 'door.access_denied'`);
    expect(ingestedBy).toBe(24);
    await until(async () => (await count(r.db, `SELECT count(DISTINCT site_id) AS n FROM tickets WHERE rule_id = 'door.denied_burst' AND ${ACTIVE}`)) === 4, 20_000, 200);
    expect(await count(r.db, `SELECT count(*) AS n FROM (SELECT dedup_key FROM tickets WHERE ${ACTIVE} AND dedup_key IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d`)).toBe(0);
    expect(await count(r.db, `SELECT count(*) AS n FROM tickets WHERE rule_id = 'door.denied_burst'`)).toBe(4);
  }, 150_000);
});

describe.runIf(ENABLED)('two hubs with the same configuration behind Mosquitto', () => {
  let r: Rig;
  const hubs: HubProcess[] = [];

  beforeAll(async () => { r = await rig(2); }, 60_000);
  afterAll(async () => {
    await Promise.all(hubs.map((h) => h.kill('SIGTERM')));
    await r?.broker.stop();
    await r?.drop();
  }, 60_000);

  it('never take over each other\'s sessions, split the traffic and handle each message once', async () => {
    // HUB_ID unset: each derives its own from host and pid.
    for (const id of ['', '']) hubs.push(spawnHub(id, hubEnv(r, { HUB_ID: '' })));
    const urls = await Promise.all(hubs.map((h) => h.ready));
    const device = await mqtt.connectAsync(r.broker.url, { clientId: 'publisher-2', reconnectPeriod: 0 });
    const ids: string[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        for (const site of r.siteIds) {
          const m = msg('bin.telemetry', { fillPct: i % 50 });
          await device.publishAsync(`shaobing/v1/${site}/bin/bin-1/telemetry`, JSON.stringify(m), { qos: 1 });
          ids.push(m.id);
        }
      }
    } finally {
      await device.endAsync();
    }
    await until(async () => (await count(r.db, 'SELECT count(*) AS n FROM events')) === ids.length, 30_000, 200);
    const accepted = await Promise.all(urls.map((u) => metric(u, 'shaobing_messages_accepted_total')));
    const duplicates = await Promise.all(urls.map((u) => metric(u, 'shaobing_messages_duplicate_total')));
    expect(accepted.reduce((a, b) => a + b, 0)).toBe(ids.length); // each message to one hub, once
    expect(duplicates).toEqual([0, 0]);
    for (const a of accepted) expect(a).toBeGreaterThan(0); // both hubs took a share
    const takeovers = r.broker.log().filter((l) => /already connected|closing old connection|session taken over/i.test(l));
    expect(takeovers).toEqual([]);
    // Both hubs' pools are connected, under distinct client ids.
    const clientIds = new Set(r.broker.log().flatMap((l) => /New client connected from \S+ as (\S+)/.exec(l)?.[1] ?? []).filter((c) => c.includes('-ingest-')));
    expect(clientIds.size).toBe(4);
    // SIGTERM: each hub drains, snapshots its site engines, frees its leases and exits 0.
    await Promise.all(hubs.map((h) => h.kill('SIGTERM')));
    expect(hubs.map((h) => h.proc.exitCode)).toEqual([0, 0]);
    expect(await count(r.db, `SELECT count(*) AS n FROM rule_state WHERE id LIKE 'rules:t%'`)).toBe(2);
  }, 120_000);
});
