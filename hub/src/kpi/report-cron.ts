import type { Logger } from 'pino';
import { scheduleJob, type CronJob } from '../schedule/cron-job.ts';
import type { KpiService } from './kpi-service.ts';
import type { ReportKind } from './periods.ts';

/**
 * When each report of the last complete period is made, in TZ_REPORTS: a few minutes after
 * midnight so tickets resolved at 23:59 are in; staggered so the jobs don't run together.
 */
export const REPORT_SCHEDULES: Record<ReportKind, string> = {
  daily: '5 0 * * *',     // 日监控排名: every day 00:05, for yesterday
  weekly: '10 0 * * 1',   // 周调度分析: Monday 00:10, for last Monday–Sunday
  monthly: '15 0 1 * *',  // 月总结通报: the 1st 00:15, for last month
};

/** The per-day KPI rollup's refresh: every 5 minutes, and 00:01 for the day just complete. */
export const KPI_ROLLUP_SCHEDULE = '1-59/5 * * * *';

export interface ReportCron {
  /** Generates the due report of `kind` now (what the schedule does). */
  run(kind: ReportKind | 'rollup'): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Daily/weekly/monthly KPI reports, stored in `reports`. At start, any last period without a
 * report (the hub was down at its time) is made in the background.
 */
export function startReportCron(opts: { kpi: KpiService; log: Logger; now?: () => number }): ReportCron {
  const now = opts.now ?? Date.now;
  const jobs = new Map<ReportKind | 'rollup', CronJob>();
  for (const kind of Object.keys(REPORT_SCHEDULES) as ReportKind[]) {
    jobs.set(kind, scheduleJob(`report-${kind}`, REPORT_SCHEDULES[kind], async () => {
      await opts.kpi.generateDue(kind, now());
    }, { log: opts.log, timezone: opts.kpi.tz }));
  }
  // The per-day KPI rollup (kpi-rollup.ts): reads refresh what they need, this keeps that little.
  const rollup = scheduleJob('kpi-rollup', KPI_ROLLUP_SCHEDULE, async () => {
    const r = await opts.kpi.refreshRollup(now());
    if (r.days > 0) opts.log.debug({ days: r.days }, 'KPI rollup refreshed');
  }, { log: opts.log, timezone: opts.kpi.tz });
  jobs.set('rollup', rollup);
  const catchUp = opts.kpi.catchUp(now())
    .then((n) => { if (n > 0) opts.log.info({ reports: n }, 'missed KPI reports generated'); })
    .catch((err: unknown) => opts.log.error({ err }, 'KPI report catch-up failed'));
  return {
    run: (kind) => jobs.get(kind)!.run(),
    async stop() {
      await Promise.all([...jobs.values()].map((j) => j.stop()));
      await catchUp;
    },
  };
}
