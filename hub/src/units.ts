import type { Logger } from 'pino';

/**
 * The hub's running parts in the order they started. Each part is started through `start`,
 * which records how to stop it at the same moment, so no part can be started and then left
 * out of shutdown; `stopAll` stops them last-started first (listeners before the writers they
 * feed, writers before the store). A start that throws stops what had started, in reverse.
 */
export class Units {
  readonly #running: { name: string; stop: () => Promise<void> | void }[] = [];
  #stopping: Promise<void> | null = null;

  constructor(private readonly log: Logger) {}

  /** Names of the running parts, first started first. */
  get running(): string[] {
    return this.#running.map((u) => u.name);
  }

  async start<T>(name: string, start: () => Promise<T> | T, stop: (it: T) => Promise<void> | void): Promise<T> {
    if (this.#stopping) throw new Error(`cannot start ${name}: the hub is stopping`);
    const it = await start();
    this.#running.push({ name, stop: () => stop(it) });
    return it;
  }

  /** Stops every running part in reverse start order; a part that fails to stop is logged and the rest still stop. Idempotent. */
  stopAll(): Promise<void> {
    return (this.#stopping ??= (async () => {
      const failed: string[] = [];
      for (let u = this.#running.pop(); u !== undefined; u = this.#running.pop()) {
        const t0 = performance.now();
        try {
          await u.stop();
          // Which part a slow shutdown waits on (docker stop gives 10 s before SIGKILL).
          this.log.info({ unit: u.name, ms: Math.round(performance.now() - t0) }, 'unit stopped');
        } catch (err) {
          failed.push(u.name);
          this.log.error({ err, unit: u.name }, 'unit failed to stop');
        }
      }
      if (failed.length > 0) throw new Error(`units failed to stop: ${failed.join(', ')}`);
    })());
  }
}
