/**
 * Bounds dead-letter rows under a flood: per source and reason, at most `perWindow` rows per
 * `windowMs`; the rest are only counted (metrics stay exact) and the next row written for that
 * source and reason says how many were left out.
 */
export class DeadLetterBudget {
  private readonly windows = new Map<string, { start: number; written: number; suppressed: number }>();
  constructor(private readonly perWindow = 20, private readonly windowMs = 10_000) {}

  /** null: count only, do not write; otherwise how many similar rows were left out before this one. */
  admit(source: string, reason: string, now: number): number | null {
    const key = `${reason}\u0000${source}`;
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      const suppressed = w?.suppressed ?? 0;
      if (this.windows.size >= 10_000) this.prune(now);
      w = { start: now, written: 0, suppressed };
      this.windows.set(key, w);
    }
    if (w.written >= this.perWindow) {
      w.suppressed++;
      return null;
    }
    w.written++;
    const left = w.suppressed;
    w.suppressed = 0;
    return left;
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }
}
