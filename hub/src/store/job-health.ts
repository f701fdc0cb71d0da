import type { Db } from './db.ts';

/** A TimescaleDB background job that needs a look. */
export interface JobProblem {
  jobId: number;
  proc: string;
  /** Hypertable or continuous aggregate it acts on, if any. */
  target: string | null;
  problem: 'failed' | 'late';
  lastError: string | null;
  /** Last successful finish (ISO), null when it never succeeded. */
  lastSuccess: string | null;
}

/** The policy procedures the hub's migrations create (the ones maintenance may pause). */
export const POLICY_PROCS = ['policy_compression', 'policy_refresh_continuous_aggregate'] as const;

export interface JobStatRow {
  job_id: number;
  proc_name: string;
  hypertable_name: string | null;
  last_run_status: string | null;
  next_start: Date | null;
  last_successful_finish: Date | null;
  last_error: string | null;
}

/** A job this far past its next start is late (the scheduler is not running it). */
export const LATE_AFTER_MS = 10 * 60_000;

/** Pure: failed = last run failed; late = scheduled but overdue. Paused jobs are not problems. */
export function classifyJobs(rows: readonly JobStatRow[], now: number): JobProblem[] {
  const out: JobProblem[] = [];
  for (const r of rows) {
    const late = r.next_start !== null && now - r.next_start.getTime() > LATE_AFTER_MS;
    const problem = r.last_run_status === 'Failed' ? 'failed' : late ? 'late' : null;
    if (!problem) continue;
    out.push({
      jobId: r.job_id, proc: r.proc_name, target: r.hypertable_name, problem,
      lastError: r.last_error, lastSuccess: r.last_successful_finish ? r.last_successful_finish.toISOString() : null,
    });
  }
  return out;
}

/**
 * Reads timescaledb_information.job_stats with each job's latest error: scheduled jobs of this
 * database (policies and user jobs), not TimescaleDB's internal housekeeping.
 * Only meaningful where TimescaleDB runs jobs (features.jobs); [] elsewhere.
 */
export async function readJobProblems(db: Db, now: number): Promise<JobProblem[]> {
  if (!db.features.jobs) return [];
  const rows = await db.query<JobStatRow & Record<string, unknown>>(`
    -- ±infinity (never ran / never succeeded) would not come back as a Date: map it to NULL.
    SELECT j.job_id, j.proc_name, s.hypertable_name, s.last_run_status,
           CASE WHEN isfinite(s.next_start) THEN s.next_start END AS next_start,
           CASE WHEN isfinite(s.last_successful_finish) THEN s.last_successful_finish END AS last_successful_finish,
           (SELECT e.err_message FROM timescaledb_information.job_errors e
             WHERE e.job_id = j.job_id ORDER BY e.finish_time DESC NULLS LAST LIMIT 1) AS last_error
      FROM timescaledb_information.jobs j
      JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
     WHERE j.scheduled AND j.job_id >= 1000 -- below 1000: TimescaleDB's own (telemetry, job history)
     ORDER BY j.job_id`);
  return classifyJobs(rows, now);
}

/** Pauses or resumes the policy jobs of this database (the one-owner rule; see maintenance-owner.ts). */
export async function setPolicyJobsScheduled(db: Db, scheduled: boolean): Promise<number> {
  const rows = await db.query(
    `SELECT alter_job(job_id, scheduled => $1) FROM timescaledb_information.jobs WHERE proc_name = ANY($2::text[]) AND scheduled <> $1`,
    [scheduled, [...POLICY_PROCS]]);
  return rows.length;
}
