import type { RejectReason } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { Db } from './db.ts';
import { Backoff, CancellableSleep, OutageTracker, isDataError } from './retry.ts';
import { stripNul, valuesList } from './sql-values.ts';

export interface DeadLetterInput {
  reason: RejectReason;
  detail: string;
  topic: string;
  clientId?: string | null;
  siteId?: string | null;
  deviceId?: string | null;
  /** The payload as text; cut to maxRawChars here. */
  raw: string;
  /** Epoch ms; defaults to the moment add() was called. */
  receivedAt?: number;
}

export interface DeadLetterWriterOptions {
  db: Db;
  log: Logger;
  /** Held rows before the oldest are dropped (default 10 000). */
  maxQueue?: number;
  maxBatch?: number;
  flushDelayMs?: number;
  maxRawChars?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}

const TYPES = ['timestamptz', 'text', 'text', 'text', 'text', 'text', 'text', 'text'];

interface Row {
  receivedAt: number;
  reason: string;
  detail: string;
  topic: string;
  clientId: string | null;
  siteId: string | null;
  deviceId: string | null;
  raw: string;
}

/**
 * Fire-and-forget writer for rejected messages. Dead letters are diagnostics, not device data:
 * add() never blocks ingest, and when the database stays down long enough for maxQueue rows
 * to pile up, the oldest are dropped and counted (`dropped`) rather than holding memory.
 */
export class DeadLetterWriter {
  readonly #db: Db;
  readonly #maxQueue: number;
  readonly #maxBatch: number;
  readonly #flushDelayMs: number;
  readonly #maxRawChars: number;
  readonly #backoff: Backoff;
  readonly #sleep = new CancellableSleep();
  readonly #outage: OutageTracker;
  readonly #log: Logger;
  #queue: Row[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  #abandoned = false;
  #dropped = 0;
  #written = 0;

  constructor(opts: DeadLetterWriterOptions) {
    this.#db = opts.db;
    this.#log = opts.log;
    this.#maxQueue = opts.maxQueue ?? 10_000;
    // One statement per batch (so a failed batch is never half in): stay under the parameter limit.
    this.#maxBatch = Math.min(opts.maxBatch ?? 500, Math.floor(30_000 / TYPES.length));
    this.#flushDelayMs = opts.flushDelayMs ?? 200;
    this.#maxRawChars = opts.maxRawChars ?? 8_192;
    this.#backoff = new Backoff(opts.retryMinMs ?? 200, opts.retryMaxMs ?? 10_000);
    this.#outage = new OutageTracker(opts.log, 'dead letters');
  }

  get pending(): number {
    return this.#queue.length;
  }
  get dropped(): number {
    return this.#dropped;
  }
  get written(): number {
    return this.#written;
  }
  get healthy(): boolean {
    return this.#outage.healthy;
  }

  add(dl: DeadLetterInput): void {
    if (this.#closed) return;
    this.#queue.push({
      receivedAt: dl.receivedAt ?? Date.now(),
      reason: dl.reason,
      detail: stripNul(dl.detail),
      topic: stripNul(dl.topic),
      clientId: dl.clientId == null ? null : stripNul(dl.clientId),
      siteId: dl.siteId == null ? null : stripNul(dl.siteId),
      deviceId: dl.deviceId == null ? null : stripNul(dl.deviceId),
      raw: stripNul(dl.raw.length > this.#maxRawChars ? dl.raw.slice(0, this.#maxRawChars) : dl.raw),
    });
    this.#trim();
    if (!this.#running) this.#timer ??= setTimeout(() => void this.#start(), this.#flushDelayMs);
  }

  /** Writes what is held; resolves when the queue is empty (retries through an outage). */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#running) await this.#start();
  }

  /** Flushes for at most timeoutMs, then drops what is left (counted and logged). */
  async close(opts: { timeoutMs?: number } = {}): Promise<void> {
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, opts.timeoutMs ?? 5_000)));
    await Promise.race([this.flush(), timeout]);
    clearTimeout(timer);
    if (this.#timer) clearTimeout(this.#timer);
    this.#abandoned = true;
    if (this.#queue.length > 0) {
      this.#dropped += this.#queue.length;
      this.#log.warn({ lost: this.#queue.length, dropped: this.#dropped }, 'dead letters not written at shutdown');
      this.#queue = [];
    }
    this.#sleep.cancel();
  }

  #trim(): void {
    const over = this.#queue.length - this.#maxQueue;
    if (over <= 0) return;
    this.#queue.splice(0, over);
    if (this.#dropped === 0 || this.#dropped % 1_000 < over) {
      this.#log.warn({ dropped: this.#dropped + over }, 'dead-letter queue full: dropping oldest');
    }
    this.#dropped += over;
  }

  #start(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running ??= this.#run().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      try {
        await this.#insert(batch);
        this.#written += batch.length;
        this.#backoff.reset();
        this.#outage.succeeded({ pending: this.#queue.length, dropped: this.#dropped });
      } catch (err) {
        if (isDataError(err)) {
          // Text is sanitised above, so this is unexpected; don't retry a batch that can't go in.
          this.#dropped += batch.length;
          this.#log.error({ err, rows: batch.length }, 'dead letters refused by the database');
          continue;
        }
        if (this.#abandoned) {
          this.#dropped += batch.length;
          return;
        }
        this.#queue.unshift(...batch);
        this.#trim();
        this.#outage.failed(err, { pending: this.#queue.length });
        await this.#sleep.wait(this.#backoff.next());
      }
    }
  }

  async #insert(rows: Row[]): Promise<void> {
    const params: unknown[] = [];
    for (const r of rows) {
      params.push(new Date(r.receivedAt).toISOString(), r.reason, r.detail, r.topic, r.clientId, r.siteId, r.deviceId, r.raw);
    }
    await this.#db.query(
      `INSERT INTO dead_letters (received_at, reason, detail, topic, client_id, site_id, device_id, raw)
       VALUES ${valuesList(rows.length, TYPES)}`,
      params,
    );
  }
}
