/**
 * Password guessing limit, per username and per source address, for MQTT and HTTP logins.
 * An attempt is counted when it starts (before the asynchronous password check) and forgiven
 * when it succeeds, so parallel attempts cannot all slip past the check.
 */
export interface LoginThrottleOptions { perUser: number; perSource: number; windowMs: number }

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = { perUser: 5, perSource: 20, windowMs: 60_000 };

export class LoginThrottle {
  private readonly attempts = new Map<string, number[]>();
  constructor(private readonly opts: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE) {}

  /** Records an attempt; returns a token to pass to `succeeded`, or null if the attempt is refused unchecked. */
  begin(username: string, source: string, now: number): { at: number; keys: string[] } | null {
    const keys = [`u:${username}`, `s:${source}`];
    const limits = [this.opts.perUser, this.opts.perSource];
    if (keys.some((k, i) => this.recent(k, now).length >= limits[i]!)) return null;
    for (const k of keys) this.recent(k, now).push(now);
    this.prune(now);
    return { at: now, keys };
  }

  /** A correct password: the attempt no longer counts. */
  succeeded(attempt: { at: number; keys: string[] }): void {
    for (const k of attempt.keys) {
      const times = this.attempts.get(k);
      const i = times?.indexOf(attempt.at) ?? -1;
      if (times && i >= 0) times.splice(i, 1);
    }
  }

  private recent(key: string, now: number): number[] {
    const times = (this.attempts.get(key) ?? []).filter((t) => now - t < this.opts.windowMs);
    this.attempts.set(key, times);
    return times;
  }

  /** Keeps the map bounded under a spray of usernames. */
  private prune(now: number): void {
    if (this.attempts.size < 10_000) return;
    for (const [k, times] of this.attempts) if (times.every((t) => now - t >= this.opts.windowMs)) this.attempts.delete(k);
  }
}
