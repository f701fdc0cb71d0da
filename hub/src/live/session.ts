import type { Family, LiveHello, LiveReset } from '@shaobing/schemas';
import type { Ring, RingEntry } from './ring.ts';

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
  framesSent = 0;
  messagesSent = 0;
  resets = 0;
  maxBufferedSeen = 0;

  constructor(
    private readonly socket: LiveSocket,
    private readonly ring: Ring,
    private readonly opts: { epoch: string; username: string; sites: string[] | null; limits: SessionLimits; batchMs: number },
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
      payload: { protocol: 1, epoch: this.opts.epoch, oldestSeq: this.ring.oldest, username: this.opts.username, sites: this.opts.sites, batchMs: this.opts.batchMs },
    };
    this.write(JSON.stringify(frame));
  }

  /** Positions the stream after `lastSeq`, or resets when the ring can't serve it. */
  resume(lastSeq: number, epoch: string | undefined, at: string): void {
    this.started = true;
    if (epoch !== undefined && epoch !== this.opts.epoch) return this.reset('epoch_changed', at);
    if (lastSeq > this.ring.head) return this.reset('bad_position', at);
    if (!this.ring.canResumeFrom(lastSeq)) return this.reset('too_far_behind', at);
    this.cursor = lastSeq;
    this.sentUpTo = lastSeq;
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
      if (!this.visible(e)) continue;
      if (parts.length > 0 && bytes + e.bytes > maxFrameBytes) { seq = e.seq - 1; break; }
      parts.push(e.json);
      bytes += e.bytes;
    }
    if (seq === this.cursor) { this.cursor = head; return; }
    this.cursor = seq;
    if (parts.length === 0) return; // everything in range was filtered out: nothing to say
    this.write(`{"kind":"batch","after":${this.sentUpTo},"upTo":${seq},"messages":[${parts.join(',')}]}`);
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
    const frame: LiveReset = { seq: this.ring.head, kind: 'reset', at, payload: { reason, epoch: this.opts.epoch } };
    this.cursor = this.ring.head;
    this.sentUpTo = this.ring.head;
    this.resets++;
    this.write(JSON.stringify(frame));
  }

  private write(data: string): void {
    if (this.socket.readyState === OPEN) this.socket.send(data);
  }
}
