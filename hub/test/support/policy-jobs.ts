import type { Db } from '../../src/store/db.ts';
import { POLICY_PROCS } from '../../src/store/job-health.ts';
import { eventually } from './test-hub.ts';

/**
 * Makes a test database's TimescaleDB policy jobs (created by the migrations) go away for good,
 * for tests where the hub's own refresh/compression is under test and a second refresher would
 * race it. Pausing (alter_job scheduled => false) is not enough: the scheduler starts a new job
 * within milliseconds of its creation (during the migrations), and a worker already launched is
 * neither visible as 'Running' in job_stats nor stopped by the pause, so it can refresh beside
 * the test. delete_job removes the job (a worker that has not read it yet exits with "job not
 * found") and cancels a running one; then wait until no job worker is left on this database.
 */
export async function removePolicyJobs(db: Db): Promise<void> {
  if (!db.features.jobs) return;
  await db.query(`SELECT delete_job(job_id) FROM timescaledb_information.jobs WHERE proc_name = ANY($1::text[])`, [[...POLICY_PROCS]]);
  await eventually(async () => (await jobWorkers(db)).length === 0, 30_000, 50);
}

/** Background workers connected to this database other than TimescaleDB's scheduler (job runs). */
export async function jobWorkers(db: Db): Promise<string[]> {
  const rows = await db.query<{ backend_type: string }>(
    `SELECT backend_type FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()
        AND backend_type NOT IN ('client backend', 'autovacuum worker', 'TimescaleDB Background Worker Scheduler')`);
  return rows.map((r) => r.backend_type);
}
