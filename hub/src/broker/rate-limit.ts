/**
 * Token bucket per MQTT client: `ratePerSec` publishes sustained, with a burst of 2 s worth.
 * (A gateway batch counts once; batches are capped at MAX_BATCH_ITEMS.)
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly ratePerSec: number, private readonly burstS = 2) {}

  take(key: string, cost: number, now: number): boolean {
    const cap = this.ratePerSec * this.burstS;
    const b = this.buckets.get(key) ?? { tokens: cap, at: now };
    b.tokens = Math.min(cap, b.tokens + ((now - b.at) / 1000) * this.ratePerSec);
    b.at = now;
    const ok = b.tokens >= cost;
    if (ok) b.tokens -= cost;
    this.buckets.set(key, b);
    return ok;
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }
}
