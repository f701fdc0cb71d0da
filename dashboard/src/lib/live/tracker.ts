import type { LiveBatch, LiveDataMessage, LiveHello, LivePosition, LiveReplay, LiveReset } from '../contract.ts';

export type HelloDecision = { resume: { lastSeq: number; epoch: string; position?: LivePosition }; refresh: boolean };
export type BatchDecision = { ok: true; messages: LiveDataMessage[] } | { ok: false; reason: 'gap' };

/**
 * Where the client is in the hub's stream (schemas/src/live.ts): the epoch and the last seq
 * it has applied, and — clustered hubs — its database position. Pure, so the
 * no-gap/no-duplicate rules are tested without a socket.
 *
 * - hello: same epoch and a seq → resume from it (the hub replays what we missed). Another
 *   hub of the same database (position.stream) → resume by position: it replays what was
 *   stored after it. Otherwise adopt the hub's head and reload state over REST.
 * - replay: apply; the final frame moves us to the new hub's epoch, seq and position.
 * - reset: adopt reset.seq and reload.
 * - batch: must start exactly where we are (`after`), or we missed something → reconnect.
 *   Messages at or below our seq are duplicates and dropped, and so are database rows
 *   (storeSeq) already applied: a replay may carry rows above our position that we have.
 */
export class SeqTracker {
  epoch: string | null = null;
  lastSeq: number | null = null;
  position: LivePosition | null = null;
  /** `<kind>:<storeSeq>` applied above `position` (below it everything is applied). */
  private readonly seen = new Set<string>();
  gaps = 0;
  duplicates = 0;
  resets = 0;
  /** Resumes served by another hub from our database position (no reload). */
  replays = 0;

  onHello(h: LiveHello): HelloDecision {
    const epoch = h.payload.epoch;
    const pos = this.position ? { position: this.position } : {};
    if (this.epoch === epoch && this.lastSeq !== null) return { resume: { lastSeq: this.lastSeq, epoch, ...pos }, refresh: false };
    // Another hub of the same database: our epoch and seq stay until its final replay frame.
    if (this.epoch !== null && this.lastSeq !== null && this.position && h.payload.position?.stream === this.position.stream) {
      return { resume: { lastSeq: this.lastSeq, epoch: this.epoch, position: this.position }, refresh: false };
    }
    this.epoch = epoch;
    this.lastSeq = h.seq;
    this.adopt(h.payload.position ?? null);
    return { resume: { lastSeq: h.seq, epoch, ...(this.position ? { position: this.position } : {}) }, refresh: true };
  }

  onReset(r: LiveReset): void {
    this.epoch = r.payload.epoch;
    this.lastSeq = r.seq;
    this.adopt(r.payload.position ?? null);
    this.resets++;
  }

  onReplay(r: LiveReplay): LiveDataMessage[] {
    const out = r.messages.filter((m) => this.fresh(m));
    if (r.final) {
      this.epoch = r.epoch;
      this.lastSeq = r.seq;
      this.advance(r.position);
      this.replays++;
    }
    return out;
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
      last = m.seq;
      if (this.fresh(m)) out.push(m);
    }
    this.lastSeq = Math.max(last, b.upTo);
    if (b.position) this.advance(b.position);
    return { ok: true, messages: out };
  }

  /** Forget the position (logout): the next hello starts fresh. */
  clear(): void {
    this.epoch = null;
    this.lastSeq = null;
    this.adopt(null);
  }

  /** False for a database row already applied (counted as a duplicate). */
  private fresh(m: LiveDataMessage): boolean {
    if (m.storeSeq === undefined || !this.position) return true;
    const key = `${m.kind}:${m.storeSeq}`;
    if (m.storeSeq <= (m.kind === 'ticket' ? this.position.tickets : this.position.events) || this.seen.has(key)) {
      this.duplicates++;
      return false;
    }
    this.seen.add(key);
    return true;
  }

  private adopt(p: LivePosition | null): void {
    this.position = p;
    this.seen.clear();
  }

  /** Positions only move forward (a hub whose tail lags reports an older one). */
  private advance(p: LivePosition): void {
    if (!this.position || this.position.stream !== p.stream) return this.adopt(p);
    const events = Math.max(this.position.events, p.events);
    const tickets = Math.max(this.position.tickets, p.tickets);
    if (events === this.position.events && tickets === this.position.tickets) return;
    this.position = { stream: p.stream, events, tickets };
    for (const key of this.seen) {
      const [kind, n] = key.split(':');
      if (Number(n) <= (kind === 'ticket' ? tickets : events)) this.seen.delete(key);
    }
  }
}
