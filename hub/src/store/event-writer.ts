import type { Logger } from 'pino';
import type { IngestedEvent, Reading } from '../events.ts';
import type { Db } from './db.ts';
import { insertBatch, type WriteItem } from './event-insert.ts';
import { Backoff, CancellableSleep, errorText, isDataError } from './retry.ts';
import { UnstorableEventError, WriterClosedError } from './write-errors.ts';

export { UnstorableEventError, WriterClosedError };

export interface EventWriterOptions {
  db: Db;
  log: Logger;
  /** Events per transaction (default 500). */
  maxBatch?: number;
  /** How long the first event of a partial batch may wait for company (default 20 ms). */
  maxDelayMs?: number;
  /** Held events above which write() also waits for room (default 50 000). */
  maxPending?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /**
   * After each commit, with only the events that were new (redeliveries left out): what the
   * rule engine may see. `rows` counts the batch's events, duplicates included, so
   * `rows - inserted.length` is the number of duplicates; `ms` is the commit's duration.
   */
  onCommit?: (inserted: IngestedEvent[], stats: CommitStats) => void;
}

export interface CommitStats {
  /** Events in the committed batch, duplicates included. */
  rows: number;
  /** Readings in the batch, duplicates included. */
  readings: number;
  ms: number;
}

export interface EventWriterCounters {
  batches: number;
  events: number;
  inserted: number;
  readings: number;
  retries: number;
  rejected: number;
}

interface Item extends WriteItem {
  seq: number;
  waitRoom: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The batched, durable writer on the ingest path. write() resolves only after the transaction
 * holding the event and its readings committed; that promise is what a QoS 1 PUBACK waits for.
 *
 * Batches close at maxBatch events or maxDelayMs after the first one, and while a commit is in
 * flight the next batch gathers (group commit). On a database error the batch stays at the head
 * of the queue and is retried with capped exponential back-off; new writes keep queueing behind
 * it and drain in order once the database is back. Nothing accepted is dropped: the only
 * rejections are UnstorableEventError (bad data, isolated by splitting the batch) and
 * WriterClosedError (close() timed out).
 *
 * Backpressure: at `pending >= maxPending` write() still takes the event, but its promise also
 * waits until pending is back under maxPending. Ingest awaits it before reading more from that
 * client (for QoS 1 before the PUBACK), so a slow or absent database slows the devices down
 * instead of growing memory without bound.
 */
export class EventWriter {
  readonly #db: Db;
  readonly #log: Logger;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  readonly #maxPending: number;
  readonly #onCommit: EventWriterOptions['onCommit'];
  readonly #backoff: Backoff;
  readonly #sleep = new CancellableSleep();

  /** Accepted, not yet committed, in order; the batch being committed is its head. */
  #queue: Item[] = [];
  #seq = 0;
  #settledSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #draining = false;
  #closing = false;
  #abandoned = false;
  #roomWaiters: (() => void)[] = [];
  #flushWaiters: { seq: number; resolve: () => void }[] = [];

  #healthy = true;
  #lastError: string | null = null;
  #outageStartedAt = 0;
  #recovery: { outageMs: number; drained: number; startedAt: number } | undefined;
  readonly #counters: EventWriterCounters = { batches: 0, events: 0, inserted: 0, readings: 0, retries: 0, rejected: 0 };

  constructor(opts: EventWriterOptions) {
    this.#db = opts.db;
    this.#log = opts.log;
    this.#maxBatch = opts.maxBatch ?? 500;
    this.#maxDelayMs = opts.maxDelayMs ?? 20;
    this.#maxPending = opts.maxPending ?? 50_000;
    this.#onCommit = opts.onCommit;
    this.#backoff = new Backoff(opts.retryMinMs ?? 100, opts.retryMaxMs ?? 5_000);
  }

  /** Events accepted and not yet committed. */
  get pending(): number {
    return this.#queue.length;
  }

  /** false from the first failed commit until the next successful one. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** The error of the current outage; null while healthy. */
  get lastError(): string | null {
    return this.#lastError;
  }

  /** Totals since start, for /metrics. */
  get counters(): Readonly<EventWriterCounters> {
    return { ...this.#counters };
  }

  write(event: IngestedEvent, readings: Reading[]): Promise<void> {
    if (this.#closing) return Promise.reject(new WriterClosedError('event writer is closed'));
    // Caught here because it fails in JS (toISOString), not in the database, and would
    // otherwise look like an outage and be retried forever.
    const badTime = [event.ts, event.receivedAt, ...readings.map((r) => r.ts)].find((t) => !validTime(t));
    if (badTime !== undefined) return Promise.reject(new UnstorableEventError(`invalid timestamp: ${String(badTime)}`));
    return new Promise<void>((resolve, reject) => {
      const waitRoom = this.#queue.length >= this.#maxPending;
      this.#queue.push({ event, readings, seq: ++this.#seq, waitRoom, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once everything accepted so far is committed (or rejected as unstorable). */
  flush(): Promise<void> {
    const target = this.#seq;
    if (this.#settledSeq >= target) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#flushWaiters.push({ seq: target, resolve }));
    this.#startDrain();
    return done;
  }

  /**
   * Stops taking writes and commits what is held. If the database doesn't take it within
   * timeoutMs, the rest is rejected with WriterClosedError: those messages were never
   * acknowledged, so QoS 1 devices deliver them again to the next hub.
   */
  async close(opts: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing = true;
    const timeoutMs = opts.timeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const outcome = await Promise.race([this.flush().then(() => 'flushed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.#abandon();
    if (this.#timer) clearTimeout(this.#timer);
  }

  #abandon(): void {
    this.#abandoned = true;
    this.#sleep.cancel();
    const left = this.#queue.splice(0);
    this.#log.error({ events: left.length, lastError: this.#lastError }, 'event writer closed with uncommitted events; they were not acknowledged');
    for (const item of left) item.reject(new WriterClosedError('event writer closed before the database accepted this event'));
    for (const wake of this.#roomWaiters.splice(0)) wake(); // committed; only waiting for room
    this.#settle(this.#seq);
  }

  #schedule(): void {
    if (this.#draining) return; // the running drain loop picks new items up
    if (this.#queue.length >= this.#maxBatch) this.#startDrain();
    else this.#timer ??= setTimeout(() => this.#startDrain(), this.#maxDelayMs);
  }

  #startDrain(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#draining) return;
    this.#draining = true;
    void this.#drain().finally(() => {
      this.#draining = false;
      if (this.#queue.length > 0 && !this.#abandoned) this.#schedule();
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#abandoned) {
      await this.#commitHead(this.#queue.slice(0, this.#maxBatch));
    }
  }

  /** Commits `batch`, which is the head of the queue, retrying until it's in or isolated. */
  async #commitHead(batch: Item[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.#abandoned) return;
      const started = performance.now();
      try {
        const outcome = await this.#db.transaction((tx) => insertBatch(tx, batch, { afterFailure: attempt > 0 }));
        if (this.#abandoned) return; // close() already answered these writers
        this.#committed(batch, outcome.inserted, outcome.readings, performance.now() - started);
        return;
      } catch (err) {
        if (isDataError(err)) return this.#isolate(batch, err);
        this.#failed(err, batch.length);
        await this.#sleep.wait(this.#backoff.next());
      }
    }
  }

  /** Bad data in a batch: commit the halves separately until the offending event stands alone. */
  async #isolate(batch: Item[], err: unknown): Promise<void> {
    if (batch.length === 1) {
      const item = this.#queue.shift()!;
      this.#counters.rejected++;
      const e = item.event;
      this.#log.warn({ siteId: e.siteId, deviceId: e.deviceId, msgId: e.msgId, err: errorText(err) }, 'database refused event data');
      item.reject(new UnstorableEventError(errorText(err)));
      this.#settle(item.seq);
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await this.#commitHead(batch.slice(0, half));
    await this.#commitHead(batch.slice(half));
  }

  #committed(batch: Item[], inserted: IngestedEvent[], readings: number, ms: number): void {
    this.#queue.splice(0, batch.length);
    this.#counters.batches++;
    this.#counters.events += batch.length;
    this.#counters.inserted += inserted.length;
    this.#counters.readings += readings;
    this.#noteRecovery(batch.length);

    for (const item of batch) {
      if (item.waitRoom && this.#queue.length >= this.#maxPending) this.#roomWaiters.push(item.resolve);
      else item.resolve();
    }
    if (this.#queue.length < this.#maxPending) {
      for (const wake of this.#roomWaiters.splice(0)) wake();
    }
    this.#settle(batch[batch.length - 1]!.seq);
    if (this.#onCommit) {
      try {
        this.#onCommit(inserted, { rows: batch.length, readings, ms: Math.round(ms * 10) / 10 });
      } catch (err) {
        // A consumer's bug must not stall the ingest path; the data is stored either way.
        this.#log.error({ err }, 'onCommit handler threw');
      }
    }
  }

  #failed(err: unknown, batchSize: number): void {
    this.#counters.retries++;
    this.#lastError = errorText(err);
    if (this.#healthy) {
      this.#healthy = false;
      this.#outageStartedAt = Date.now();
      this.#recovery = undefined;
      this.#log.warn({ err: this.#lastError, batch: batchSize, pending: this.pending }, 'database write failed; holding events and retrying');
    }
  }

  #noteRecovery(drained: number): void {
    if (!this.#healthy) {
      const outageMs = Date.now() - this.#outageStartedAt;
      this.#healthy = true;
      this.#lastError = null;
      this.#backoff.reset();
      this.#recovery = { outageMs, drained: 0, startedAt: Date.now() };
      this.#log.info({ outageMs, backlog: this.pending + drained }, 'database writes resumed; draining backlog');
    }
    if (this.#recovery) {
      this.#recovery.drained += drained;
      if (this.#queue.length === 0) {
        const { outageMs, drained: total, startedAt } = this.#recovery;
        this.#recovery = undefined;
        this.#log.info({ outageMs, drained: total, drainMs: Date.now() - startedAt }, 'database outage over; backlog drained');
      }
    }
  }

  #settle(seq: number): void {
    this.#settledSeq = Math.max(this.#settledSeq, seq);
    const due = this.#flushWaiters.filter((w) => w.seq <= this.#settledSeq);
    if (due.length === 0) return;
    this.#flushWaiters = this.#flushWaiters.filter((w) => w.seq > this.#settledSeq);
    for (const w of due) w.resolve();
  }
}

function validTime(ms: number): boolean {
  return Number.isFinite(ms) && !Number.isNaN(new Date(ms).getTime());
}
