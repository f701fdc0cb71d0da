import type { StoreFeatures } from './db.ts';

/** Who runs chart refresh and chunk compression: the hub's cron, or TimescaleDB's policy jobs. */
export type MaintenanceOwner = 'hub' | 'database';

export interface OwnerDecision {
  owner: MaintenanceOwner;
  /** Why, for the log and /healthz. */
  reason: string;
  /** Pause (false) or resume (true) the database's policy jobs; null: leave them as they are. */
  policyJobsScheduled: boolean | null;
}

/**
 * One owner per job. STORE_MAINTENANCE wins when the database can honour it; unset, the
 * database owns when it runs working policy jobs (a licensed server), the hub otherwise (PGlite
 * runs no background jobs). When the owner is the database but its policy jobs keep failing,
 * the hub covers for them without pausing them (so their recovery is seen) and /healthz says
 * degraded until an operator chooses (STORE_MAINTENANCE=hub pauses them).
 */
export function decideOwner(configured: MaintenanceOwner | null, features: StoreFeatures, policyJobsFailing: boolean): OwnerDecision {
  if (!features.licensed) return { owner: 'hub', reason: features.hypertables ? 'apache-only license: no policies (hub applies retention only)' : 'no timescaledb: hub applies retention only', policyJobsScheduled: null };
  if (!features.jobs) return { owner: 'hub', reason: 'embedded store runs no background jobs', policyJobsScheduled: null };
  if (configured === 'hub') return { owner: 'hub', reason: 'STORE_MAINTENANCE=hub: policy jobs paused', policyJobsScheduled: false };
  if (configured === 'database') return { owner: 'database', reason: 'STORE_MAINTENANCE=database', policyJobsScheduled: true };
  if (policyJobsFailing) return { owner: 'hub', reason: 'policy jobs failing: hub covers (set STORE_MAINTENANCE=hub to pause them)', policyJobsScheduled: null };
  return { owner: 'database', reason: 'timescaledb policy jobs', policyJobsScheduled: null };
}
