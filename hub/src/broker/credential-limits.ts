/**
 * Publish budget per credential (not per client id, so extra connections or reconnects buy
 * nothing): a token bucket of `ratePerSec` sustained with a burst of `burstS` seconds' worth.
 * A credential refused without a break of more than a second for `graceS` seconds is banned
 * for `banS`: its connections are closed and new ones refused.
 */
export type TakeResult = 'ok' | 'limited' | 'ban';

interface Bucket { tokens: number; at: number; overSince: number | null; lastRefusal: number; bannedUntil: number }

export interface CredentialLimitOptions { ratePerSec: number; burstS?: number; graceS: number; banS: number }

export class CredentialLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burstS: number;
  constructor(private readonly opts: CredentialLimitOptions) {
    this.burstS = opts.burstS ?? 2;
  }

  take(credential: string, cost: number, now: number): TakeResult {
    const cap = this.opts.ratePerSec * this.burstS;
    const b = this.buckets.get(credential) ?? { tokens: cap, at: now, overSince: null, lastRefusal: 0, bannedUntil: 0 };
    this.buckets.set(credential, b);
    b.tokens = Math.min(cap, b.tokens + ((now - b.at) / 1000) * this.opts.ratePerSec);
    b.at = now;
    if (b.tokens >= cost) {
      b.tokens -= cost;
      if (b.overSince !== null && now - b.lastRefusal > 1000) b.overSince = null;
      return 'ok';
    }
    if (b.overSince === null || now - b.lastRefusal > 1000) b.overSince = now;
    b.lastRefusal = now;
    if (now - b.overSince >= this.opts.graceS * 1000) {
      b.bannedUntil = now + this.opts.banS * 1000;
      b.overSince = null;
      return 'ban';
    }
    return 'limited';
  }

  /** Milliseconds of ban left, 0 when the credential may connect. */
  bannedFor(credential: string, now: number): number {
    const b = this.buckets.get(credential);
    return b && b.bannedUntil > now ? b.bannedUntil - now : 0;
  }
}
