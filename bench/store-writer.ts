/**
 * EventWriter throughput: `clients` concurrent QoS 1 "devices", each waiting for its commit
 * (its PUBACK) before the next message; every message carries two readings.
 *   npx tsx bench/store-writer.ts [events=50000] [clients=2000]
 * Embedded PGlite in memory always; a PostgreSQL server too when DATABASE_URL is set.
 */
import pino from 'pino';
import type { IngestedEvent, Reading } from '../hub/src/events.ts';
import { EventWriter } from '../hub/src/store/event-writer.ts';
import { openDb } from '../hub/src/store/open-db.ts';

const EVENTS = Number(process.argv[2] ?? 50_000);
const CLIENTS = Number(process.argv[3] ?? 2_000);
const log = pino({ level: 'silent' });
const targets = [{ name: 'PGlite (memory)', databaseUrl: undefined as string | undefined }];
if (process.env.DATABASE_URL) targets.push({ name: 'PostgreSQL (DATABASE_URL)', databaseUrl: process.env.DATABASE_URL });

for (const target of targets) {
  const db = await openDb({ databaseUrl: target.databaseUrl, dataDir: 'memory://', log });
  const w = new EventWriter({ db, log });
  const run = `${Date.now()}`;
  let next = 0;
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
  await w.close();
  await db.close();
  console.log(`${target.name}: ${EVENTS} events (+${EVENTS * 2} readings) from ${CLIENTS} clients in ${s.toFixed(1)} s = ${(EVENTS / s).toFixed(0)} events/s, ${((EVENTS * 3) / s).toFixed(0)} rows/s`);
}
