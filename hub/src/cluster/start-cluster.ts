import type { Logger } from 'pino';
import type { HubConfig } from '../config.ts';
import type { IngestedEvent } from '../events.ts';
import type { DecisionSink } from '../rules/rule-engine.ts';
import type { Registry } from '../site/registry.ts';
import type { Db } from '../store/db.ts';
import { EventTail } from './event-tail.ts';
import { fenceCheck, type FenceCheck } from './fence.ts';
import { resolveHubId } from './hub-id.ts';
import { LeasedJob, type Stoppable } from './leased-job.ts';
import { LocalLeases, PgAdvisoryLeases, type Leases } from './leases.ts';
import { SiteRuleOwners } from './site-owners.ts';

// Store maintenance is not leased: each hub runs it, and a concurrent refresh is benign
// (store/aggregates.ts); retention is idempotent.
export type ClusterJob = 'sla' | 'reports';

export interface Cluster {
  readonly hubId: string;
  /** HUB_ID was set: broker sessions may be persistent. */
  readonly stableId: boolean;
  readonly clustered: boolean;
  readonly leases: Leases;
  /** Per-site rule engines (clustered only; null when the hub's own engine covers every site). */
  readonly owners: SiteRuleOwners | null;
  /** Starts the event tail (once): before the live feed serves anyone, so its positions hold. */
  startTail(): Promise<void>;
  /** Starts the event tail, then competes for the leases (embedded: takes them all). */
  startLeases(): Promise<void>;
  /** A cluster-once job ran here (clustered: logged, so "once per period" can be checked across hubs). */
  ran(job: ClusterJob, at: number): void;
  /** Polls the event tail now (another hub's NOTIFY). */
  wakeTail(): void;
  /** Every ingest_seq at or below this has been delivered by the event tail (0 before it starts; clustered only). */
  eventFloor(): number;
  /** Stops the cluster-once jobs (waits for a run in flight). */
  stopJobs(): Promise<void>;
  stop(): Promise<void>;
}

const SITE = 'site:';

/**
 * Leases of this hub: one per site it may serve (CLUSTER_SITES) and one per cluster-once job.
 * Clustered (external broker and a database server): PostgreSQL advisory locks, site rules in
 * per-site engines fed by the event tail. Otherwise every lease is local: the hub's own rule
 * engine serves every site and the jobs run here, as before.
 */
export async function startCluster(opts: {
  config: HubConfig; db: Db; registry: Registry; sink: DecisionSink; log: Logger; clustered: boolean;
  jobs: Record<ClusterJob, () => Stoppable>; now?: () => number;
  /** The ticket sink of a fenced site owner (TicketService.fenced); without it, writes are not fenced. */
  fencedSink?: (check: FenceCheck) => DecisionSink;
  /** Every event any hub stored, in commit order (clustered only): presence is fed from here. */
  onEvents?: (events: IngestedEvent[]) => void;
}): Promise<Cluster> {
  const { config, log } = opts;
  const { id: hubId, stable } = resolveHubId(config.hubId);
  const serve = [...opts.registry.sites.keys()].filter((s) => config.clusterSites === 'all' || config.clusterSites.includes(s));
  const jobs = (Object.keys(opts.jobs) as ClusterJob[]).map((name) => new LeasedJob(`job:${name}`, opts.jobs[name]));
  const names = [...jobs.map((j) => j.lease), ...(opts.clustered ? serve.map((s) => SITE + s) : [])];
  const pgLeases = opts.clustered
    ? new PgAdvisoryLeases({ url: config.databaseUrl!, hubId, names, pollMs: config.leasePollMs, log, balanced: (n) => n.startsWith(SITE), ...(config.leaseTtlMs !== null ? { ttlMs: config.leaseTtlMs } : {}) })
    : null;
  const leases: Leases = pgLeases ?? new LocalLeases(names);
  const owners = opts.clustered
    ? new SiteRuleOwners({ db: opts.db, registry: opts.registry, sink: opts.sink, log: log.child({ component: 'site-rules' }), rulesFile: config.rulesFile, tickMs: config.ruleTickMs, ...(opts.now ? { now: opts.now } : {}),
      ...(opts.fencedSink ? { fencedSink: opts.fencedSink } : {}),
      fenceOf: (siteId) => { const epoch = leases.epochOf(SITE + siteId); return epoch === null ? null : fenceCheck(SITE + siteId, epoch, { idleMs: pgLeases?.ttlMs }); },
    })
    : null;
  const tail = owners ? new EventTail({ db: opts.db, pollMs: Math.min(250, config.leasePollMs), log: log.child({ component: 'event-tail' }), deliver: (e) => { owners.deliver(e); opts.onEvents?.(e); } }) : null;
  let tailStarted = false;
  const startTail = async (): Promise<void> => {
    if (tailStarted) return;
    tailStarted = true;
    await tail?.start();
  };
  log.info({ hubId, stableId: stable, clustered: opts.clustered, sites: opts.clustered ? serve : 'all (local)' }, 'cluster identity');

  return {
    hubId, stableId: stable, clustered: opts.clustered, leases, owners,
    startTail,
    async startLeases() {
      await startTail();
      await leases.start({
        gained: (name) => (name.startsWith(SITE) ? owners?.gained(name.slice(SITE.length)) : jobs.find((j) => j.lease === name)?.gained()),
        lost: (name) => (name.startsWith(SITE) ? owners?.lost(name.slice(SITE.length)) : jobs.find((j) => j.lease === name)?.lost()),
      });
    },
    wakeTail() {
      tail?.wake();
    },
    eventFloor() {
      return tail?.position.floor ?? 0;
    },
    ran(job, at) {
      if (opts.clustered) log.info({ job, at: new Date(at).toISOString() }, 'cluster-once job ran');
    },
    async stopJobs() {
      await Promise.all(jobs.map((j) => j.stop()));
    },
    async stop() {
      await tail?.stop();
      // The last batches committed after the broker closed: hand them to the site engines so
      // their final snapshots cover them (the next owner replays only what comes after).
      await tail?.poll().catch((err: Error) => log.warn({ err: err.message }, 'last event tail read failed'));
      await owners?.stop();
      await leases.stop();
    },
  };
}
