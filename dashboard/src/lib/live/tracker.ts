import type { LiveBatch, LiveDataMessage, LiveHello, LiveReset } from '../contract.ts';

export type HelloDecision = { resume: { lastSeq: number; epoch: string }; refresh: boolean };
export type BatchDecision = { ok: true; messages: LiveDataMessage[] } | { ok: false; reason: 'gap' };

/**
 * Where the client is in the hub's stream (schemas/src/live.ts): the epoch and the last seq
 * it has applied. Pure, so the no-gap/no-duplicate rules are tested without a socket.
 *
 * - hello: same epoch and a position → resume from it (the hub replays what we missed);
 *   otherwise adopt the hub's head and reload state over REST.
 * - reset: adopt reset.seq and reload.
 * - batch: must start exactly where we are (`after`), or we missed something → reconnect.
 *   Messages at or below our position are duplicates and dropped.
 */
export class SeqTracker {
  epoch: string | null = null;
  lastSeq: number | null = null;
  gaps = 0;
  duplicates = 0;
  resets = 0;

  onHello(h: LiveHello): HelloDecision {
    const epoch = h.payload.epoch;
    if (this.epoch === epoch && this.lastSeq !== null) return { resume: { lastSeq: this.lastSeq, epoch }, refresh: false };
    this.epoch = epoch;
    this.lastSeq = h.seq;
    return { resume: { lastSeq: h.seq, epoch }, refresh: true };
  }

  onReset(r: LiveReset): void {
    this.epoch = r.payload.epoch;
    this.lastSeq = r.seq;
    this.resets++;
  }

  onBatch(b: LiveBatch): BatchDecision {
    if (this.lastSeq === null || b.after !== this.lastSeq) {
      // A batch that starts before us but reaches past us would mean overlap, not loss;
      // the hub never sends one, so treat any mismatch as "resync".
      this.gaps++;
      return { ok: false, reason: 'gap' };
    }
    const out: LiveDataMessage[] = [];
    let last = this.lastSeq;
    for (const m of b.messages) {
      if (m.seq <= last) { this.duplicates++; continue; }
      out.push(m);
      last = m.seq;
    }
    this.lastSeq = Math.max(last, b.upTo);
    return { ok: true, messages: out };
  }

  /** Forget the position (logout): the next hello starts fresh. */
  clear(): void {
    this.epoch = null;
    this.lastSeq = null;
  }
}
