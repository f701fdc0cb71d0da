import type { Logger } from 'pino';
import { scheduleJob, type CronJob } from '../schedule/cron-job.ts';
import type { TicketService } from './ticket-service.ts';

export interface SlaCronOptions {
  tickets: TicketService;
  /** Runs after each sweep with the sweep's clock (the hub publishes today's KPIs here). */
  afterSweep?: (at: number) => Promise<void>;
  log: Logger;
  /** node-cron expression (SLA_SWEEP_CRON; its default lives in config.ts). */
  expression: string;
  now?: () => number;
}

/**
 * The SLA clock (DESIGN §6): a sweep (warn at 80 %, escalate when overdue), then `afterSweep`
 * (the hub wires today's KPIs on the bus, so the dashboard header stays current; tickets do
 * not import kpi). Both read little: the sweep only the tickets that may be due, the KPIs
 * today's tickets in full and older live ones as outlines.
 * `run()` does one pass at once; tests drive the clock through TicketService.sweepSla(now)
 * instead of waiting for the schedule.
 */
export function startSlaCron(opts: SlaCronOptions): CronJob {
  const now = opts.now ?? Date.now;
  const log = opts.log;
  return scheduleJob('sla-sweep', opts.expression, async () => {
    const at = now();
    const r = await opts.tickets.sweepSla(at);
    const fields = { candidates: r.candidates, actions: r.actions, written: r.written, stale: r.stale, ms: r.ms };
    if (r.actions > 0) log.info(fields, 'SLA sweep'); else log.debug(fields, 'SLA sweep');
    await opts.afterSweep?.(at);
  }, { log });
}
