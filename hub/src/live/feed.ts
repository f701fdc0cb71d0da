import { randomUUID } from 'node:crypto';
import type { Family, KpiSnapshot, LiveDataKind, LivePresencePayload, LiveTicketPayload, StoredEvent } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { HubBus, HubEventMap } from '../bus.ts';
import type { IngestedEvent } from '../events.ts';
import { Ring } from './ring.ts';
import { LiveSession, type LiveSocket, type SessionLimits } from './session.ts';

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
  now?: () => number;
}

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
      bus.on('events.stored', (events) => { for (const e of events) this.publishEvent(e); }),
      bus.on('device.presence', (c) => this.publishPresence(c)),
      bus.on('ticket.changed', (c) => this.publishTicket(c)),
      bus.on('kpi.updated', (s) => this.publishKpi(s)),
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

  /** A new connection: says hello, then waits for the client's resume. */
  attach(socket: LiveSocket, who: { username: string; sites: string[] | null }): LiveSession {
    const s = new LiveSession(socket, this.ring, { epoch: this.epoch, username: who.username, sites: who.sites, limits: this.limits, batchMs: this.batchMs });
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

  publish(kind: LiveDataKind, siteId: string | null, family: Family | null, payload: unknown): number {
    const at = this.iso();
    const e = this.ring.push((seq) => ({ kind, siteId, family, json: JSON.stringify({ seq, kind, at, payload }) }));
    if (++this.pending >= this.batchMaxItems && !this.immediate) {
      this.immediate = setImmediate(() => { this.immediate = null; this.flush(); });
    }
    return e.seq;
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

  private publishEvent(e: IngestedEvent): void {
    const payload: StoredEvent = {
      siteId: e.siteId, deviceId: e.deviceId, family: e.family, channel: e.channel, type: e.type, msgId: e.msgId,
      ts: new Date(e.ts).toISOString(), receivedAt: new Date(e.receivedAt).toISOString(), data: e.data,
    };
    this.publish('event', e.siteId, e.family, payload);
  }

  private publishPresence(c: HubEventMap['device.presence'][0]): void {
    const s = c.state;
    const payload: LivePresencePayload = {
      siteId: s.siteId, deviceId: s.deviceId, family: s.family, online: s.online,
      lastSeen: s.lastSeen === null ? null : new Date(s.lastSeen).toISOString(), reason: c.reason,
    };
    this.publish('presence', s.siteId, s.family, payload);
  }

  private publishTicket(c: HubEventMap['ticket.changed'][0]): void {
    // The bus types `ticket` loosely; the ticket service puts a full Ticket (and, when it has
    // one, the TicketChange fields) there.
    const extra = c as { from?: unknown; actor?: unknown; note?: unknown; kind?: unknown };
    const payload = { ticketId: c.ticketId, siteId: c.siteId, action: c.action, ticket: c.ticket } as LiveTicketPayload;
    if (extra.from === null || typeof extra.from === 'string') payload.from = extra.from as LiveTicketPayload['from'];
    if (typeof extra.actor === 'string') payload.actor = extra.actor;
    if (typeof extra.note === 'string') payload.note = extra.note;
    this.publish('ticket', c.siteId, null, payload);
  }

  private publishKpi(snapshot: unknown): void {
    const siteId = (snapshot as Partial<KpiSnapshot> | null)?.siteId;
    this.publish('kpi', typeof siteId === 'string' ? siteId : null, null, snapshot);
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}
