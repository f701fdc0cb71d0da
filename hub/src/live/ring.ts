import type { Family, LiveDataKind } from '@shaobing/schemas';

/** One data message of the live feed, serialised once and shared by every connection. */
export interface RingEntry {
  seq: number;
  kind: LiveDataKind;
  /** null: concerns every site (e.g. a street-wide KPI snapshot). */
  siteId: string | null;
  /** Events and presence only; used by `subscribe {families}`. */
  family: Family | null;
  json: string;
  bytes: number;
}

/**
 * The last N messages, in seq order, with consecutive seqs — so `get(seq)` is an index
 * computation, and "can this client resume from s?" is `s >= oldest - 1`.
 * Bounded by count and by bytes: a burst of large ticket messages can't grow the hub
 * past `maxBytes` however many clients lag.
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

  /** Assigns the next seq and stores the message built for it. */
  push(build: (seq: number) => Omit<RingEntry, 'seq' | 'bytes'>): RingEntry {
    const seq = this.headSeq + 1;
    const e = build(seq);
    // Wire size; in memory V8 holds it in 1–2 bytes per character, the same order.
    const entry: RingEntry = { ...e, seq, bytes: Buffer.byteLength(e.json) };
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

  private dropOldest(): void {
    const e = this.slots[this.start];
    this.slots[this.start] = undefined;
    this.start = (this.start + 1) % this.capacity;
    this.length--;
    if (e) this.totalBytes -= e.bytes;
  }
}
