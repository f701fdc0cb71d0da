import type { Family, LiveDataKind, LivePosition } from '@shaobing/schemas';

/**
 * One data message of the live feed, serialised once and shared by every connection — at the
 * first read of `json`, not when it is pushed: with no client connected (or none that reads
 * this far) the hub never builds the text. Until then `bytes` is the pusher's estimate.
 */
export class RingEntry {
  #json: string | null;
  #serialise: ((seq: number) => string) | null;
  #ring: Ring;
  /** Wire size, or the estimate until serialised. */
  bytes: number;
  /** Clustered: events.ingest_seq / tickets.change_seq of the row (session.ts skips ones a replay sent). */
  storeSeq: number | null = null;
  /** Clustered: the database position once this entry is pushed (schemas/src/live.ts LivePosition). */
  position: LivePosition | null = null;

  constructor(
    readonly seq: number,
    readonly kind: LiveDataKind,
    /** null: concerns every site (e.g. a street-wide KPI snapshot). */
    readonly siteId: string | null,
    /** Events and presence only; used by `subscribe {families}`. */
    readonly family: Family | null,
    serialise: (seq: number) => string,
    /** null: serialise now. */
    estimate: number | null,
    ring: Ring,
  ) {
    this.#ring = ring;
    this.bytes = estimate ?? 0;
    if (estimate === null) {
      this.#json = serialise(seq);
      this.#serialise = null;
      this.bytes = Buffer.byteLength(this.#json);
    } else {
      this.#json = null;
      this.#serialise = serialise;
    }
  }

  get json(): string {
    if (this.#json === null) {
      this.#json = this.#serialise!(this.seq);
      this.#serialise = null;
      const real = Buffer.byteLength(this.#json);
      this.#ring.recharge(this, real - this.bytes);
      this.bytes = real;
    }
    return this.#json;
  }

  get serialised(): boolean { return this.#json !== null; }
}

/** What a pusher hands the ring: routing fields, how to build the text, and its size if known. */
export interface RingMessage {
  kind: LiveDataKind;
  siteId: string | null;
  family: Family | null;
  serialise: (seq: number) => string;
  /** Estimated wire bytes: the text is built lazily. Omitted: built now and measured. */
  estimate?: number;
  storeSeq?: number;
}

/**
 * The last N messages, in seq order, with consecutive seqs — so `get(seq)` is an index
 * computation, and "can this client resume from s?" is `s >= oldest - 1`.
 * Bounded by count and by bytes: a burst of large ticket messages can't grow the hub
 * past `maxBytes` however many clients lag. Unserialised entries count their estimate; the
 * difference is settled when they are serialised, and the bound enforced at the next push
 * (never while a session is reading).
 */
export class Ring {
  private readonly slots: (RingEntry | undefined)[];
  private start = 0;
  private length = 0;
  private totalBytes = 0;
  /** Last seq assigned (0 = none yet). */
  private headSeq = 0;

  constructor(readonly capacity: number, readonly maxBytes: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('ring capacity must be a positive integer');
    this.slots = new Array<RingEntry | undefined>(capacity);
  }

  get head(): number { return this.headSeq; }
  /** Oldest seq still held; head + 1 when empty. */
  get oldest(): number { return this.headSeq - this.length + 1; }
  get size(): number { return this.length; }
  get bytes(): number { return this.totalBytes; }

  /** Assigns the next seq and stores the message. */
  push(m: RingMessage): RingEntry {
    const seq = this.headSeq + 1;
    // Wire size; in memory V8 holds it in 1–2 bytes per character, the same order.
    const entry = new RingEntry(seq, m.kind, m.siteId, m.family, m.serialise, m.estimate ?? null, this);
    entry.storeSeq = m.storeSeq ?? null;
    if (this.length === this.capacity) this.dropOldest();
    this.slots[(this.start + this.length) % this.capacity] = entry;
    this.length++;
    this.totalBytes += entry.bytes;
    this.headSeq = seq;
    while (this.totalBytes > this.maxBytes && this.length > 1) this.dropOldest();
    return entry;
  }

  /** The entry with this seq, or undefined if evicted or not yet assigned. */
  get(seq: number): RingEntry | undefined {
    const oldest = this.oldest;
    if (seq < oldest || seq > this.headSeq) return undefined;
    return this.slots[(this.start + (seq - oldest)) % this.capacity];
  }

  /** True when every message after `seq` is still held (a client at `seq` can catch up). */
  canResumeFrom(seq: number): boolean {
    return seq >= this.oldest - 1 && seq <= this.headSeq;
  }

  /** An entry was serialised: its real size replaces the estimate (if it is still held). */
  recharge(e: RingEntry, delta: number): void {
    if (this.get(e.seq) === e) this.totalBytes += delta;
  }

  private dropOldest(): void {
    const e = this.slots[this.start];
    this.slots[this.start] = undefined;
    this.start = (this.start + 1) % this.capacity;
    this.length--;
    if (e) this.totalBytes -= e.bytes;
  }
}
