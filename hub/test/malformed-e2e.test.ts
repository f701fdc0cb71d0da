import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startHub, type HubHandle } from '../src/hub.ts';
import { buildCommunity } from '../../simulators/src/community.ts';
import { MALFORMED_KINDS, kindFitsSender, malformedMessage, type RawMessage, type Sender } from '../../simulators/src/malformed.ts';
import { Rng } from '../../simulators/src/random.ts';
import { eventually } from './support/test-hub.ts';

/*
 * The simulator's malformed scenario against the real hub: every kind of bad or hostile
 * message, from a device and through a gateway, gets exactly the rejection reason it is
 * labelled with in the dead-letter table, and the hostile-but-valid ones are stored verbatim.
 */
describe('malformed and hostile traffic from the simulator against the real hub', () => {
  let hub: HubHandle;
  let messages: RawMessage[];
  let credentials: Map<string, string>;

  beforeAll(async () => {
    const built = await buildCommunity({ seed: 'malformed', size: 'small', siteId: 'm1' });
    credentials = built.credentials;
    const site = built.siteFile.sites[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'shaobing-malformed-'));
    writeFileSync(join(dir, 'site.json'), JSON.stringify(built.siteFile));
    hub = await startHub(loadConfig({}, { httpPort: 0, mqttPort: 0, dataDir: 'memory://', siteFile: join(dir, 'site.json'), logLevel: 'silent' }), { log: pino({ level: 'silent' }), dashboardDir: null });
    const withSecret = site.devices.filter((d) => d.secretHash);
    const device = withSecret.find((d) => d.family === 'camera')!;
    const other = withSecret.find((d) => d.family === 'bin')!;
    const gateway = site.gateways[0]!;
    const rng = new Rng(7);
    const senders: Sender[] = [
      { kind: 'device', siteId: site.id, device },
      // A gateway speaks only for the devices bound to it in the site file.
      { kind: 'gateway', siteId: site.id, gatewayId: gateway.id, device: site.devices.find((d) => d.gatewayId === gateway.id)! },
    ];
    messages = senders.flatMap((s) => MALFORMED_KINDS.filter((k) => kindFitsSender(k, s.kind)).map((k, i) => malformedMessage(k, s, other, `mf-${s.kind}-${i}`, rng)));
  });
  afterAll(async () => { await hub?.stop(); });

  it('dead-letters each with its labelled reason and stores the hostile-but-valid ones', async () => {
    for (const m of messages) {
      // A fresh connection per message: forbidden topics close it (no negative PUBACK in 3.1.1).
      const username = `m1/${m.via.id}`;
      const c = await mqtt.connectAsync(hub.mqttUrl!, { username, password: credentials.get(username)!, clientId: username, reconnectPeriod: 0 });
      c.on('error', () => undefined);
      const closed = new Promise<void>((r) => c.once('close', () => r()));
      c.publish(m.topic, typeof m.payload === 'string' ? m.payload : Buffer.from(m.payload), { qos: 0 });
      // Give the broker the message, then leave (or notice it already hung up on us).
      await Promise.race([closed, new Promise((r) => setTimeout(r, 60))]);
      c.end(true);
    }
    const expected = messages.filter((m) => m.expect !== 'accepted').map((m) => m.expect).sort();
    const rows = await eventually(async () => {
      const r = await hub.db.query<{ reason: string }>('SELECT reason FROM dead_letters ORDER BY reason');
      return r.length >= expected.length ? r : null;
    }, 10_000);
    expect(rows.map((r) => r.reason)).toEqual(expected);
    // Hostile but valid: stored with their ids exactly as sent (a batch's good items are kept too).
    const acceptedIds = messages.filter((m) => m.expect === 'accepted').map((m) => {
      const doc = JSON.parse(String(m.payload)) as { id: string } | { id: string }[];
      return String(Array.isArray(doc) ? doc[0]!.id : doc.id);
    });
    expect(acceptedIds.length).toBeGreaterThan(0);
    const stored = await hub.db.query<{ msg_id: string }>('SELECT msg_id FROM events WHERE msg_id = ANY($1::text[])', [acceptedIds]);
    expect(stored.map((r) => r.msg_id).sort()).toEqual([...acceptedIds].sort());
    const [hostile] = await hub.db.query<{ data: Record<string, unknown> }>(`SELECT data FROM events WHERE data::text LIKE '%DROP TABLE%' LIMIT 1`);
    expect(JSON.stringify(hostile!.data)).toContain("'; DROP TABLE events; --");
  });
});
