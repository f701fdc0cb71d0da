/**
 * Embedded-store disk soak: how fast the PGlite data directory grows under steady ingest, with
 * and without the hub's housekeeping (VACUUM of hot-updated tables + CHECKPOINT, store/
 * maintenance.ts), against the size of the events themselves.
 *
 *   npx tsx bench/store-soak.ts [seconds=60] [msgPerSec=150] [housekeepEverySec=15]
 *
 * Each run writes events + one reading through the real EventWriter, upserts an ~80 KB
 * rule-state snapshot every 10 s and device state every second (as the hub does), and measures
 * the data directory (pg_wal included) before and after. Time is compressed: housekeeping runs
 * every `housekeepEverySec` instead of every 10 minutes. Growth is extrapolated per hour.
 * Exits 1 when, with housekeeping, the directory grows more than 1.5× the tables themselves.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { IngestedEvent } from '../hub/src/events.ts';
import type { Db } from '../hub/src/store/db.ts';
import { EventWriter } from '../hub/src/store/event-writer.ts';
import { embeddedHousekeeping } from '../hub/src/store/maintenance.ts';
import { openDb } from '../hub/src/store/open-db.ts';
import { dirBytes } from '../hub/src/store/store-disk.ts';

const seconds = Number(process.argv[2] ?? 60);
const rate = Number(process.argv[3] ?? 150);
const housekeepEverySec = Number(process.argv[4] ?? 15);
const log = pino({ level: 'silent' });
const MB = 1024 * 1024;

async function soak(housekeeping: boolean): Promise<{ growth: number; wal: number; eventBytes: number; tableBytes: number; events: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'shaobing-soak-'));
  const db: Db = await openDb({ dataDir: dir, log });
  const pgDir = join(dir, 'pglite');
  try {
    const w = new EventWriter({ db, log, maxDelayMs: 20 });
    await embeddedHousekeeping(db); // same starting point for both runs
    const before = await dirBytes(pgDir);
    const tablesBefore = await tableBytes(db);
    const state = JSON.stringify({ windows: Array.from({ length: 800 }, (_, i) => ({ key: `site/dev-${i}/fill`, values: Array.from({ length: 10 }, () => Math.random()) })) });
    let n = 0;
    let payloadBytes = 0;
    const started = Date.now();
    let nextState = started;
    let nextHousekeep = started + housekeepEverySec * 1000;
    let nextDevice = started;
    const pending: Promise<void>[] = [];
    while (Date.now() - started < seconds * 1000) {
      const tickStart = Date.now();
      for (let i = 0; i < rate / 10; i++) {
        const ts = Date.now();
        const data = { fillPct: Math.round(Math.random() * 100), battery: 87 };
        const e: IngestedEvent = { siteId: 'soak', deviceId: `bin-${n % 500}`, family: 'bin', channel: 'telemetry', type: 'bin.telemetry', msgId: `m-${n}`, ts, receivedAt: ts, data };
        payloadBytes += JSON.stringify(data).length + 80; // + envelope fields (ids, topic parts, timestamps)
        pending.push(w.write(e, [{ siteId: 'soak', deviceId: e.deviceId, metric: 'fill_pct', port: 0, value: data.fillPct, msgId: e.msgId, ts }]));
        n++;
      }
      if (Date.now() >= nextState) {
        await db.query(`INSERT INTO rule_state (id, state, watermark) VALUES ('soak', $1, now()) ON CONFLICT (id) DO UPDATE SET state = excluded.state, watermark = excluded.watermark, saved_at = now()`, [state]);
        nextState += 10_000;
      }
      if (Date.now() >= nextDevice) {
        await db.query(`INSERT INTO device_state (site_id, device_id, family, last_seen, online) SELECT 'soak', 'bin-' || g, 'bin', now(), true FROM generate_series(0, 49) g
          ON CONFLICT (site_id, device_id) DO UPDATE SET last_seen = excluded.last_seen`);
        nextDevice += 1000;
      }
      if (housekeeping && Date.now() >= nextHousekeep) {
        await embeddedHousekeeping(db);
        nextHousekeep += housekeepEverySec * 1000;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tickStart))));
    }
    await Promise.all(pending);
    await w.close();
    if (housekeeping) await embeddedHousekeeping(db);
    const elapsed = (Date.now() - started) / 1000;
    const after = await dirBytes(pgDir);
    const wal = await dirBytes(join(pgDir, 'pg_wal'));
    const tables = (await tableBytes(db)) - tablesBefore;
    const perHour = 3600 / elapsed;
    return { growth: (after - before) * perHour, wal, eventBytes: payloadBytes * perHour, tableBytes: tables * perHour, events: n };
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** events + readings with their indexes: what the stored history itself takes. */
async function tableBytes(db: Db): Promise<number> {
  const [r] = await db.query<{ b: number }>(`SELECT (hypertable_size('events') + hypertable_size('readings'))::bigint AS b`);
  return r!.b;
}

console.log(`store soak: ${seconds} s per run at ${rate} msg/s (embedded PGlite, data dir incl. pg_wal)`);
for (const housekeeping of [false, true]) {
  const r = await soak(housekeeping);
  if (housekeeping && r.growth > 1.5 * r.tableBytes) process.exitCode = 1;
  console.log(`${housekeeping ? 'with housekeeping   ' : 'without housekeeping'}: data dir +${(r.growth / MB).toFixed(0)} MB/h, pg_wal at end ${(r.wal / MB).toFixed(0)} MB, events+readings tables (with indexes) +${(r.tableBytes / MB).toFixed(0)} MB/h → dir/tables ${(r.growth / r.tableBytes).toFixed(2)}x; payload JSON ${(r.eventBytes / MB).toFixed(0)} MB/h (${r.events} events)`);
}
