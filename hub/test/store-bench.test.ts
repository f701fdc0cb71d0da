import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { IngestedEvent, Reading } from '../src/events.ts';
import { EventWriter } from '../src/store/event-writer.ts';
import { backendAvailable, openTestStore, STORE_BACKENDS } from './support/pg.ts';

// Throughput of the ingest write path; opt-in, not part of the normal run:
//   STORE_BENCH=1 npx vitest run hub/test/store-bench.test.ts
// Models QoS 1 devices: each of `clients` waits for its PUBACK (the write's commit) before
// sending the next message; every message carries two readings.

const EVENTS = Number(process.env.STORE_BENCH_EVENTS ?? 50_000);
const CLIENTS = Number(process.env.STORE_BENCH_CLIENTS ?? 2_000);

describe.runIf(process.env.STORE_BENCH).each(STORE_BACKENDS)('EventWriter throughput on %s', (backend) => {
  it.skipIf(!backendAvailable(backend))(`${EVENTS} events from ${CLIENTS} clients`, { timeout: 600_000 }, async () => {
    const store = await openTestStore(backend);
    const w = new EventWriter({ db: store.db, log: pino({ level: 'silent' }) });
    let next = 0;
    const t0 = Date.now();
    const client = async (c: number) => {
      for (let i = next++; i < EVENTS; i = next++) {
        const ts = t0 + i;
        const e: IngestedEvent = { siteId: 'bench', deviceId: `bin-${c}`, family: 'bin', channel: 'telemetry', type: 'bin.telemetry', msgId: `m${i}`, ts, receivedAt: ts, data: { fill: i % 100, temp: 21.5 } };
        const r: Reading[] = [
          { siteId: 'bench', deviceId: e.deviceId, metric: 'fill', port: 0, value: i % 100, msgId: e.msgId, ts },
          { siteId: 'bench', deviceId: e.deviceId, metric: 'temp', port: 0, value: 21.5, msgId: e.msgId, ts },
        ];
        await w.write(e, r);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    const s = (Date.now() - t0) / 1000;
    const c = w.counters;
    console.log(`[bench] ${backend}: ${EVENTS} events + ${c.readings} readings in ${s.toFixed(1)} s → ${Math.round(EVENTS / s)} events/s, ${Math.round((EVENTS + c.readings) / s)} rows/s, ${c.batches} batches (avg ${Math.round(EVENTS / c.batches)} events)`);
    expect(c.inserted).toBe(EVENTS);
    await w.close();
    await store.close();
  });
});
