import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { freePort } from './support/hub-process.ts';
import { envelope, eventually, startTestHub } from './support/test-hub.ts';

/*
 * External-broker mode: Mosquitto authenticates the devices, the hub ingests from it. The
 * strict checks must hold there too, since they live in ingest and not in the embedded
 * broker's hooks: fatal UTF-8, real calendar timestamps, and gateway binding — which has no
 * broker login to go by, so it goes by the batch topic's gateway (Mosquitto's ACL binds a
 * gateway to its own topic). Messages are sent with Eclipse mosquitto_pub, a third-party client.
 */

const run = promisify(execFile);
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
const MOSQUITTO_PUB = ['/usr/bin/mosquitto_pub', '/usr/sbin/mosquitto_pub'].find((p) => existsSync(p));

describe.runIf((MOSQUITTO && MOSQUITTO_PUB) || process.env.CI)('external broker: the strict checks of ingest', () => {
  let broker: ChildProcess;
  let port: number;
  let hub: HubHandle;
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-ext-strict-'));

  beforeAll(async () => {
    if (!MOSQUITTO || !MOSQUITTO_PUB) throw new Error('mosquitto and mosquitto-clients must be installed (.ci/run installs them)');
    port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    broker = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
    await eventually(async () => {
      try { await (await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 })).endAsync(); return true; } catch { return false; }
    }, 5000, 100);
    hub = await startTestHub({ mqttUrl: `mqtt://127.0.0.1:${port}` });
  }, 120_000);
  afterAll(async () => {
    await hub?.stop();
    broker?.kill('SIGTERM');
  });

  /** mosquitto_pub -q 1 of the bytes in a file (raw, so invalid UTF-8 goes through unchanged). */
  async function pub(topic: string, payload: Buffer | string, name: string): Promise<void> {
    const file = join(dir, `${name}.bin`);
    writeFileSync(file, payload);
    await run(MOSQUITTO_PUB!, ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', topic, '-f', file, '-i', `pub-${name}`]);
  }

  it('refuses invalid UTF-8, impossible dates and foreign gateway items; stores the rest', async () => {
    const bin = 'shaobing/v1/t1/bin/bin-1/telemetry';
    const good = envelope('bin.telemetry', { fillPct: 30 });
    const badUtf8 = Buffer.from(JSON.stringify({ ...envelope('bin.telemetry', { fillPct: 5 }), id: 'XX' }));
    badUtf8[badUtf8.indexOf('XX')] = 0xff;
    const nov31 = { ...envelope('bin.telemetry', { fillPct: 5 }), ts: '2026-11-31T08:00:00Z' };
    const h24 = { ...envelope('bin.telemetry', { fillPct: 5 }), ts: '2026-11-30T24:00:00Z' };
    const offset = { ...envelope('bin.telemetry', { fillPct: 5 }), ts: '2026-11-30T08:00:00+2359' };
    // gw-1 is bound to bin-2 only (test site): its batch item for bin-1 is refused, bin-2's stored.
    const item = (deviceId: string) => ({ deviceId, ...envelope('bin.telemetry', { fillPct: 44 }) });
    const own = item('bin-2');
    const foreign = item('bin-1');
    const ghost = item('bin-2');
    await pub(bin, JSON.stringify(good), 'good');
    await pub(bin, badUtf8, 'utf8');
    await pub(bin, JSON.stringify(nov31), 'nov31');
    await pub(bin, JSON.stringify(h24), 'h24');
    await pub(bin, JSON.stringify(offset), 'offset');
    await pub('shaobing/v1/t1/gateway/gw-1/batch', JSON.stringify([own, foreign]), 'batch');
    await pub('shaobing/v1/t1/gateway/gw-nobody/batch', JSON.stringify([ghost]), 'ghost');

    const ids = [good.id, nov31.id, h24.id, offset.id, own.id, foreign.id, ghost.id];
    await eventually(async () => (await hub.db.query('SELECT 1 FROM events WHERE msg_id = ANY($1::text[])', [[good.id, own.id]])).length === 2, 20_000);
    const rows = await eventually(async () => {
      const r = await hub.db.query<{ reason: string; detail: string; device_id: string | null }>('SELECT reason, detail, device_id FROM dead_letters ORDER BY id');
      return r.length >= 6 ? r : null;
    }, 20_000);
    const stored = (await hub.db.query<{ msg_id: string }>('SELECT msg_id FROM events WHERE msg_id = ANY($1::text[])', [ids])).map((r) => r.msg_id);
    expect(stored.sort()).toEqual([good.id, own.id].sort());
    expect(rows.map((r) => [r.reason, r.device_id])).toEqual([
      ['schema', 'bin-1'], ['schema', 'bin-1'], ['schema', 'bin-1'], ['schema', 'bin-1'], ['forbidden_topic', 'bin-1'], ['forbidden_topic', null],
    ]);
    expect(rows[0]!.detail).toBe('payload is not valid UTF-8');
    expect(rows.slice(1, 4).every((r) => /\/ts/.test(r.detail))).toBe(true);
    expect(rows[4]!.detail).toMatch(/gateway "gw-1" is not bound to device "bin-1"/);
    expect(rows[5]!.detail).toMatch(/no gateway "gw-nobody"/);
  }, 60_000);
});
