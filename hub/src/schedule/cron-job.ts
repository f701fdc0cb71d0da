import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';

/** A node-cron task that can be run by hand and stopped cleanly (waits for a run in flight). */
export interface CronJob {
  readonly name: string;
  /** Runs the job now (tests, start-up catch-up); concurrent calls share one run. */
  run(): Promise<void>;
  /** No further runs; resolves when a run in progress has finished. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Schedules `fn` with node-cron (`expression` may have a seconds field: `*\/30 * * * * *`).
 * Runs never overlap — a slow sweep delays the next one instead of stacking — and a failing
 * run is logged, never thrown into the timer.
 */
export function scheduleJob(name: string, expression: string, fn: () => Promise<void>, opts: { log: Logger; timezone?: string }): CronJob {
  if (!cron.validate(expression)) throw new Error(`${name}: invalid cron expression ${JSON.stringify(expression)}`);
  const log = opts.log.child({ job: name });
  let inflight: Promise<void> | null = null;
  let stopped = false;
  const run = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    inflight ??= fn()
      .catch((err: unknown) => log.error({ err }, 'cron job failed'))
      .finally(() => { inflight = null; });
    return inflight;
  };
  const task: ScheduledTask = cron.schedule(expression, () => run(), {
    name, noOverlap: true, ...(opts.timezone ? { timezone: opts.timezone } : {}),
    // node-cron's own messages (missed runs…) go to the hub's log, not the console.
    logger: {
      info: (m) => log.debug(m), warn: (m) => log.warn(m),
      error: (m, err) => log.error({ err: err ?? m }, typeof m === 'string' ? m : 'node-cron error'),
      debug: (m) => log.debug({ msg: String(m) }),
    },
  });
  return {
    name,
    run,
    async stop() {
      stopped = true;
      await task.destroy();
      await inflight;
    },
  };
}
