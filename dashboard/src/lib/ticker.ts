import type { Family, StoredEvent } from './contract.ts';

/** `door.heartbeat`, `camera.heartbeat`, …: liveness only. */
export const isHeartbeat = (e: Pick<StoredEvent, 'type'>): boolean => e.type.endsWith('.heartbeat');

export const eventKey = (e: Pick<StoredEvent, 'siteId' | 'deviceId' | 'msgId'>) => `${e.siteId}/${e.deviceId}/${e.msgId}`;

/**
 * The live ticker's memory: the newest `cap` events, newest first, each once (the REST
 * backlog and the stream overlap right after a refresh). Plus a rate over a sliding window.
 */
export class EventTicker {
  private items: StoredEvent[] = [];
  private readonly keys = new Set<string>();
  private readonly tsMs = new WeakMap<StoredEvent, number>();
  private readonly arrivals: { at: number; n: number }[] = [];
  total = 0;

  constructor(readonly cap = 500, private readonly rateWindowMs = 5000) {}

  /** Adds events (any order); returns how many were new. */
  add(events: readonly StoredEvent[], nowMs = Date.now()): number {
    const fresh: StoredEvent[] = [];
    for (const e of events) {
      const k = eventKey(e);
      if (this.keys.has(k)) continue;
      this.keys.add(k);
      fresh.push(e);
    }
    if (!fresh.length) return 0;
    // Device time orders the list; a late, older message slots in where it belongs.
    for (const e of fresh) this.tsMs.set(e, Date.parse(e.ts));
    const ts = (e: StoredEvent) => this.tsMs.get(e) ?? 0;
    this.items = fresh.concat(this.items).sort((a, b) => ts(b) - ts(a)).slice(0, this.cap);
    if (this.keys.size > this.items.length) {
      this.keys.clear();
      for (const e of this.items) this.keys.add(eventKey(e));
    }
    this.total += fresh.length;
    this.arrivals.push({ at: nowMs, n: fresh.length });
    return fresh.length;
  }

  /**
   * The newest events of a family. Heartbeats are ~90 % of a quiet site's traffic and say only
   * "still alive" (presence shows that): left out unless asked for.
   */
  list(family: Family | 'all', limit: number, heartbeats = false): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (const e of this.items) {
      if ((family === 'all' || e.family === family) && (heartbeats || !isHeartbeat(e))) out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  has(key: string): boolean { return this.keys.has(key); }
  get size(): number { return this.items.length; }

  /** Events per second over the last window. */
  rate(nowMs = Date.now()): number {
    while (this.arrivals.length && nowMs - this.arrivals[0]!.at > this.rateWindowMs) this.arrivals.shift();
    const n = this.arrivals.reduce((s, a) => s + a.n, 0);
    return n / (this.rateWindowMs / 1000);
  }

  clear(): void {
    this.items = [];
    this.keys.clear();
  }
}
