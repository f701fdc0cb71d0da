import { loadavg } from 'node:os';
import type { SiteFile } from '@shaobing/schemas';
import { hashDeviceSecret } from '@shaobing/schemas/credentials';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { closeClient, connectAs, envelope, startTestHub } from './support/test-hub.ts';
import { secretOf, testSiteFile, writeTestSiteFile } from './support/test-site.ts';

/*
 * One device floods from several client ids (its own `username#suffix` connections, plus ids
 * the broker refuses) while 50 other devices publish at an honest pace. Its stored count must
 * fit the credential's token bucket (MQTT_RATE_LIMIT_PER_SEC, burst of 2 s); the 50 keep every
 * message. Their PUBACK latency with and without the flood is printed (README "Security and
 * reliability"). Real hub (aedes on port 0, embedded store), real mqtt.js clients.
 */

const RATE = 20;
const BURST_S = 2; // CredentialLimiter's default burst: 2 s worth of the rate
const OTHERS = 50;
const PHASE_MS = 4000;
/** Each of the others publishes this often: well under its own budget. */
const OTHER_EVERY_MS = 250;
const FLOODER = 't1/bin-1';
const otherId = (i: number) => `bin-o${String(i).padStart(2, '0')}`;

async function siteWithOthers(): Promise<SiteFile> {
  const base = structuredClone(await testSiteFile());
  const site = base.sites[0]!;
  for (let i = 0; i < OTHERS; i++) {
    site.devices.push({ id: otherId(i), family: 'bin', cellId: 'yard-1', location: { label: `垃圾桶 ${i}` }, secretHash: hashDeviceSecret(secretOf(`t1/${otherId(i)}`)) });
  }
  return base;
}

/** CONNACK return code of a connection attempt (0 = accepted). */
async function connackCode(hub: HubHandle, username: string, clientId: string): Promise<number> {
  try {
    const c = await mqtt.connectAsync(hub.mqttUrl!, { username, password: secretOf(username), clientId, reconnectPeriod: 0, connectTimeout: 5000 });
    await c.endAsync();
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

describe('a flooding device among 50 honest ones', () => {
  let hub: HubHandle;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    hub = await startTestHub({
      siteFile: await writeTestSiteFile(await siteWithOthers()),
      mqttRateLimitPerSec: RATE, mqttRateLimitGraceS: 60, mqttMaxConnectionsPerDevice: 4,
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => closeClient(c).catch(() => undefined)));
    await hub?.stop();
  });

  it('stores no more than its credential allowance while the 50 others keep every message', async () => {
    const others = await Promise.all(Array.from({ length: OTHERS }, (_, i) => connectAs(hub, `t1/${otherId(i)}`)));
    clients.push(...others);
    const otherIds: string[] = [];
    /** Each of the others publishes every OTHER_EVERY_MS, awaiting each PUBACK, until `until`. */
    const runOthers = (until: number) => Promise.all(others.map(async (c, i) => {
      const lat: number[] = [];
      await new Promise((r) => setTimeout(r, (i * OTHER_EVERY_MS) / OTHERS)); // spread over the period
      while (Date.now() < until) {
        const e = envelope('bin.telemetry', { fillPct: 10 });
        otherIds.push(e.id);
        const t = performance.now();
        await c.publishAsync(`shaobing/v1/t1/bin/${otherId(i)}/telemetry`, JSON.stringify(e), { qos: 1 });
        lat.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, OTHER_EVERY_MS));
      }
      return lat;
    })).then((xs) => xs.flat());

    const quiet = await runOthers(Date.now() + PHASE_MS);

    // The flooder: four connections of its own (MQTT_MAX_CONNECTIONS_PER_DEVICE=4 here), a fifth
    // refused, and ids that are not its own refused whatever the password.
    const flooders = await Promise.all(['a', 'b', 'c', 'd'].map((s) => connectAs(hub, FLOODER, { clientId: `${FLOODER}#${s}` })));
    clients.push(...flooders);
    const refused = {
      fifth: await connackCode(hub, FLOODER, `${FLOODER}#e`),
      another: await connackCode(hub, FLOODER, `t1/${otherId(0)}`),
      unbound: await connackCode(hub, FLOODER, 'flood-123'),
    };
    expect(refused).toEqual({ fifth: 2, another: 2, unbound: 2 });

    const t0 = Date.now();
    let sent = 0;
    let floodRunning = true;
    /** Each flooding connection keeps 100 QoS 1 publishes in flight, as fast as PUBACKs return. */
    const flood = flooders.map(async (c) => {
      const inflight = new Set<Promise<unknown>>();
      while (floodRunning) {
        while (inflight.size < 100) {
          sent++;
          const p: Promise<unknown> = c.publishAsync(`shaobing/v1/t1/bin/bin-1/telemetry`, JSON.stringify(envelope('bin.telemetry', { fillPct: 90 })), { qos: 1 }).finally(() => inflight.delete(p));
          inflight.add(p);
        }
        await Promise.race(inflight);
      }
      await Promise.all(inflight);
    });
    const during = await runOthers(Date.now() + PHASE_MS);
    floodRunning = false;
    await Promise.all(flood);
    const floodS = (Date.now() - t0) / 1000;

    const [{ n: stored }] = await hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE device_id = 'bin-1'`) as [{ n: number }];
    const [{ n: othersStored }] = await hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE msg_id = ANY($1::text[])`, [otherIds]) as [{ n: number }];
    // Token bucket for the credential (all its connections together): the burst, then RATE per
    // second of the flood (plus a quarter second for the clock between the bucket and this test).
    const allowance = BURST_S * RATE + RATE * (floodS + 0.25);
    console.log(`[flood, ${OTHERS} others] flooder sent ${sent} in ${floodS.toFixed(2)} s over 4 client ids (3 more refused, CONNACK 2) → ${stored} stored, allowance ${allowance.toFixed(0)} ` +
      `(${RATE}/s, burst ${BURST_S} s); others ${othersStored}/${otherIds.length} stored; others' PUBACK p50/p99 ${pct(quiet, 50).toFixed(1)}/${pct(quiet, 99).toFixed(1)} ms quiet (n=${quiet.length}), ` +
      `${pct(during, 50).toFixed(1)}/${pct(during, 99).toFixed(1)} ms during the flood (n=${during.length}); load average ${loadavg()[0]!.toFixed(1)}`);
    expect(sent).toBeGreaterThan(3 * allowance); // it really flooded
    expect(stored).toBeLessThanOrEqual(allowance);
    expect(stored).toBeGreaterThanOrEqual(BURST_S * RATE); // and its honest budget was served
    expect(othersStored).toBe(otherIds.length);
    expect(during.length).toBeGreaterThanOrEqual(OTHERS); // every one of them published during the flood
  }, 90_000);
});
