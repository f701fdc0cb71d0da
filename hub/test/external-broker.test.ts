import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { envelope, eventually, startTestHub } from './support/test-hub.ts';

/*
 * Scale-out mode (DESIGN §10): the hub as a persistent-session client of an external broker,
 * here Debian's Mosquitto. Messages published while the hub is down are queued by the broker
 * and stored when it comes back; the hub acknowledges to the broker only after commit.
 */
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

describe.runIf(MOSQUITTO || process.env.CI)('external broker (Mosquitto)', () => {
  let broker: ChildProcess;
  let url: string;
  let dataDir: string;

  beforeAll(async () => {
    if (!MOSQUITTO) throw new Error('mosquitto is not installed (.ci/run installs it)');
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'shaobing-mosq-'));
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 10000\n`);
    broker = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
    url = `mqtt://127.0.0.1:${port}`;
    dataDir = mkdtempSync(join(tmpdir(), 'shaobing-ext-'));
    await eventually(async () => {
      try { await (await mqtt.connectAsync(url, { reconnectPeriod: 0 })).endAsync(); return true; } catch { return false; }
    }, 5000, 100);
  });
  afterAll(() => {
    broker?.kill('SIGTERM');
  });

  it('ingests from the broker and gets the messages queued while the hub was down', async () => {
    const device = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    const topic = 'shaobing/v1/t1/bin/bin-1/telemetry';
    // A stable HUB_ID: its persistent sessions are resumed by the restarted hub.
    let hub: HubHandle = await startTestHub({ mqttUrl: url, dataDir, hubId: 'ext-test' });
    expect(hub.mqttUrl).toBeNull();
    const first = envelope('bin.telemetry', { fillPct: 12 });
    await device.publishAsync(topic, JSON.stringify(first), { qos: 1 });
    await eventually(async () => (await hub.db.query('SELECT 1 FROM events WHERE msg_id = $1', [first.id])).length === 1);
    await hub.stop();

    const whileDown = Array.from({ length: 25 }, (_, i) => envelope('bin.telemetry', { fillPct: 20 + i }));
    for (const m of whileDown) await device.publishAsync(topic, JSON.stringify(m), { qos: 1 });
    const bad = 'not json';
    await device.publishAsync(topic, bad, { qos: 1 });

    hub = await startTestHub({ mqttUrl: url, dataDir, hubId: 'ext-test' });
    try {
      const ids = whileDown.map((m) => m.id);
      await eventually(async () => (await hub.db.query('SELECT msg_id FROM events WHERE msg_id = ANY($1::text[])', [ids])).length === ids.length, 10_000);
      await eventually(async () => (await hub.db.query(`SELECT 1 FROM dead_letters WHERE reason = 'bad_json'`)).length > 0);
    } finally {
      await device.endAsync();
      await hub.stop();
    }
  }, 120_000); // two embedded-store starts: slow on a loaded machine
});
