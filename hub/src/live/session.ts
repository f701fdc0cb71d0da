import type { Family, LiveHello, LivePosition, LiveReset } from '@shaobing/schemas';
import type { TicketBusChange } from '../bus.ts';
import type { IngestedEvent } from '../events.ts';
import { eventJson, ticketJson } from './payloads.ts';
import { RingEntry, type Ring } from './ring.ts';

/** Clustered: the database the ring is read from, so a resume by position can be served here. */
export interface StoreReplay {
  readonly stream: string;
  /** Rows a replay may carry; more → reset. */
  readonly limit: number;
  /** The position at the ring's head now. */
  positionNow(): LivePosition;
  /** What was stored after `from` (at most `limit` + 1 rows), or why it cannot be served. */
  read(from: LivePosition, limit: number): Promise<{ events: IngestedEvent[]; tickets: TicketBusChange[] } | 'too_far_behind' | 'bad_position'>;
}

/** What a session needs of a WebSocket (ws's WebSocket has all of it); tests may fake it. */
export interface LiveSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

export interface SessionLimits {
  /** Stop writing to a socket holding more than this many unsent bytes. */
  maxBufferedBytes: number;
  maxFrameItems: number;
  maxFrameBytes: number;
  /** A socket that stays over maxBufferedBytes this long is cut; its client resumes or resets. */
  stallTimeoutMs: number;
}

const OPEN = 1;
export type ResetReason = LiveReset['payload']['reason'];

/**
 * One WebSocket connection of the live feed. It owns no queue: its whole state is a cursor
 * into the shared ring, so a slow client costs the hub at most `maxBufferedBytes` plus one
 * frame (what's already in the socket), however far behind it falls. When the ring has moved
 * past its cursor, it gets a `reset` and starts again from the head.
 */
export class LiveSession {
  /** Nothing is streamed before the client says where to start (resume). */
  started = false;
  /** Last seq considered for this client (sent, or skipped by its filter). */
  private cursor = 0;
  /** `upTo` of the last batch sent: the next batch's `after`. */
  private sentUpTo = 0;
  private behindSince: number | null = null;
  private siteFilter: Set<string> | null;
  private familyFilter: Set<Family> | null = null;
  /** A further narrowing that the client cannot widen (a grid worker's tickets: worker-filter.ts). */
  private only: ((e: RingEntry) => boolean) | null = null;
  /** A replay by position is being read: nothing is streamed and further resumes wait. */
  replaying = false;
  /**
   * After a replay: ring entries at or below the client's position (this hub's tail was
   * behind the other's) and the rows the replay already sent are not sent again.
   */
  private skip: { events: number; tickets: number; sent: Set<string> } | null = null;
  framesSent = 0;
  messagesSent = 0;
  resets = 0;
  maxBufferedSeen = 0;

  constructor(
    private readonly socket: LiveSocket,
    private readonly ring: Ring,
    private readonly opts: { epoch: string; username: string; sites: string[] | null; limits: SessionLimits; batchMs: number; store?: StoreReplay | null },
  ) {
    this.siteFilter = opts.sites ? new Set(opts.sites) : null;
  }

  get behind(): boolean { return this.behindSince !== null; }

  /** Limits the stream to entries `only` accepts, for the life of the session. Call before resume. */
  restrict(only: (e: RingEntry) => boolean): void {
    this.only = only;
  }

  hello(at: string): void {
    const frame: LiveHello = {
      seq: this.ring.head, kind: 'hello', at,
      payload: {
        protocol: 1, epoch: this.opts.epoch, oldestSeq: this.ring.oldest, username: this.opts.username, sites: this.opts.sites, batchMs: this.opts.batchMs,
        ...(this.opts.store ? { position: this.opts.store.positionNow() } : {}),
      },
    };
    this.write(JSON.stringify(frame));
  }

  /**
   * Positions the stream after `lastSeq` in this hub's ring; or, clustered, after `position` in
   * the database (another hub's client, or one the ring has moved past): a promise then, done
   * once the replay is sent. Otherwise a reset.
   */
  resume(lastSeq: number, epoch: string | undefined, at: string, position?: LivePosition): void | Promise<void> {
    if (this.replaying) return;
    const sameEpoch = epoch === undefined || epoch === this.opts.epoch;
    if (sameEpoch && lastSeq <= this.ring.head && this.ring.canResumeFrom(lastSeq)) {
      this.started = true;
      this.cursor = lastSeq;
      this.sentUpTo = lastSeq;
      return;
    }
    if (position && this.opts.store && position.stream === this.opts.store.stream) return this.replay(position, at);
    this.started = true;
    if (!sameEpoch) return this.reset('epoch_changed', at);
    return this.reset(lastSeq > this.ring.head ? 'bad_position' : 'too_far_behind', at);
  }

  /**
   * Sends what the database stored after `from` that this client may see, then streams the
   * ring from its head as it was before the read: rows stored meanwhile come either way, so
   * those the replay carried are skipped in the ring (`skip`), and so is anything at or below
   * `from` that this hub's tail delivers late.
   */
  private async replay(from: LivePosition, at: string): Promise<void> {
    const store = this.opts.store!;
    this.replaying = true;
    const head = this.ring.head;
    const headPos = store.positionNow();
    let rows: Awaited<ReturnType<StoreReplay['read']>>;
    try {
      rows = await store.read(from, store.limit);
    } catch {
      rows = 'too_far_behind'; // the database is unreachable: the client reloads once it is back
    }
    this.replaying = false;
    this.started = true;
    if (rows === 'bad_position') return this.reset('bad_position', at);
    if (rows === 'too_far_behind' || rows.events.length + rows.tickets.length > store.limit) return this.reset('too_far_behind', at);
    const atMs = Date.parse(at);
    const entries: RingEntry[] = [];
    const sent = new Set<string>();
    for (const e of rows.events) entries.push(this.detached('event', e.siteId, e.family, e.ingestSeq!, () => eventJson(head, atMs, e)));
    for (const c of rows.tickets) entries.push(this.detached('ticket', c.siteId, null, c.changeSeq!, () => ticketJson(head, atMs, c)));
    const visible = entries.filter((e) => { sent.add(`${e.kind}:${e.storeSeq}`); return this.visible(e); });
    this.cursor = head;
    this.sentUpTo = head;
    this.skip = { events: from.events, tickets: from.tickets, sent };
    const position: LivePosition = { stream: from.stream, events: Math.max(from.events, headPos.events), tickets: Math.max(from.tickets, headPos.tickets) };
    const { maxFrameItems } = this.opts.limits;
    for (let i = 0; i === 0 || i < visible.length; i += maxFrameItems) {
      const part = visible.slice(i, i + maxFrameItems);
      const final = i + maxFrameItems >= visible.length;
      // Only the final frame moves the client: cut off mid-replay, it resumes from `from` again.
      this.write(`{"kind":"replay","seq":${head},"epoch":${JSON.stringify(this.opts.epoch)},"final":${final},"position":${JSON.stringify(final ? position : from)},"messages":[${part.map((e) => e.json).join(',')}]}`);
    }
    this.messagesSent += visible.length;
  }

  private detached(kind: 'event' | 'ticket', siteId: string, family: Family | null, storeSeq: number, serialise: () => string): RingEntry {
    // Outside the ring (seq 0, so no recharge); serialised only if visible to this client.
    const e = new RingEntry(0, kind, siteId, family, serialise, 0, this.ring);
    e.storeSeq = storeSeq;
    return e;
  }

  /** A ring entry the client already has: at or below its position, or sent by its replay. */
  private skipped(e: RingEntry): boolean {
    if (!this.skip || e.storeSeq === null) return false;
    if (e.storeSeq <= (e.kind === 'event' ? this.skip.events : this.skip.tickets)) return true;
    return this.skip.sent.delete(`${e.kind}:${e.storeSeq}`);
  }

  /** Narrows the stream; returns an error text when the site isn't one the operator may see. */
  subscribe(siteId: string | undefined, families: Family[] | undefined): string | null {
    if (siteId !== undefined) {
      if (this.opts.sites && !this.opts.sites.includes(siteId)) return `site ${siteId} is not visible to ${this.opts.username}`;
      this.siteFilter = new Set([siteId]);
    } else {
      this.siteFilter = this.opts.sites ? new Set(this.opts.sites) : null;
    }
    this.familyFilter = families && families.length ? new Set(families) : null;
    return null;
  }

  /**
   * Sends what the client hasn't seen, frame by frame, until it's caught up or its socket is
   * full. Called on every flush tick; a full socket is simply tried again on the next one.
   */
  pump(now: number, at: string): void {
    if (!this.started || this.socket.readyState !== OPEN) return;
    for (;;) {
      const buffered = this.socket.bufferedAmount;
      if (buffered > this.maxBufferedSeen) this.maxBufferedSeen = buffered;
      if (buffered > this.opts.limits.maxBufferedBytes) {
        this.behindSince ??= now;
        if (now - this.behindSince > this.opts.limits.stallTimeoutMs) this.socket.terminate();
        return;
      }
      this.behindSince = null;
      if (this.cursor >= this.ring.head) return;
      if (!this.ring.canResumeFrom(this.cursor)) return this.reset('slow_consumer', at);
      this.sendNextFrame();
    }
  }

  private sendNextFrame(): void {
    const { maxFrameItems, maxFrameBytes } = this.opts.limits;
    const parts: string[] = [];
    let bytes = 0;
    let seq = this.cursor;
    const head = this.ring.head;
    while (seq < head && parts.length < maxFrameItems && (bytes < maxFrameBytes || parts.length === 0)) {
      const e = this.ring.get(seq + 1);
      if (!e) break; // unreachable while canResumeFrom held; never loop on a hole
      seq = e.seq;
      if (!this.visible(e) || this.skipped(e)) continue;
      if (parts.length > 0 && bytes + e.bytes > maxFrameBytes) { seq = e.seq - 1; break; }
      parts.push(e.json);
      bytes += e.bytes;
    }
    if (seq === this.cursor) { this.cursor = head; return; }
    this.cursor = seq;
    if (parts.length === 0) return; // everything in range was filtered out: nothing to say
    const position = this.ring.get(seq)?.position;
    this.write(`{"kind":"batch","after":${this.sentUpTo},"upTo":${seq},"messages":[${parts.join(',')}]${position ? `,"position":${JSON.stringify(position)}` : ''}}`);
    this.sentUpTo = seq;
    this.framesSent++;
    this.messagesSent += parts.length;
  }

  private visible(e: RingEntry): boolean {
    if (this.siteFilter && e.siteId !== null && !this.siteFilter.has(e.siteId)) return false;
    // A street-wide snapshot (siteId null) is only for operators who see every site.
    if (e.siteId === null && this.opts.sites !== null) return false;
    if (this.familyFilter && e.family !== null && !this.familyFilter.has(e.family)) return false;
    return this.only === null || this.only(e);
  }

  private reset(reason: ResetReason, at: string): void {
    const frame: LiveReset = { seq: this.ring.head, kind: 'reset', at, payload: { reason, epoch: this.opts.epoch, ...(this.opts.store ? { position: this.opts.store.positionNow() } : {}) } };
    this.skip = null;
    this.cursor = this.ring.head;
    this.sentUpTo = this.ring.head;
    this.resets++;
    this.write(JSON.stringify(frame));
  }

  private write(data: string): void {
    if (this.socket.readyState === OPEN) this.socket.send(data);
  }
}
