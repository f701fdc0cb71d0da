/**
 * MQTT → stored, end to end: a real hub (embedded PGlite, or DATABASE_URL) on 127.0.0.1, a
 * generated community, one mqtt.js client per device publishing QoS 1 telemetry with a window
 * of in-flight messages. Prints stored msg/s, PUBACK latency percentiles and hub memory.
 *   npx tsx bench/ingest-e2e.ts [seconds=10] [devices=200] [window=8]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { deviceTopic } from '@shaobing/schemas';
import { loadConfig } from '../hub/src/config.ts';
import { startHub } from '../hub/src/hub.ts';
import { buildCommunity } from '../simulators/src/community.ts';

const seconds = Number(process.argv[2] ?? 10);
const deviceCount = Number(process.argv[3] ?? 200);
const windowSize = Number(process.argv[4] ?? 8);

const { siteFile, credentials } = await buildCommunity({ seed: 'bench', size: 'street', siteId: 'bench' });
const site = siteFile.sites[0]!;
const devices = site.devices.filter((d) => d.secretHash && (d.family === 'bin' || d.family === 'charger')).slice(0, deviceCount);
const dir = mkdtempSync(join(tmpdir(), 'shaobing-bench-'));
writeFileSync(join(dir, 'site.json'), JSON.stringify(siteFile));
const config = loadConfig(process.env, {
  httpPort: 0, mqttPort: 0, dataDir: process.env.DATABASE_URL ? dir : 'memory://', siteFile: join(dir, 'site.json'),
  logLevel: 'warn', mqttRateLimitPerSec: 1_000_000,
});
const hub = await startHub(config, { log: pino({ level: 'warn' }), dashboardDir: null });

const clients: { c: MqttClient; topic: string; family: string; id: string }[] = [];
for (const d of devices) {
  const username = `${site.id}/${d.id}`;
  const c = await mqtt.connectAsync(hub.mqttUrl!, { username, password: credentials.get(username)!, clientId: username, reconnectPeriod: 0 });
  clients.push({ c, topic: deviceTopic(site.id, d.family, d.id, 'telemetry'), family: d.family, id: d.id });
}

const latencies: number[] = [];
let acked = 0;
let seq = 0;
const until = Date.now() + seconds * 1000;
const rssBefore = process.memoryUsage().rss;
let rssPeak = rssBefore;
const mem = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage().rss); }, 200);
const t0 = Date.now();
await Promise.all(clients.map(async ({ c, topic, family, id }) => {
  const lane = async () => {
    while (Date.now() < until) {
      const data = family === 'bin' ? { fillPct: (seq % 70) + 5, temperatureC: 22 } : { port: 1 + (seq % 8), powerW: 200 + (seq % 50), temperatureC: 35, plugged: true };
      const msg = { id: `${id}-${++seq}`, ts: Date.now(), type: `${family}.telemetry`, data };
      const sent = performance.now();
      await c.publishAsync(topic, JSON.stringify(msg), { qos: 1 });
      latencies.push(performance.now() - sent);
      acked++;
    }
  };
  await Promise.all(Array.from({ length: windowSize }, lane));
}));
const elapsed = (Date.now() - t0) / 1000;
clearInterval(mem);
await Promise.all(clients.map(({ c }) => c.endAsync()));
const [row] = await hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
await hub.stop();

latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);
console.log(`ingest e2e (${hub.db.kind}): ${clients.length} devices × window ${windowSize}, ${elapsed.toFixed(1)} s`);
console.log(`  acknowledged ${acked} QoS 1 messages = ${(acked / elapsed).toFixed(0)} msg/s; stored rows ${row!.n} (each with 2 readings)`);
console.log(`  PUBACK latency ms: p50 ${pct(50)}  p95 ${pct(95)}  p99 ${pct(99)}  max ${latencies.at(-1)!.toFixed(1)}`);
console.log(`  process RSS: ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(rssPeak / 2 ** 20).toFixed(0)} MiB peak (hub and clients share this process)`);
