/**
 * Server side of the ingest benchmark, one process per run: either a bare aedes broker (the
 * ceiling: same aedes version as the hub, QoS 1 acknowledged, an in-process QoS 1 subscriber
 * taking every message) or the whole hub on a fresh store. Reports its own CPU and memory and
 * checks that every acknowledged message id arrived (stored, for the hub).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import net from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import pino from 'pino';
import { loadConfig } from '../../hub/src/config.ts';
import { startHub, type HubHandle } from '../../hub/src/hub.ts';
import type { FromServer, ToServer } from './protocol.ts';

const send = (m: FromServer): void => { process.send!(m); };
let rssPeak = 0;
// rss() alone: memoryUsage() walks the heap spaces too, which showed up in the server's profile.
const mem = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage.rss()); }, 250);
mem.unref();

// BENCH_CPU_PROF=<dir>: a V8 CPU profile of the measured window only (between two marks), so
// start-up and migrations don't drown the hot path.
const profDir = process.env.BENCH_CPU_PROF;
let profiler: Session | null = null;
let marks = 0;
async function profileMark(): Promise<void> {
  if (!profDir) return;
  if (marks++ % 2 === 0) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
    await profiler.post('Profiler.start');
  } else if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(join(profDir, `window-${process.pid}-${marks >> 1}.cpuprofile`), JSON.stringify(profile));
    profiler.disconnect();
    profiler = null;
  }
}

let hub: HubHandle | null = null;
let bare: { broker: Aedes; server: net.Server; seen: Map<string, number> } | null = null;

async function startBare(): Promise<string> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const seen = new Map<string, number>();
  // What the hub does first with a message, minus validation and storage: parse it.
  broker.subscribe('shaobing/#', (packet, cb) => {
    const id = (JSON.parse(packet.payload.toString()) as { id: string }).id;
    seen.set(id, (seen.get(id) ?? 0) + 1);
    cb();
  }, () => undefined);
  bare = { broker, server, seen };
  return `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

async function startHubTarget(m: Extract<ToServer, { cmd: 'start' }>): Promise<string> {
  const config = loadConfig({}, {
    httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', siteFile: m.siteFile,
    dataDir: m.dataDir ?? 'memory://', ...(m.databaseUrl ? { databaseUrl: m.databaseUrl } : {}),
    logLevel: 'warn', mqttRateLimitPerSec: 1_000_000,
  });
  hub = await startHub(config, { log: pino({ level: 'warn' }), dashboardDir: null });
  return hub.mqttUrl!;
}

async function verify(ackedIds: string[]): Promise<Extract<FromServer, { ev: 'verified' }>> {
  const cpu = process.cpuUsage();
  let stored: Map<string, number>;
  if (hub) {
    const rows = await hub.db.query<{ msg_id: string }>('SELECT msg_id FROM events');
    stored = new Map();
    for (const r of rows) stored.set(r.msg_id, (stored.get(r.msg_id) ?? 0) + 1);
  } else {
    stored = bare!.seen;
  }
  let missing = 0;
  let duplicates = 0;
  for (const id of ackedIds) if (!stored.has(id)) missing++;
  for (const n of stored.values()) if (n > 1) duplicates += n - 1;
  let rows = 0;
  for (const n of stored.values()) rows += n;
  return { ev: 'verified', rows, missing, duplicates, cpuUs: cpu.user + cpu.system, rssPeak };
}

process.on('message', (m: ToServer) => {
  void (async () => {
    switch (m.cmd) {
      case 'start':
        if (m.target === 'aedes') send({ ev: 'started', url: await startBare() });
        else send({ ev: 'started', url: await startHubTarget(m), httpUrl: hub!.httpUrl });
        break;
      case 'mark': {
        await profileMark();
        const c = process.cpuUsage();
        send({ ev: 'marked', cpuUs: c.user + c.system, rss: process.memoryUsage.rss(), at: performance.now() });
        break;
      }
      case 'verify':
        send(await verify(m.ackedIds));
        break;
      case 'stop':
        if (hub) await hub.stop();
        if (bare) {
          await new Promise<void>((r) => bare!.broker.close(() => r()));
          await new Promise<void>((r) => bare!.server.close(() => r()));
        }
        send({ ev: 'stopped' });
        process.exit(0);
    }
  })().catch((err: unknown) => {
    console.error('bench server:', err);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
