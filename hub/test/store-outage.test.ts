import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestedEvent } from '../src/events.ts';
import { DeadLetterWriter } from '../src/store/dead-letter-writer.ts';
import { EventWriter } from '../src/store/event-writer.ts';
import { backendAvailable, makeDatabaseUnreachable, openTestStore, restoreDatabase, type TestStore } from './support/pg.ts';

// An outage can only be staged against a server (PGlite lives in this process), so these run
// on the PostgreSQL test server; in CI global-setup guarantees one.

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

function capturingLogger(): { log: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);
const event = (siteId: string, i: number): IngestedEvent => ({
  siteId, deviceId: `door-${i % 7}`, family: 'door', channel: 'event', type: 'door.opened', msgId: `m${i}`, ts: T0 + i, receivedAt: T0 + i, data: { i },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!backendAvailable('postgresql'))('database outage (postgresql)', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore('postgresql');
  });
  afterAll(async () => {
    if (store?.url) await restoreDatabase(store.url).catch(() => undefined);
    await store?.close();
  });

  it('holds writes while the database is unreachable, then drains all of them in order', async () => {
    const { log, lines } = capturingLogger();
    const committedOrder: string[] = [];
    const w = new EventWriter({ db: store.db, log, retryMinMs: 50, retryMaxMs: 200, onCommit: (ins) => committedOrder.push(...ins.map((e) => e.msgId)) });
    await Promise.all(Array.from({ length: 100 }, (_, i) => w.write(event('s-out', i), [])));

    await makeDatabaseUnreachable(store.url!);
    let resolved = 0;
    const held: Promise<void>[] = [];
    for (let i = 100; i < 600; i++) held.push(w.write(event('s-out', i), []).then(() => void resolved++));
    await sleep(1_000);
    expect(resolved).toBe(0); // nothing acknowledged that isn't stored
    expect(w.healthy).toBe(false);
    expect(w.lastError).toMatch(/connect|terminat|not currently accepting/i);
    // Still accepting during the outage; these queue behind the held batch.
    for (let i = 600; i < 800; i++) held.push(w.write(event('s-out', i), []).then(() => void resolved++));
    await sleep(500);
    expect(resolved).toBe(0);
    expect(w.pending).toBe(700);

    await restoreDatabase(store.url!);
    await Promise.all(held);
    expect(resolved).toBe(700);
    expect(w.healthy).toBe(true);
    expect(w.lastError).toBeNull();
    expect(w.pending).toBe(0);

    const [row] = await store.db.query<{ n: number }>(`SELECT count(*) AS n FROM events WHERE site_id = 's-out'`);
    expect(row!.n).toBe(800);
    expect(committedOrder).toEqual(Array.from({ length: 800 }, (_, i) => `m${i}`));

    // One warning for the whole outage, however many retries; then resumed and drained.
    const warns = lines.filter((l) => l.level === 40 && /database write failed/.test(l.msg));
    expect(warns).toHaveLength(1);
    const drained = lines.find((l) => /backlog drained/.test(l.msg));
    expect(drained).toMatchObject({ drained: 700 });
    expect(drained!.outageMs as number).toBeGreaterThanOrEqual(1_000);
    await w.close();
  });

  it('keeps the newest dead letters when the queue overflows during an outage', async () => {
    const { log } = capturingLogger();
    const dl = new DeadLetterWriter({ db: store.db, log, maxQueue: 5, flushDelayMs: 10, retryMinMs: 50, retryMaxMs: 100 });
    await makeDatabaseUnreachable(store.url!);
    for (let i = 0; i < 12; i++) dl.add({ reason: 'bad_json', detail: `n${i}`, topic: 't', raw: '{' });
    await sleep(300);
    expect(dl.pending).toBe(5);
    expect(dl.dropped).toBe(7);
    expect(dl.healthy).toBe(false);
    await restoreDatabase(store.url!);
    await dl.flush();
    const rows = await store.db.query<{ detail: string }>(`SELECT detail FROM dead_letters WHERE topic = 't' ORDER BY id`);
    expect(rows.map((r) => r.detail)).toEqual(['n7', 'n8', 'n9', 'n10', 'n11']);
    expect(dl.healthy).toBe(true);
    await dl.close();
  });
});
