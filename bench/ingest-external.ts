/**
 * Scale-out path: a device publishes QoS 1 to an external broker (Debian's Mosquitto on
 * 127.0.0.1), the hub ingests as its persistent-session client into the embedded store.
 * Prints stored msg/s with one family and with four (one hub connection per family).
 *   npx tsx bench/ingest-external.ts [messages=2000]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startTestHub } from '../hub/test/support/test-hub.ts';

const N = Number(process.argv[2] ?? 2000);
const mosquitto = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
if (!mosquitto) {
  console.log('ingest-external: mosquitto not installed (apt-get install mosquitto); skipped');
  process.exit(0);
}
const srv = createServer();
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
const port = (srv.address() as AddressInfo).port;
await new Promise((r) => srv.close(r));
const dir = mkdtempSync(join(tmpdir(), 'shaobing-extbench-'));
writeFileSync(join(dir, 'm.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n`);
const broker = spawn(mosquitto, ['-c', join(dir, 'm.conf')], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 500));
const url = `mqtt://127.0.0.1:${port}`;

const KINDS = [
  ['shaobing/v1/t1/bin/bin-1/telemetry', 'bin.telemetry', { fillPct: 5 }],
  ['shaobing/v1/t1/charger/chg-1/telemetry', 'charger.telemetry', { port: 1, powerW: 100, temperatureC: 30, plugged: true }],
  ['shaobing/v1/t1/door/door-1/telemetry', 'door.heartbeat', {}],
  ['shaobing/v1/t1/camera/cam-1/telemetry', 'camera.heartbeat', {}],
] as const;

try {
  for (const families of [1, 4]) {
    const hub = await startTestHub({ mqttUrl: url });
    const dev = await mqtt.connectAsync(url);
    const t0 = Date.now();
    await Promise.all(Array.from({ length: N }, (_, i) => {
      const [topic, type, data] = KINDS[i % families]!;
      return dev.publishAsync(topic, JSON.stringify({ id: `f${families}-${i}`, ts: Date.now(), type, data }), { qos: 1 });
    }));
    for (;;) {
      const [r] = await hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
      if (r!.n >= N) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const s = (Date.now() - t0) / 1000;
    console.log(`ingest-external (Mosquitto → hub → PGlite), ${families} famil${families > 1 ? 'ies' : 'y'}: ${N} msgs in ${s.toFixed(1)} s = ${(N / s).toFixed(0)} msg/s`);
    await dev.endAsync();
    await hub.stop();
  }
} finally {
  broker.kill();
}
