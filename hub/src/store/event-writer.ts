import type { Logger } from 'pino';
import { INGEST_DEFAULTS } from '../config.ts';
import type { IngestedEvent, Reading } from '../events.ts';
import type { Db } from './db.ts';
import { insertBatch, type WriteItem } from './event-insert.ts';
import { Backoff, CancellableSleep, OutageTracker, errorText, isDataError } from './retry.ts';
import { UnstorableEventError, WriterClosedError } from './write-errors.ts';

export { UnstorableEventError, WriterClosedError };

export interface EventWriterOptions {
  db: Db;
  log: Logger;
  /** Events per transaction (default 500). */
  maxBatch?: number;
  /**
   * How long an event may wait for company when a connection is free (default 0: a batch
   * starts as soon as the events of the current I/O turn are in). Under load batches grow on
   * their own while every connection is busy; a delay only adds latency.
   */
  maxDelayMs?: number;
  /**
   * Batches committing at once, each on its own connection (default 4 on a PostgreSQL server,
   * 1 on PGlite, which has one connection). Results are still handed out in order.
   */
  maxInFlight?: number;
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

/** A batch being committed; completes (answers its writers) only after the batches before it. */
interface Batch {
  items: Item[];
  done: boolean;
  inserted: IngestedEvent[];
  readings: number;
  rejected: Map<Item, Error>;
  ms: number;
}

/**
 * The batched, durable writer on the ingest path. write() resolves only after the statement
 * holding the event and its readings committed; that promise is what a QoS 1 PUBACK waits for.
 *
 * Up to maxInFlight batches commit at once on separate connections. A batch starts as soon as
 * a connection is free, with everything queued by then (at most maxBatch): one event alone
 * commits at once, and under load the queue that gathers while every connection is busy
 * becomes the next, bigger batch. Batches complete in the order they were taken (writers
 * answered, onCommit called), so the rule engine sees each device's events in arrival order
 * and flush() means "everything before". Two batches in flight holding the same message can't
 * both count it as new: the unique index makes the second wait for the first and skip it.
 *
 * On a database error a batch is retried with capped exponential back-off; while it fails no
 * new batch starts, new writes queue behind it and drain once the database is back. Nothing
 * accepted is dropped: the only rejections are UnstorableEventError (bad data, isolated by
 * splitting the batch) and WriterClosedError (close() timed out).
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
  readonly #maxInFlight: number;
  readonly #maxPending: number;
  readonly #onCommit: EventWriterOptions['onCommit'];
  readonly #backoff: Backoff;
  readonly #sleeps = new Set<CancellableSleep>();

  /** Accepted, not yet in a batch, in order. */
  #queue: Item[] = [];
  /** Batches taken from the queue and not yet completed, oldest first. */
  #inFlight: Batch[] = [];
  #inFlightItems = 0;
  #seq = 0;
  #settledSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #closing = false;
  #abandoned = false;
  #roomWaiters: (() => void)[] = [];
  #flushWaiters: { seq: number; resolve: () => void }[] = [];

  readonly #outage: OutageTracker;
  #recovery: { outageMs: number; drained: number; startedAt: number } | undefined;
  readonly #counters: EventWriterCounters = { batches: 0, events: 0, inserted: 0, readings: 0, retries: 0, rejected: 0 };

  constructor(opts: EventWriterOptions) {
    this.#db = opts.db;
    this.#log = opts.log;
    this.#maxBatch = opts.maxBatch ?? INGEST_DEFAULTS.maxBatch;
    this.#maxDelayMs = opts.maxDelayMs ?? INGEST_DEFAULTS.maxDelayMs;
    this.#maxInFlight = Math.max(1, opts.maxInFlight ?? (opts.db.kind === 'pg' ? 4 : 1));
    this.#maxPending = opts.maxPending ?? INGEST_DEFAULTS.maxPending;
    this.#onCommit = opts.onCommit;
    this.#backoff = new Backoff(opts.retryMinMs ?? 100, opts.retryMaxMs ?? 5_000);
    this.#outage = new OutageTracker(opts.log, 'event writer');
  }

  /** Events accepted and not yet committed. */
  get pending(): number {
    return this.#queue.length + this.#inFlightItems;
  }

  /** Batches being committed right now. */
  get inFlight(): number {
    return this.#inFlight.filter((b) => !b.done).length;
  }

  /** false from the first failed commit until the next successful one. */
  get healthy(): boolean {
    return this.#outage.healthy;
  }

  /** The error of the current outage; null while healthy. */
  get lastError(): string | null {
    return this.#outage.lastError;
  }

  /** Totals since start, for /metrics. */
  get counters(): Readonly<EventWriterCounters> {
    return { ...this.#counters };
  }

  write(event: IngestedEvent, readings: Reading[]): Promise<void> {
    if (this.#closing) return Promise.reject(new WriterClosedError('event writer is closed'));
    // Caught here because it fails in JS (toISOString), not in the database, and would
    // otherwise look like an outage and be retried forever.
    if (!validTime(event.ts) || !validTime(event.receivedAt)) return Promise.reject(new UnstorableEventError(`invalid timestamp: ${String(validTime(event.ts) ? event.receivedAt : event.ts)}`));
    for (const r of readings) if (!validTime(r.ts)) return Promise.reject(new UnstorableEventError(`invalid timestamp: ${String(r.ts)}`));
    return new Promise<void>((resolve, reject) => {
      const waitRoom = this.pending >= this.#maxPending;
      this.#queue.push({ event, readings, seq: ++this.#seq, waitRoom, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once everything accepted so far is committed (or rejected as unstorable). */
  flush(): Promise<void> {
    const target = this.#seq;
    if (this.#settledSeq >= target) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#flushWaiters.push({ seq: target, resolve }));
    this.#pump(true);
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
    this.#clearTimers();
  }

  #abandon(): void {
    this.#abandoned = true;
    for (const s of this.#sleeps) s.cancel();
    const left = [...this.#inFlight.flatMap((b) => b.items), ...this.#queue.splice(0)];
    this.#inFlight = [];
    this.#inFlightItems = 0;
    this.#log.error({ events: left.length, lastError: this.#outage.lastError }, 'event writer closed with uncommitted events; they were not acknowledged');
    for (const item of left) item.reject(new WriterClosedError('event writer closed before the database accepted this event'));
    for (const wake of this.#roomWaiters.splice(0)) wake(); // committed; only waiting for room
    this.#settle(this.#seq);
  }

  #clearTimers(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  /**
   * Starts a batch soon: at once when a full batch is queued, else after this I/O turn (every
   * publish already read from the sockets joins), or after maxDelayMs if one is configured.
   */
  #schedule(): void {
    if (!this.#slotFree()) return; // a completing batch pumps again
    if (this.#queue.length >= this.#maxBatch) return this.#pump(true);
    if (this.#maxDelayMs > 0) this.#timer ??= setTimeout(() => this.#pump(true), this.#maxDelayMs);
    else this.#immediate ??= setImmediate(() => this.#pump(true));
  }

  #slotFree(): boolean {
    const running = this.#inFlight.length - this.#inFlight.filter((b) => b.done).length;
    // While the database fails, only the batches already taken retry: no new ones pile on.
    return this.#outage.healthy ? running < this.#maxInFlight : running === 0;
  }

  /** Takes batches off the queue while connections are free. */
  #pump(now: boolean): void {
    if (now) this.#clearTimers();
    while (!this.#abandoned && this.#queue.length > 0 && this.#slotFree()) {
      const items = this.#queue.splice(0, this.#maxBatch);
      const batch: Batch = { items, done: false, inserted: [], readings: 0, rejected: new Map(), ms: 0 };
      this.#inFlight.push(batch);
      this.#inFlightItems += items.length;
      void this.#run(batch);
    }
  }

  async #run(batch: Batch): Promise<void> {
    const started = performance.now();
    await this.#commit(batch, batch.items);
    if (this.#abandoned) return; // close() already answered these writers
    batch.ms = performance.now() - started;
    batch.done = true;
    while (this.#inFlight[0]?.done) this.#complete(this.#inFlight.shift()!);
    this.#pump(false);
    if (this.#queue.length > 0) this.#schedule();
  }

  /** Commits `items` (all or part of `batch`), retrying until they're in or isolated. */
  async #commit(batch: Batch, items: Item[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.#abandoned) return;
      try {
        const outcome = await insertBatch(this.#db, items, { afterFailure: attempt > 0 });
        batch.inserted.push(...outcome.inserted);
        batch.readings += outcome.readings;
        this.#succeeded(items.length);
        return;
      } catch (err) {
        if (isDataError(err)) return this.#isolate(batch, items, err);
        this.#failed(err, items.length);
        const sleep = new CancellableSleep();
        this.#sleeps.add(sleep);
        await sleep.wait(this.#backoff.next());
        this.#sleeps.delete(sleep);
      }
    }
  }

  /** Bad data in a batch: commit the halves separately until the offending event stands alone. */
  async #isolate(batch: Batch, items: Item[], err: unknown): Promise<void> {
    if (items.length === 1) {
      const e = items[0]!.event;
      this.#counters.rejected++;
      this.#log.warn({ siteId: e.siteId, deviceId: e.deviceId, msgId: e.msgId, err: errorText(err) }, 'database refused event data');
      batch.rejected.set(items[0]!, new UnstorableEventError(errorText(err)));
      return;
    }
    const half = Math.ceil(items.length / 2);
    await this.#commit(batch, items.slice(0, half));
    await this.#commit(batch, items.slice(half));
  }

  /** Answers a committed batch's writers; runs in batch order. */
  #complete(batch: Batch): void {
    this.#inFlightItems -= batch.items.length;
    const stored = batch.items.length - batch.rejected.size;
    this.#counters.batches++;
    this.#counters.events += stored;
    this.#counters.inserted += batch.inserted.length;
    this.#counters.readings += batch.readings;
    this.#noteDrained(stored);

    for (const item of batch.items) {
      const refused = batch.rejected.get(item);
      if (refused) item.reject(refused);
      else if (item.waitRoom && this.pending >= this.#maxPending) this.#roomWaiters.push(item.resolve);
      else item.resolve();
    }
    if (this.pending < this.#maxPending) {
      for (const wake of this.#roomWaiters.splice(0)) wake();
    }
    this.#settle(batch.items[batch.items.length - 1]!.seq);
    if (this.#onCommit && stored > 0) {
      try {
        this.#onCommit(batch.inserted, { rows: stored, readings: batch.readings, ms: Math.round(batch.ms * 10) / 10 });
      } catch (err) {
        // A consumer's bug must not stall the ingest path; the data is stored either way.
        this.#log.error({ err }, 'onCommit handler threw');
      }
    }
  }

  #failed(err: unknown, batchSize: number): void {
    this.#counters.retries++;
    if (this.#outage.healthy) this.#recovery = undefined;
    // Events are held meanwhile (nothing accepted is dropped): say how many.
    this.#outage.failed(err, { batch: batchSize, pending: this.pending });
  }

  #succeeded(drained: number): void {
    const outageMs = this.#outage.succeeded({ backlog: this.pending - drained });
    if (outageMs === undefined) return;
    this.#backoff.reset();
    this.#recovery = { outageMs, drained: 0, startedAt: Date.now() };
  }

  #noteDrained(drained: number): void {
    if (!this.#recovery) return;
    this.#recovery.drained += drained;
    if (this.pending === 0) {
      const { outageMs, drained: total, startedAt } = this.#recovery;
      this.#recovery = undefined;
      this.#log.info({ outageMs, drained: total, drainMs: Date.now() - startedAt }, 'database outage over; backlog drained');
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
