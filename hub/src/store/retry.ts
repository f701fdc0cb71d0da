/** Error classification and back-off shared by the store's writers. */
import type { Logger } from 'pino';

/**
 * true when PostgreSQL refused the data itself (SQLSTATE class 22 "data exception", e.g. a NUL
 * byte in text, or 23 "integrity constraint violation"). Retrying the same rows cannot succeed,
 * so writers isolate and reject the offending item instead of retrying the batch forever.
 * Everything else (connection refused or terminated, database not accepting connections,
 * timeouts, out of resources, even unknown errors) is treated as transient and retried:
 * an accepted message is never dropped because of an outage.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** Capped exponential back-off with a little jitter so several writers don't retry in step. */
export class Backoff {
  #attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(base * (0.8 + Math.random() * 0.2));
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** A sleep that `cancel()` ends early (shutdown must not wait out a long back-off). */
export class CancellableSleep {
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#wake = undefined;
        resolve();
      }, ms);
    });
  }

  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * Health of one background writer: logs a warning once when an outage starts and an info line
 * when it ends, however many attempts fail in between.
 */
export class OutageTracker {
  #since: number | undefined;
  #lastError: string | null = null;
  #failures = 0;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
  ) {}

  get healthy(): boolean {
    return this.#since === undefined;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /** A write failed; `extra` goes on the warning that opens an outage. */
  failed(err: unknown, extra: Record<string, unknown> = {}): void {
    this.#lastError = errorText(err);
    this.#failures++;
    if (this.#since !== undefined) return;
    this.#since = Date.now();
    this.log.warn({ err: this.#lastError, ...extra }, `${this.what}: database write failed; retrying`);
  }

  /** A write succeeded: how long the outage it ends lasted (ms), or undefined when there was none. */
  succeeded(extra: Record<string, unknown> = {}): number | undefined {
    if (this.#since === undefined) return undefined;
    const outageMs = Date.now() - this.#since;
    this.log.info({ outageMs, failedAttempts: this.#failures, ...extra }, `${this.what}: database writes resumed`);
    this.#since = undefined;
    this.#lastError = null;
    this.#failures = 0;
    return outageMs;
  }
}
