import { randomBytes } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { HubBus, TicketBusChange } from '../bus.ts';
import type { Db } from '../store/db.ts';
import { insertAttachment } from './attachment-repo.ts';
import { fetchSnapshot, SnapshotAllowlist, type SnapshotPolicy, type SnapshotResult } from './snapshot-fetch.ts';
import { insertAudit } from './ticket-repo.ts';

/** Per ticket, as for uploads (api/routes/attachments.ts ATTACHMENTS_PER_TICKET). */
const MAX_PER_TICKET = 10;

/**
 * Keeps camera snapshots as evidence: when a ticket opens or repeats with evidence that carries
 * a `snapshotUrl`, the image is fetched once (snapshot-fetch.ts) and stored like a photo
 * (source 'camera') with an 'attach' audit row; a failure becomes a 'snapshot_failed' audit row
 * and a counted outcome. Never fatal: the ticket is already committed when this runs.
 */
export class SnapshotKeeper {
  private readonly allow: SnapshotAllowlist;
  private readonly outcomes: Counter;
  private readonly inFlight = new Set<Promise<void>>();
  private off: (() => void) | null = null;

  constructor(private readonly opts: { db: Db; bus: HubBus; log: Logger; policy: SnapshotPolicy; prom?: Registry; now?: () => number }) {
    this.allow = new SnapshotAllowlist(opts.policy.allow);
    this.outcomes = new Counter({
      name: 'shaobing_snapshot_fetch_total', help: 'camera snapshot fetches by outcome (ok, or why not)', labelNames: ['outcome'],
      registers: opts.prom ? [opts.prom] : [],
    });
  }

  get enabled(): boolean { return !this.allow.empty; }

  start(): void {
    if (!this.enabled || this.off) return;
    this.off = this.opts.bus.on('ticket.changed', (c) => this.onChange(c), 'snapshots');
  }

  /** Stops listening and waits for fetches in flight (each bounded by the policy's time limit). */
  async stop(): Promise<void> {
    this.off?.();
    this.off = null;
    await Promise.allSettled([...this.inFlight]);
  }

  private onChange(c: TicketBusChange): void {
    if (c.kind !== 'opened' && c.kind !== 'occurrence') return;
    const ev = c.ticket.evidence[c.ticket.evidence.length - 1];
    if (ev?.snapshotUrl === undefined) return;
    const p = this.keep(c.ticketId, c.ticket.status, ev.snapshotUrl, ev.eventKey).catch((err: unknown) => this.opts.log.warn({ err, ticketId: c.ticketId }, 'snapshot not recorded'));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Fetch and record one snapshot; exported for tests through `keepNow`. */
  private async keep(ticketId: string, status: TicketBusChange['ticket']['status'], url: string, eventKey: string): Promise<void> {
    const r: SnapshotResult = await fetchSnapshot(url, this.opts.policy, this.allow);
    const at = new Date((this.opts.now ?? Date.now)()).toISOString();
    const audit = { ticketId, at, actor: 'system:snapshot', from: status, to: status };
    if (!r.ok) {
      this.outcomes.inc({ outcome: r.reason });
      this.opts.log.info({ ticketId, reason: r.reason, detail: r.detail }, 'camera snapshot not kept');
      await insertAudit(this.opts.db, [{ ...audit, action: 'snapshot_failed', note: `camera snapshot of ${eventKey} not kept: ${r.reason} (${r.detail})`.slice(0, 2000) }]);
      return;
    }
    const id = `A${randomBytes(8).toString('hex')}`;
    const stored = await this.opts.db.transaction(async (tx) => {
      if (!(await insertAttachment(tx, { id, ticketId, at, by: 'system:snapshot', mime: r.mime, bytes: r.content.length, source: 'camera', content: r.content }, MAX_PER_TICKET))) return false;
      await insertAudit(tx, [{ ...audit, action: 'attach', note: `camera snapshot ${id} (${r.mime}, ${r.content.length} B) of ${eventKey}` }]);
      return true;
    });
    this.outcomes.inc({ outcome: stored ? 'ok' : 'ticket_full' });
  }
}
