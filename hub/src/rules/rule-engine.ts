import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Family, RuleDecision } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { HubBus } from '../bus.ts';
import type { IngestedEvent } from '../events.ts';
import type { Registry } from '../site/registry.ts';
import type { Queryable } from '../store/db.ts';
import { Backoff } from '../store/retry.ts';
import { DecisionLanes } from './decision-lanes.ts';
import { emptyState, evaluate, historyWindowMs, offlineAfterMs, rebuildState, RuleError, type CompiledRules, type RuleFailure, type RuleState } from './core/index.ts';
import { eventsByTs, eventsReceivedAfter, firstReceivedAt } from './event-rows.ts';
import { loadRules } from './load-rules.ts';
import { RuleStateStore } from './state-store.ts';

/** How long after a restart with downtime the engine waits before judging silences. */
export const STARTUP_GRACE_MS = 60_000;

/** Where decisions go: the ticket service. */
export interface DecisionSink {
  /** Idempotent per evidence event, so a batch may be sent again; `failed` > 0 asks for that. */
  applyDecisions(decisions: RuleDecision[], now: number): Promise<{ failed: number } | void>;
  /** Dedup keys of live tickets, so a rebuild re-asserts only episodes that lack one. */
  liveDedupKeys(siteIds: string[]): Promise<Iterable<string>>;
}

export interface RuleEngineOptions {
  db: Queryable;
  registry: Registry;
  bus: HubBus;
  sink: DecisionSink;
  log: Logger;
  rulesFile: string | null;
  tickMs?: number;
  snapshotMs?: number;
  /** Upper bound on events replayed at start-up (a street's 24 h can be millions). */
  maxReplayEvents?: number;
  now?: () => number;
}

/**
 * The rule layer's I/O shell: feeds committed events and clock ticks through the pure core in
 * one serial queue, hands decisions to the ticket service (in event order per dedup key, keys
 * side by side: decision-lanes.ts), hot-reloads RULES_FILE, and snapshots state so a restart
 * resumes mid-window.
 */
export class RuleEngine {
  private rules!: CompiledRules;
  private state: RuleState = emptyState();
  private watermark = 0;
  /** Ticks are skipped until then (start-up grace after downtime). */
  private quietUntil = 0;
  private stopping = false;
  /** A tick is already waiting in the queue: don't pile up more behind a slow step. */
  private tickQueued = false;
  /** The devices or the rules changed since the last tick: visit every device (new ones start being watched). */
  private fullScan = true;
  private unwatchRegistry: (() => void) | null = null;
  private queue: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private watcher: FSWatcher | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly store: RuleStateStore;
  private readonly lanes = new DecisionLanes((d, now) => this.applyNow(d, now), (err) => this.opts.log.error({ err }, 'rule decisions failed'));
  private readonly siteIds: string[];
  private readonly now: () => number;
  readonly stats = { events: 0, ticks: 0, decisions: 0, reloads: 0, failedReloads: 0, ruleFailures: 0 };

  constructor(private readonly opts: RuleEngineOptions) {
    this.siteIds = [...opts.registry.sites.keys()].sort();
    this.store = new RuleStateStore(opts.db, `rules:${this.siteIds.join(',')}`);
    this.now = opts.now ?? Date.now;
  }

  get compiled(): CompiledRules {
    return this.rules;
  }

  /** The running rules' offline silence for a site's family (presence reads it; follows reloads). */
  offlineAfterMs(siteId: string, family: Family): number | undefined {
    return offlineAfterMs(this.rules, siteId, family);
  }

  async start(): Promise<void> {
    this.rules = await loadRules(this.opts.rulesFile);
    await this.restore();
    this.unwatchRegistry = this.opts.registry.onChange(() => { this.fullScan = true; });
    this.unsubscribe = this.opts.bus.on('events.stored', (events) => this.enqueue(() => this.onEvents(events)), 'rules');
    const tickMs = this.opts.tickMs ?? 1000;
    this.timers.push(setInterval(() => {
      if (this.tickQueued) return;
      this.tickQueued = true;
      this.enqueue(() => { this.tickQueued = false; return this.tick(this.now()); });
    }, tickMs));
    this.timers.push(setInterval(() => this.enqueue(() => this.snapshot()), this.opts.snapshotMs ?? 10_000));
    for (const t of this.timers) t.unref();
    if (this.opts.rulesFile) this.watchRulesFile(this.opts.rulesFile);
  }

  /** Stops timers and the file watcher, drains the queue and writes a final snapshot. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.watcher?.close();
    this.unsubscribe?.();
    this.unwatchRegistry?.();
    this.enqueue(() => this.snapshot());
    await this.idle();
  }

  /** Runs a tick now (tests drive durations with it and a controllable clock). */
  async tickNow(now = this.now()): Promise<void> {
    this.enqueue(() => this.tick(now));
    await this.idle();
  }

  /** Waits until everything queued so far was evaluated and its decisions applied. */
  async idle(): Promise<void> {
    await this.queue;
    await this.lanes.idle();
  }

  /** Re-reads RULES_FILE; an invalid file is refused and the running rules stay in force. */
  async reload(): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      const next = await loadRules(this.opts.rulesFile);
      this.enqueue(async () => { this.rules = next; this.fullScan = true; }); // swapped between two evaluations, never during one
      await this.queue;
      this.stats.reloads++;
      this.opts.log.info({ rulesFile: this.opts.rulesFile }, 'rules reloaded');
      return { ok: true };
    } catch (err) {
      this.stats.failedReloads++;
      const error = err instanceof RuleError ? err.message : `cannot read rules file: ${(err as Error).message}`;
      this.opts.log.error({ rulesFile: this.opts.rulesFile, error }, 'rules file rejected; previous rules stay in force');
      return { ok: false, error };
    }
  }

  private enqueue(step: () => Promise<void>): void {
    this.queue = this.queue.then(step).catch((err: Error) => this.opts.log.error({ err }, 'rule step failed'));
  }

  private async onEvents(events: IngestedEvent[]): Promise<void> {
    const now = this.now();
    const decisions: RuleDecision[] = [];
    for (const event of events) {
      const device = this.opts.registry.device(event.siteId, event.deviceId);
      if (!device) continue;
      const result = evaluate(this.rules, this.state, { kind: 'event', event, device }, now);
      decisions.push(...result.decisions);
      if (result.failures) this.ruleFailed(result.failures, { siteId: event.siteId, deviceId: event.deviceId, msgId: event.msgId });
      if (event.receivedAt > this.watermark) this.watermark = event.receivedAt;
    }
    this.stats.events += events.length;
    await this.apply(decisions, now);
  }

  private async tick(now: number): Promise<void> {
    if (now < this.quietUntil) return;
    this.stats.ticks++;
    const fullScan = this.fullScan;
    this.fullScan = false;
    const result = evaluate(this.rules, this.state, { kind: 'tick', now, devices: this.opts.registry.allDevices(), fullScan }, now);
    if (result.failures) this.ruleFailed(result.failures, { tick: now });
    await this.apply(result.decisions, now);
  }

  /** A rule threw: counted and logged per rule; the other rules' decisions were kept. */
  private ruleFailed(failures: RuleFailure[], input: Record<string, unknown>): void {
    this.stats.ruleFailures += failures.length;
    for (const f of failures) this.opts.log.error({ ruleId: f.ruleId, error: f.error, ...input }, 'rule evaluation threw; the other rules went on');
  }

  /**
   * Hands decisions to their dedup keys' lanes; waits only when too many are still unapplied
   * (a database that stopped taking tickets): that holds the queue — later events and ticks
   * wait — which is the backpressure we want.
   */
  private async apply(decisions: RuleDecision[], now: number): Promise<void> {
    if (decisions.length === 0) return;
    this.stats.decisions += decisions.length;
    await this.lanes.push(decisions, now);
  }

  /**
   * One dedup key's decisions. The core has already marked these episodes open, so a decision
   * lost here would never fire again: when ticket writes fail (database down), retry with
   * back-off; the key's later decisions wait behind.
   */
  private async applyNow(decisions: RuleDecision[], now: number): Promise<void> {
    const backoff = new Backoff(250, 30_000);
    for (let attempt = 0; ; attempt++) {
      const result = await this.opts.sink.applyDecisions(decisions, now);
      if (!result || result.failed === 0) return;
      if (this.stopping && attempt >= 2) {
        this.opts.log.error({ failed: result.failed }, 'ticket writes still failing at shutdown; the next start re-asserts open episodes');
        return;
      }
      const waitMs = backoff.next();
      this.opts.log.warn({ failed: result.failed, attempt, waitMs }, 'ticket writes failed; retrying the decisions');
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  private async snapshot(): Promise<void> {
    if (this.watermark === 0) return;
    // The state marks episodes open whose tickets may still be in a lane: a snapshot taken
    // before they land would, after a crash, resume with those tickets never written.
    await this.lanes.idle();
    await this.store.save(this.state, this.watermark, this.now());
  }

  /**
   * Start-up: resume from the last snapshot and replay the events received after it; with no
   * usable snapshot, rebuild from the history window the rules need (bounded).
   */
  private async restore(): Promise<void> {
    const now = this.now();
    const window = historyWindowMs(this.rules);
    const limit = this.opts.maxReplayEvents ?? 200_000;
    const snap = await this.store.load();
    if (snap && now - snap.watermark < window) {
      this.state = snap.state;
      this.watermark = snap.watermark;
      const tail = await eventsReceivedAfter(this.opts.db, this.siteIds, snap.watermark, limit);
      await this.onEvents(tail);
      // After downtime, devices need a moment to reconnect before silence means "offline".
      if (now - snap.savedAt > STARTUP_GRACE_MS) this.quietUntil = now + STARTUP_GRACE_MS;
      else await this.tick(now);
      this.opts.log.info({ snapshotAgeS: Math.round((now - snap.watermark) / 1000), replayed: tail.length }, 'rule state resumed from snapshot');
      return;
    }
    const history = await eventsByTs(this.opts.db, this.siteIds, now - window, now + 1, limit);
    if (history.length === limit) this.opts.log.warn({ limit }, 'rule history truncated; long windows may start late');
    const openKeys = await this.opts.sink.liveDedupKeys(this.siteIds);
    // Monitoring began when the first event was stored: before that, silence is not evidence
    // (a fresh install must not open a welfare check for every elderly-care unit at once).
    const coverageFrom = Math.max(now - window, (await firstReceivedAt(this.opts.db, this.siteIds)) ?? now);
    const rebuilt = rebuildState(this.rules, history, this.opts.registry.allDevices(), now, { coverageFrom, openKeys });
    this.state = rebuilt.state;
    this.watermark = history.reduce((m, e) => Math.max(m, e.receivedAt), 0);
    await this.apply(rebuilt.decisions, now);
    await this.lanes.idle(); // started = the open episodes re-asserted
    this.opts.log.info({ replayed: history.length, reasserted: rebuilt.decisions.length }, 'rule state rebuilt from history');
  }

  private watchRulesFile(path: string): void {
    let debounce: NodeJS.Timeout | null = null;
    try {
      // Watch the folder: editors save by writing a new file and renaming it over the old one.
      this.watcher = watch(dirname(path), (_event, name) => {
        if (name !== basename(path)) return;
        if (debounce) clearTimeout(debounce);
        debounce = setTimeout(() => void this.reload(), 200);
      });
    } catch (err) {
      this.opts.log.warn({ path, err: (err as Error).message }, 'cannot watch rules file; hot reload off');
    }
  }
}
