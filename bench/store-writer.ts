/**
 * EventWriter alone: `clients` concurrent QoS 1 "devices", each waiting for its commit (its
 * PUBACK) before the next message; every message carries two readings. Prints events/s and
 * the CPU this process spent per event (less sensitive to a loaded machine than wall time).
 *   npx tsx bench/store-writer.ts [events=50000] [clients=2000] [--store=pglite|pg|both]
 * pg: DATABASE_URL, else a private durable (fsync on) PostgreSQL + TimescaleDB cluster.
 */
import pino from 'pino';
import type { IngestedEvent, Reading } from '../hub/src/events.ts';
import { EventWriter } from '../hub/src/store/event-writer.ts';
import { openDb } from '../hub/src/store/open-db.ts';
import { startBenchCluster, type BenchCluster } from './support/pg-cluster.ts';

const nums = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number);
const EVENTS = nums[0] ?? 50_000;
const CLIENTS = nums[1] ?? 2_000;
const storeArg = process.argv.find((a) => a.startsWith('--store='))?.slice(8) ?? 'both';
const log = pino({ level: 'silent' });

let cluster: BenchCluster | null = null;
const targets: { name: string; databaseUrl: string | undefined }[] = [];
if (storeArg !== 'pg') targets.push({ name: 'PGlite (memory)', databaseUrl: undefined });
if (storeArg !== 'pglite') {
  if (process.env.DATABASE_URL) targets.push({ name: 'PostgreSQL (DATABASE_URL)', databaseUrl: process.env.DATABASE_URL });
  else {
    cluster = await startBenchCluster({ durable: true });
    targets.push({ name: 'PostgreSQL + TimescaleDB (private cluster, fsync on)', databaseUrl: await cluster.freshDatabase('writer_bench') });
  }
}

try {
  for (const target of targets) {
    const db = await openDb({ databaseUrl: target.databaseUrl, dataDir: 'memory://', log });
    let batches = 0;
    const w = new EventWriter({ db, log, onCommit: () => void batches++ });
    const run = `${Date.now()}`;
    let next = 0;
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    const client = async (c: number) => {
      for (let i = next++; i < EVENTS; i = next++) {
        const ts = t0 + i;
        const e: IngestedEvent = { siteId: 'bench', deviceId: `bin-${c}`, family: 'bin', channel: 'telemetry', type: 'bin.telemetry', msgId: `${run}-${i}`, ts, receivedAt: ts, data: { fillPct: i % 100, temperatureC: 21.5 } };
        const r: Reading[] = [
          { siteId: 'bench', deviceId: e.deviceId, metric: 'fill_pct', port: 0, value: i % 100, msgId: e.msgId, ts },
          { siteId: 'bench', deviceId: e.deviceId, metric: 'temperature_c', port: 0, value: 21.5, msgId: e.msgId, ts },
        ];
        await w.write(e, r);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    const s = (Date.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await w.close();
    const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE msg_id LIKE $1`, [`${run}-%`]);
    await db.close();
    console.log(`${target.name}: ${EVENTS} events (+${EVENTS * 2} readings) from ${CLIENTS} clients in ${s.toFixed(1)} s = ${(EVENTS / s).toFixed(0)} events/s; ${batches} batches (mean ${(EVENTS / batches).toFixed(0)}); this process ${((cpu.user + cpu.system) / EVENTS).toFixed(1)} µs CPU/event; stored ${row!.n}`);
  }
} finally {
  await cluster?.stop();
}
