import type { DeviceState, Family } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { Db } from './db.ts';
import { OutageTracker, errorText, isDataError } from './retry.ts';
import { chunkRows, valuesList } from './sql-values.ts';

export interface DeviceStateWriterOptions {
  db: Db;
  log: Logger;
  /**
   * Hands over the latest state of every device that changed since the previous call (the
   * in-memory presence tracker keeps state and coalesces; this writer only persists).
   */
  source: () => DeviceState[];
  /** How often changed devices are written (default 1000 ms). */
  flushIntervalMs?: number;
}

const TYPES = ['text', 'text', 'text', 'timestamptz', 'bool', 'jsonb', 'timestamptz'];

// GREATEST/latest-wins so that a second hub, or a retried older snapshot, can't move time back.
const UPSERT_TAIL = `ON CONFLICT (site_id, device_id) DO UPDATE SET
  family = EXCLUDED.family,
  last_seen = GREATEST(device_state.last_seen, EXCLUDED.last_seen),
  online = EXCLUDED.online,
  status = CASE WHEN EXCLUDED.status_at IS NOT NULL
                 AND (device_state.status_at IS NULL OR EXCLUDED.status_at >= device_state.status_at)
            THEN EXCLUDED.status ELSE device_state.status END,
  status_at = GREATEST(device_state.status_at, EXCLUDED.status_at)`;

/**
 * Persists device presence without one upsert per message: every flushIntervalMs it takes the
 * changed devices from `source` and upserts their latest state in one transaction (10k devices
 * at 1 msg/s → one 10k-row upsert per second, not 10k statements). State is derived data: a
 * failed flush is kept and merged under newer snapshots for the next tick, and at most one
 * interval is lost on a crash.
 */
export class DeviceStateWriter {
  readonly #db: Db;
  readonly #log: Logger;
  readonly #source: () => DeviceState[];
  readonly #outage: OutageTracker;
  readonly #interval: NodeJS.Timeout;
  /** Snapshots taken from source but not yet written (a failed flush); newer ones replace them. */
  #held = new Map<string, DeviceState>();
  #running: Promise<void> | undefined;

  constructor(opts: DeviceStateWriterOptions) {
    this.#db = opts.db;
    this.#log = opts.log;
    this.#source = opts.source;
    this.#outage = new OutageTracker(opts.log, 'device state');
    this.#interval = setInterval(() => void this.flush().catch(() => undefined), opts.flushIntervalMs ?? 1_000);
    this.#interval.unref(); // presence is not worth keeping the process alive for; close() flushes
  }

  get healthy(): boolean {
    return this.#outage.healthy;
  }

  /** Every stored device state, to seed presence at start-up. */
  async load(): Promise<DeviceState[]> {
    const rows = await this.#db.query<{
      site_id: string; device_id: string; family: Family; last_seen: Date | null; online: boolean;
      status: Record<string, unknown> | null; status_at: Date | null;
    }>('SELECT site_id, device_id, family, last_seen, online, status, status_at FROM device_state');
    return rows.map((r) => ({
      siteId: r.site_id,
      deviceId: r.device_id,
      family: r.family,
      lastSeen: r.last_seen?.getTime() ?? null,
      online: r.online,
      status: r.status,
      statusAt: r.status_at?.getTime() ?? null,
    }));
  }

  /** Writes the changes pending now; rejects if the database refused them (they stay held). */
  async flush(): Promise<void> {
    // A loop, not an if: two callers woken by the same finished flush must not write in parallel.
    while (this.#running) await this.#running.catch(() => undefined);
    for (const row of this.#source()) this.#held.set(`${row.siteId}\u0000${row.deviceId}`, row);
    if (this.#held.size === 0) return;
    this.#running = this.#write().finally(() => (this.#running = undefined));
    await this.#running;
  }

  async close(): Promise<void> {
    clearInterval(this.#interval);
    try {
      await this.flush();
    } catch (err) {
      this.#log.warn({ err, devices: this.#held.size }, 'device state not written at shutdown');
    }
  }

  async #write(): Promise<void> {
    const batch = this.#held;
    this.#held = new Map();
    const rows = [...batch.values()];
    try {
      await this.#db.transaction(async (tx) => {
        for (const chunk of chunkRows(rows, TYPES.length)) {
          const params: unknown[] = [];
          for (const p of chunk) {
            params.push(p.siteId, p.deviceId, p.family, iso(p.lastSeen), p.online, p.status === null ? null : JSON.stringify(p.status), iso(p.statusAt));
          }
          await tx.query(
            `INSERT INTO device_state (site_id, device_id, family, last_seen, online, status, status_at)
             VALUES ${valuesList(chunk.length, TYPES)} ${UPSERT_TAIL}`,
            params,
          );
        }
      });
      this.#outage.succeeded({ devices: rows.length });
    } catch (err) {
      if (isDataError(err)) {
        // Retrying can't help and would block every other device's state: log and let go.
        this.#log.error({ err: errorText(err), devices: rows.length }, 'device state refused by the database; dropped');
        return;
      }
      // Snapshots taken while this write was in flight are newer: they win over the failed ones.
      for (const [key, row] of batch) if (!this.#held.has(key)) this.#held.set(key, row);
      this.#outage.failed(err, { devices: this.#held.size });
      throw err;
    }
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
