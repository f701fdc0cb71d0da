import type { KpiSnapshot } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { HubBus } from '../bus.ts';

export interface KpiPushOptions {
  /** Where ticket changes arrive and today's KPIs go out (the live feed's bus). */
  bus: HubBus;
  today: (siteIds: readonly string[], now: number) => Promise<KpiSnapshot>;
  /** How long a site's changes are gathered before one snapshot (at most one per site per this). */
  delayMs: number;
  log: Logger;
  now?: () => number;
}

/**
 * Today's KPIs of a site pushed soon after its tickets change, so the dashboard header has one
 * source: the live stream (plus one GET when it (re)connects). A busy site gets one snapshot
 * per `delayMs`, computed after its changes of that span; a change during a computation
 * schedules one more. The SLA sweep still pushes every site (overdue moves with time alone).
 */
export class KpiPush {
  private readonly due = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private off: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly o: KpiPushOptions) {}

  start(): void {
    this.off = this.o.bus.on('ticket.changed', (c) => this.changed(c.siteId), 'kpi-push');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    for (const t of this.due.values()) clearTimeout(t);
    this.due.clear();
    await Promise.all(this.running.values());
  }

  private changed(siteId: string): void {
    if (this.stopped) return;
    if (this.running.has(siteId)) { this.again.add(siteId); return; }
    if (this.due.has(siteId)) return;
    this.due.set(siteId, setTimeout(() => { this.due.delete(siteId); this.push(siteId); }, this.o.delayMs));
  }

  private push(siteId: string): void {
    const run = this.o.today([siteId], (this.o.now ?? Date.now)()).then(
      (snapshot) => { if (!this.stopped) this.o.bus.emit('kpi.updated', snapshot); },
      (err: unknown) => this.o.log.warn({ err, siteId }, 'KPI push failed; the next change or sweep retries'),
    ).finally(() => {
      this.running.delete(siteId);
      if (this.again.delete(siteId)) this.changed(siteId);
    });
    this.running.set(siteId, run);
  }
}
