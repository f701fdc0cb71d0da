/**
 * Collects items and hands them over once per animation frame, so 200 live messages a second
 * cost ~60 DOM updates, not 200. Background tabs get no frames: a timer flushes anyway, so
 * the queue can't pile up while the screen is hidden.
 */
export class FrameBatcher<T> {
  private queue: T[] = [];
  private frame: number | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly apply: (items: T[]) => void,
    private readonly fallbackMs = 250,
    private readonly raf: ((cb: () => void) => number) | null = typeof requestAnimationFrame === 'function' ? (cb) => requestAnimationFrame(cb) : null,
  ) {}

  push(...items: T[]): void {
    this.queue.push(...items);
    if (this.frame === null && this.raf) this.frame = this.raf(() => this.flush());
    if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.fallbackMs);
  }

  flush(): void {
    if (this.frame !== null && typeof cancelAnimationFrame === 'function') cancelAnimationFrame(this.frame);
    if (this.timer !== null) clearTimeout(this.timer);
    this.frame = null;
    this.timer = null;
    if (!this.queue.length) return;
    const items = this.queue;
    this.queue = [];
    this.apply(items);
  }

  get pending(): number { return this.queue.length; }
}
