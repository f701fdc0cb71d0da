import type { Channel, Family, MessageType } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { IngestedEvent } from '../events.ts';
import type { Queryable } from '../store/db.ts';

/** A hole in ingest_seq this old is a number that will never commit (duplicate, rollback). */
export const GAP_GIVE_UP_MS = 10_000;
const BATCH = 5000;

/**
 * Reads every row of a table numbered from a sequence (`seq`), in the order the rows became
 * visible, exactly once per process. Numbers are drawn at insert and commit out of order, so a
 * missing number is re-asked for by number until it shows up or is older than GAP_GIVE_UP_MS.
 * Rows are handed over as soon as they are visible, i.e. in commit order. `wake()` polls now
 * (a NOTIFY from the hub that committed; the timer covers a lost one).
 */
export class SeqTail<T> {
  /** Every number ≤ floor was delivered or given up. */
  private floor = 0;
  /** Highest number delivered. */
  private top = 0;
  /** Numbers between floor and top not seen yet, with when they were first missed. */
  private readonly missing = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private again = false;

  constructor(private readonly opts: {
    db: Queryable; pollMs: number; log: Logger; deliver: (rows: T[]) => void; now?: () => number;
    /** `SELECT max(<seq>)::int8 AS top FROM …` */
    topSql: string;
    /** Rows with seq > $1 or seq = ANY($2::int8[]), ordered by seq, each with an int8 `seq` column. */
    rowsSql: (limit: number) => string;
    toRow: (r: Record<string, unknown>) => T;
  }) {}

  /** Starts after everything stored so far (the owners' start-up replay covers the past). */
  async start(): Promise<void> {
    this.floor = this.top = await this.storedTop();
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.timer.unref();
  }

  /** Polls as soon as the running poll is done (one more poll however many wake-ups came). */
  wake(): void {
    if (this.again) return;
    this.again = true;
    this.running = this.running.then(() => { this.again = false; return this.poll(); }).catch((err: Error) => this.opts.log.warn({ err: err.message }, 'tail poll failed'));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One read; public so tests need not wait for the timer. */
  async poll(): Promise<void> {
    const now = (this.opts.now ?? Date.now)();
    const holes = [...this.missing.keys()];
    const rows = await this.opts.db.query(this.opts.rowsSql(BATCH), [this.top, holes]);
    const out: T[] = [];
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq > this.top) {
        for (let s = this.top + 1; s < seq; s++) this.missing.set(s, now);
        this.top = seq;
      } else if (!this.missing.delete(seq)) continue;
      out.push(this.opts.toRow(r));
    }
    for (const [s, since] of this.missing) if (now - since > GAP_GIVE_UP_MS) this.missing.delete(s);
    let lowest = this.top + 1;
    for (const s of this.missing.keys()) if (s < lowest) lowest = s;
    this.floor = lowest - 1;
    if (out.length) this.opts.deliver(out);
  }

  /** Up to `limit` rows numbered above `seq`, by number: a resume's replay (live/cluster-source.ts); the tail's state is not touched. */
  async readAfter(seq: number, limit: number): Promise<T[]> {
    return (await this.opts.db.query(this.opts.rowsSql(limit), [seq, []])).map((r) => this.opts.toRow(r));
  }

  /** Highest number stored so far. */
  async storedTop(): Promise<number> {
    const [row] = await this.opts.db.query<{ top: number | null }>(this.opts.topSql);
    return Number(row?.top ?? 0);
  }

  get position(): { floor: number; top: number; holes: number } {
    return { floor: this.floor, top: this.top, holes: this.missing.size };
  }
}

/**
 * Every event any hub stored, in commit order (`events.ingest_seq`): the feed of the rules of
 * the sites this hub owns (cluster/site-owners.ts), of presence and of the live feed.
 */
export class EventTail extends SeqTail<IngestedEvent> {
  constructor(opts: { db: Queryable; pollMs: number; log: Logger; deliver: (events: IngestedEvent[]) => void; now?: () => number }) {
    super({
      ...opts,
      topSql: 'SELECT max(ingest_seq)::int8 AS top FROM events',
      rowsSql: (limit) => `SELECT ingest_seq::int8 AS seq, ts, received_at, site_id, device_id, family, channel, type, msg_id, data FROM events
       WHERE ingest_seq > $1 OR ingest_seq = ANY($2::int8[]) ORDER BY ingest_seq LIMIT ${limit}`,
      toRow: toEvent,
    });
  }
}

function toEvent(r: Record<string, unknown>): IngestedEvent {
  return {
    siteId: String(r.site_id), deviceId: String(r.device_id), family: r.family as Family, channel: r.channel as Channel,
    type: r.type as MessageType, msgId: String(r.msg_id), ts: (r.ts as Date).getTime(), receivedAt: (r.received_at as Date).getTime(),
    data: r.data as Record<string, unknown>, ingestSeq: Number(r.seq),
  };
}
