import type { Channel, Family, MessageType } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { IngestedEvent } from '../events.ts';
import type { Queryable } from '../store/db.ts';

/** A hole in ingest_seq this old is a number that will never commit (duplicate, rollback). */
export const GAP_GIVE_UP_MS = 10_000;
const BATCH = 5000;

/**
 * Reads every event any hub stored, in the order they became visible, exactly once per
 * process: the feed of the rules of the sites this hub owns (cluster/site-owners.ts).
 * `ingest_seq` comes from a sequence, so numbers are drawn at insert and commit out of order;
 * a missing number is re-asked for by number until it shows up or is older than
 * GAP_GIVE_UP_MS. Rows are handed over as soon as they are visible, i.e. in commit order.
 */
export class EventTail {
  /** Every number ≤ floor was delivered or given up. */
  private floor = 0;
  /** Highest number delivered. */
  private top = 0;
  /** Numbers between floor and top not seen yet, with when they were first missed. */
  private readonly missing = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly opts: { db: Queryable; pollMs: number; log: Logger; deliver: (events: IngestedEvent[]) => void; now?: () => number }) {}

  /** Starts after everything stored so far (the owners' start-up replay covers the past). */
  async start(): Promise<void> {
    const [row] = await this.opts.db.query<{ top: number | null }>('SELECT max(ingest_seq)::int8 AS top FROM events');
    this.floor = this.top = Number(row?.top ?? 0);
    this.timer = setInterval(() => { this.running = this.running.then(() => this.poll()).catch((err: Error) => this.opts.log.warn({ err: err.message }, 'event tail poll failed')); }, this.opts.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One read; public so tests need not wait for the timer. */
  async poll(): Promise<void> {
    const now = (this.opts.now ?? Date.now)();
    const holes = [...this.missing.keys()];
    const rows = await this.opts.db.query(
      `SELECT ingest_seq::int8 AS seq, ts, received_at, site_id, device_id, family, channel, type, msg_id, data FROM events
       WHERE ingest_seq > $1 OR ingest_seq = ANY($2::int8[]) ORDER BY ingest_seq LIMIT ${BATCH}`,
      [this.top, holes]);
    const out: IngestedEvent[] = [];
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq > this.top) {
        for (let s = this.top + 1; s < seq; s++) this.missing.set(s, now);
        this.top = seq;
      } else if (!this.missing.delete(seq)) continue;
      out.push(toEvent(r));
    }
    for (const [s, since] of this.missing) if (now - since > GAP_GIVE_UP_MS) this.missing.delete(s);
    let lowest = this.top + 1;
    for (const s of this.missing.keys()) if (s < lowest) lowest = s;
    this.floor = lowest - 1;
    if (out.length) this.opts.deliver(out);
  }

  get position(): { floor: number; top: number; holes: number } {
    return { floor: this.floor, top: this.top, holes: this.missing.size };
  }
}

function toEvent(r: Record<string, unknown>): IngestedEvent {
  return {
    siteId: String(r.site_id), deviceId: String(r.device_id), family: r.family as Family, channel: r.channel as Channel,
    type: r.type as MessageType, msgId: String(r.msg_id), ts: (r.ts as Date).getTime(), receivedAt: (r.received_at as Date).getTime(),
    data: r.data as Record<string, unknown>,
  };
}
