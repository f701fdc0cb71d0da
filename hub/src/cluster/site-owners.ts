import type { Logger } from 'pino';
import { HubBus } from '../bus.ts';
import type { IngestedEvent } from '../events.ts';
import { RuleEngine, type DecisionSink } from '../rules/rule-engine.ts';
import type { Registry } from '../site/registry.ts';
import type { Queryable } from '../store/db.ts';
import { FencedOut, type FenceCheck } from './fence.ts';

interface Owned {
  engine: RuleEngine;
  /** The engine's own feed: only the event tail emits here, never the hub's ingest. */
  bus: HubBus;
  live: boolean;
  /** Tail events that arrived while the engine restored. */
  buffer: IngestedEvent[];
  /** Keys of the events the engine's restore read, so the buffer does not feed them twice. */
  replayed: Set<string>;
  /** Stops the site's registry view from following the hub's registry. */
  closeView: () => void;
}

const keyOf = (e: { siteId: string; deviceId: string; msgId: string; ts: number }) => `${e.siteId}\u0000${e.deviceId}\u0000${e.msgId}\u0000${e.ts}`;

/**
 * Rules of the sites this hub holds the lease of, one RuleEngine per site (its snapshot row is
 * `rules:<site>`, so whichever hub owns the site next resumes from it). Each engine is fed by
 * the event tail — every hub's stored events, in commit order — so a count or duration never
 * splits between the hubs that happened to ingest its events. On `gained` the engine restores
 * (snapshot + replay of what came after, or a rebuild) with the existing rules code; on `lost`
 * it stops being fed at once.
 */
export class SiteRuleOwners {
  private readonly sites = new Map<string, Owned>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: {
    db: Queryable; registry: Registry; sink: DecisionSink; log: Logger; rulesFile: string | null; tickMs: number; now?: () => number;
    onOwned?: (siteId: string, ms: number) => void;
    /** The site lease's fencing check at the epoch held now; null = not fenced (local leases). */
    fenceOf?: (siteId: string) => FenceCheck | null;
    /** The ticket sink whose writes run a fence check in their transaction (TicketService.fenced). */
    fencedSink?: (check: FenceCheck) => DecisionSink;
  }) {}

  /** Sites whose ticket writes the database refused because a newer owner holds them. */
  readonly fencedOut: string[] = [];

  owned(): string[] {
    return [...this.sites.entries()].filter(([, o]) => o.live).map(([s]) => s);
  }

  /** This hub holds the site's lease (its engine may still be restoring). */
  owns(siteId: string): boolean {
    return this.sites.has(siteId);
  }

  gained(siteId: string): void {
    if (this.sites.has(siteId) || !this.opts.registry.sites.has(siteId)) return;
    const t0 = Date.now();
    const replayed = new Set<string>();
    const bus = new HubBus();
    const view = this.opts.registry.siteView(siteId); // follows registry changes (devices added live)
    const fence = this.opts.fenceOf?.(siteId) ?? null;
    const engine = new RuleEngine({
      db: capturing(this.opts.db, replayed, fence), registry: view.registry,
      bus, sink: fence ? this.fencedSink(siteId, fence) : this.opts.sink, log: this.opts.log.child({ site: siteId }), rulesFile: this.opts.rulesFile, tickMs: this.opts.tickMs,
      ...(this.opts.now ? { now: this.opts.now } : {}),
    });
    const owned: Owned = { engine, bus, live: false, buffer: [], replayed, closeView: view.close };
    this.sites.set(siteId, owned);
    this.chain = this.chain.then(async () => {
      if (this.sites.get(siteId) !== owned) return; // lost before it started
      await engine.start();
      if (this.sites.get(siteId) !== owned) { await engine.stop(); return; }
      const rest = owned.buffer.filter((e) => !replayed.has(keyOf(e)));
      owned.buffer = [];
      owned.live = true;
      replayed.clear();
      if (rest.length) bus.emit('events.stored', rest);
      this.opts.log.info({ site: siteId, ms: Date.now() - t0, buffered: rest.length }, 'site owned: rules running here');
      this.opts.onOwned?.(siteId, Date.now() - t0);
    }).catch((err: Error) => {
      this.opts.log.error({ err, site: siteId }, 'site rules failed to start');
      if (this.sites.get(siteId) === owned) { this.sites.delete(siteId); owned.closeView(); }
    });
  }

  /**
   * Decisions of this site written under its fencing token. A refused write means another hub
   * owns the site now (this one was paused or cut off and has not noticed yet): the site stops
   * here, and the refused decisions are dropped — the new owner replays the same events.
   */
  private fencedSink(siteId: string, fence: FenceCheck): DecisionSink {
    let refused: FencedOut | null = null;
    const inner = this.opts.fencedSink!(async (tx) => {
      try { await fence(tx); } catch (err) { if (err instanceof FencedOut) refused = err; throw err; }
    });
    return {
      applyDecisions: async (decisions, now) => {
        if (refused) return { failed: 0 };
        const r = await inner.applyDecisions(decisions, now);
        if (!refused) return r;
        this.opts.log.warn({ site: siteId, err: (refused as FencedOut).message }, 'ticket writes refused by the database: a newer owner holds the site');
        this.fencedOut.push(siteId);
        void this.lost(siteId);
        return { failed: 0 };
      },
      liveDedupKeys: (siteIds) => inner.liveDedupKeys(siteIds),
    };
  }

  /** Resolves when the site's engine has stopped (final snapshot written). */
  lost(siteId: string): Promise<void> {
    const owned = this.sites.get(siteId);
    if (!owned) return Promise.resolve();
    this.sites.delete(siteId); // fed nothing more from now on
    owned.closeView();
    this.opts.log.warn({ site: siteId }, 'site lease lost: rules stop here');
    this.chain = this.chain.then(() => owned.engine.stop()).catch((err: Error) => this.opts.log.error({ err, site: siteId }, 'stopping site rules failed'));
    return this.chain;
  }

  /** The event tail's sink. */
  deliver(events: IngestedEvent[]): void {
    const bySite = new Map<string, IngestedEvent[]>();
    for (const e of events) {
      if (!this.sites.has(e.siteId)) continue;
      (bySite.get(e.siteId) ?? bySite.set(e.siteId, []).get(e.siteId)!).push(e);
    }
    for (const [siteId, list] of bySite) {
      const owned = this.sites.get(siteId)!;
      if (owned.live) owned.bus.emit('events.stored', list);
      else owned.buffer.push(...list);
    }
  }

  /** Waits for starts/stops in progress and every engine's queue. */
  async idle(): Promise<void> {
    await this.chain;
    await Promise.all([...this.sites.values()].map((o) => o.engine.idle()));
  }

  async stop(): Promise<void> {
    await this.chain;
    const all = [...this.sites.values()];
    this.sites.clear();
    await Promise.all(all.map((o) => o.engine.stop()));
  }
}

/**
 * A Queryable that remembers the keys of the event rows it returned (the engine's restore
 * reads) and, fenced, skips the rule-state snapshot once a newer owner holds the site.
 */
function capturing(db: Queryable, into: Set<string>, fence: FenceCheck | null): Queryable {
  return {
    async query<R extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]> {
      if (fence && /^\s*INSERT INTO rule_state\b/.test(sql)) {
        try { await fence(db); } catch (err) { if (err instanceof FencedOut) return []; throw err; }
      }
      const rows = await db.query<R>(sql, params);
      if (/\bFROM events\b/.test(sql)) {
        for (const r of rows) {
          if (r.msg_id !== undefined && r.ts instanceof Date) into.add(keyOf({ siteId: String(r.site_id), deviceId: String(r.device_id), msgId: String(r.msg_id), ts: r.ts.getTime() }));
        }
      }
      return rows;
    },
  };
}
