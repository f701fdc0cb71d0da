import { randomUUID } from 'node:crypto';
import type { Family, KpiSnapshot, LiveDataKind, LivePosition } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { HubBus, TicketBusChange } from '../bus.ts';
import { eventJson, presencePayload, ticketJson, type LivePayload } from './payloads.ts';
import type { IngestedEvent } from '../events.ts';
import { Ring } from './ring.ts';
import { LiveSession, type LiveSocket, type SessionLimits, type StoreReplay } from './session.ts';

export interface LiveFeedOptions {
  bus: HubBus;
  log: Logger;
  /** Messages kept for resuming clients (default 20,000). */
  ringSize?: number;
  /** Byte bound of the ring (default 64 MiB). */
  ringMaxBytes?: number;
  /** Per-socket unsent bytes before the client counts as behind (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Flush interval: events are batched into frames at most this often (default 100 ms). */
  batchMs?: number;
  /** Flush at once when this many messages wait (default 200). */
  batchMaxItems?: number;
  maxFrameBytes?: number;
  stallTimeoutMs?: number;
  /** Rows a resume by position may replay before it gets a reset instead (default 5000). */
  replayLimit?: number;
  now?: () => number;
}

/** What an event's live text adds to its received JSON: seq, at, site/device/family/channel, receivedAt. */
const EVENT_OVERHEAD_BYTES = 256;

export interface LiveStats {
  epoch: string;
  head: number;
  oldest: number;
  ringSize: number;
  ringBytes: number;
  clients: number;
  behind: number;
  /** Largest socket buffer seen on any connection since start. */
  maxBufferedSeen: number;
}

/**
 * The live feed: turns bus announcements into numbered messages in one ring and lets every
 * connected session pump from it. Batching happens here (a flush per `batchMs` or per
 * `batchMaxItems`), so 200 events/s become ~10 frames/s per client, not 200.
 */
export class LiveFeed {
  readonly epoch = randomUUID();
  readonly ring: Ring;
  readonly limits: SessionLimits;
  readonly batchMs: number;
  private readonly batchMaxItems: number;
  private readonly sessions = new Set<LiveSession>();
  private readonly unsubscribe: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private pending = 0;
  private maxBufferedSeen = 0;
  private readonly now: () => number;
  /** Clustered: the database behind the feed (attachStore) and the position at the ring's head. */
  private store: Pick<StoreReplay, 'stream' | 'read'> | null = null;
  private position: LivePosition | null = null;

  constructor(private readonly opts: LiveFeedOptions) {
    this.ring = new Ring(opts.ringSize ?? 20_000, opts.ringMaxBytes ?? 64 * 1024 * 1024);
    this.limits = {
      maxBufferedBytes: opts.maxBufferedBytes ?? 1024 * 1024,
      maxFrameItems: opts.batchMaxItems ?? 200,
      maxFrameBytes: opts.maxFrameBytes ?? 256 * 1024,
      stallTimeoutMs: opts.stallTimeoutMs ?? 120_000,
    };
    this.batchMs = opts.batchMs ?? 100;
    this.batchMaxItems = opts.batchMaxItems ?? 200;
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    const { bus } = this.opts;
    this.unsubscribe.push(
      bus.on('events.stored', (events) => { for (const e of events) this.publishEvent(e); }, 'live'),
      bus.on('device.presence', (c) => this.publish('presence', c.state.siteId, c.state.family, presencePayload(c)), 'live'),
      bus.on('ticket.changed', (c) => this.publishTicket(c), 'live'),
      bus.on('kpi.updated', (s: KpiSnapshot) => this.publish('kpi', s.siteId ?? null, null, s), 'live'),
    );
    // A steady tick also re-tries sessions that were behind once their sockets drain.
    this.timer = setInterval(() => this.flush(), this.batchMs);
    this.timer.unref();
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.timer) clearInterval(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  /**
   * Clustered (live/cluster-source.ts): what the ring carries is read from the database, so a
   * client can resume by database position here whichever hub it came from.
   */
  attachStore(store: Pick<StoreReplay, 'stream' | 'read'>, position: LivePosition): void {
    this.store = store;
    this.position = position;
  }

  /**
   * The database position after the entries just pushed: the head entry carries it, the ones
   * pushed before it in the same delivery keep the previous one (rows of one delivery are
   * only complete together).
   */
  setPosition(events: number, tickets: number): void {
    if (!this.position) return;
    this.position = { stream: this.position.stream, events, tickets };
    const head = this.ring.get(this.ring.head);
    if (head) head.position = this.position;
  }

  /** A new connection: says hello, then waits for the client's resume. */
  attach(socket: LiveSocket, who: { username: string; sites: string[] | null }): LiveSession {
    const store: StoreReplay | null = this.store ? { stream: this.store.stream, read: this.store.read, positionNow: () => this.position!, limit: this.opts.replayLimit ?? 5000 } : null;
    const s = new LiveSession(socket, this.ring, { epoch: this.epoch, username: who.username, sites: who.sites, limits: this.limits, batchMs: this.batchMs, store });
    this.sessions.add(s);
    s.hello(this.iso());
    return s;
  }

  detach(s: LiveSession): void {
    this.sessions.delete(s);
    if (s.maxBufferedSeen > this.maxBufferedSeen) this.maxBufferedSeen = s.maxBufferedSeen;
  }

  /** Serves a session right away (after resume/subscribe) instead of waiting for the tick. */
  pumpOne(s: LiveSession): void {
    s.pump(this.now(), this.iso());
  }

  publish<K extends LiveDataKind>(kind: K, siteId: string | null, family: Family | null, payload: LivePayload<K>): number {
    const at = this.iso();
    const e = this.ring.push({ kind, siteId, family, serialise: (seq) => JSON.stringify({ seq, kind, at, payload }) });
    e.position = this.position;
    // A ticket is what an operator acts on: its frame goes out now, not at the next tick.
    this.noteQueued(kind === 'ticket');
    return e.seq;
  }

  private publishTicket(c: TicketBusChange): number {
    const atMs = this.now();
    const e = this.ring.push({ kind: 'ticket', siteId: c.siteId, family: null, serialise: (seq) => ticketJson(seq, atMs, c), ...(c.changeSeq !== undefined ? { storeSeq: c.changeSeq } : {}) });
    e.position = this.position;
    this.noteQueued(true);
    return e.seq;
  }

  /**
   * A stored event, serialised only when a session first sends it: most events are never read
   * by anyone (no dashboard open, or filtered out), and building their text was most of the
   * feed's cost on the ingest path. The ring charges an estimate from the received size.
   */
  private publishEvent(e: IngestedEvent): number {
    const atMs = this.now();
    const entry = this.ring.push({
      kind: 'event', siteId: e.siteId, family: e.family,
      serialise: (seq) => eventJson(seq, atMs, e),
      ...(e.rawBytes !== undefined ? { estimate: e.rawBytes + EVENT_OVERHEAD_BYTES } : {}),
      ...(e.ingestSeq !== undefined ? { storeSeq: e.ingestSeq } : {}),
    });
    entry.position = this.position;
    this.noteQueued(false);
    return entry.seq;
  }

  private noteQueued(now: boolean): void {
    if ((++this.pending >= this.batchMaxItems || now) && !this.immediate) {
      this.immediate = setImmediate(() => { this.immediate = null; this.flush(); });
    }
  }

  flush(): void {
    this.pending = 0;
    const now = this.now();
    const at = this.iso();
    for (const s of this.sessions) {
      try {
        s.pump(now, at);
      } catch (err) {
        this.opts.log.warn({ err }, 'live session pump failed');
      }
    }
  }

  stats(): LiveStats {
    let behind = 0;
    let maxBuffered = this.maxBufferedSeen;
    for (const s of this.sessions) {
      if (s.behind) behind++;
      if (s.maxBufferedSeen > maxBuffered) maxBuffered = s.maxBufferedSeen;
    }
    return { epoch: this.epoch, head: this.ring.head, oldest: this.ring.oldest, ringSize: this.ring.size, ringBytes: this.ring.bytes, clients: this.sessions.size, behind, maxBufferedSeen: maxBuffered };
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}

