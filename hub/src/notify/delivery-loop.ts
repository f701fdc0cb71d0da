import type { Logger } from 'pino';
import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';
import type { Db } from '../store/db.ts';
import { deliver, type ChannelDeps } from './channels.ts';
import { claimDue, counts, markRetry, markSent, type ClaimedRow, type NotifyPayload } from './outbox-repo.ts';

/** Attempts before a row is given up as `failed` (≈ 40 min of back-off). */
export const MAX_ATTEMPTS = 12;
/** A claimed row is due again after this if its hub died mid-send (never lost). */
const LEASE_MS = 60_000;

/** Exponential back-off with jitter: 1 s, 2 s, 4 s … capped at 5 min. */
export function retryDelayMs(attempts: number, random = Math.random): number {
  const base = Math.min(1000 * 2 ** Math.max(0, attempts - 1), 300_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Rows due together for the same recipient, channel and event become one message (a burst). */
export function groupRows(rows: readonly ClaimedRow[]): ClaimedRow[][] {
  const groups = new Map<string, ClaimedRow[]>();
  for (const r of rows) {
    const key = `${r.recipient}|${r.event}|${JSON.stringify(r.channel)}`;
    const g = groups.get(key);
    if (g) g.push(r); else groups.set(key, [r]);
  }
  return [...groups.values()];
}

export function groupedPayload(g: readonly ClaimedRow[]): NotifyPayload {
  const first = g[0]!.payload;
  if (g.length === 1) return first;
  const lines = g.slice(0, 10).map((r) => `· ${r.payload.text}`);
  if (g.length > 10) lines.push(`…共 ${g.length} 条`);
  const { url: _one, ...rest } = first;
  return { ...rest, ticketId: null, count: g.length, title: `${first.title} 等 ${g.length} 条`, text: lines.join('\n') };
}

export interface NotifyLoopOptions {
  db: Db;
  log: Logger;
  deps: ChannelDeps;
  pollMs: number;
  prom: PromRegistry;
  batch?: number;
}

/**
 * Delivers the outbox (notify_outbox): claim due rows (SKIP LOCKED, leased), send each group
 * once, then mark it sent or schedule a retry. A database blip only delays a poll; a hub
 * killed mid-send leaves its claimed rows to come due again after the lease.
 */
export class NotifyLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly sent: Counter<'channel'>;
  private readonly failures: Counter<'channel'>;

  constructor(private readonly opts: NotifyLoopOptions) {
    this.sent = new Counter({ name: 'shaobing_notify_sent_total', help: 'notifications delivered, by channel kind', labelNames: ['channel'], registers: [opts.prom] });
    this.failures = new Counter({ name: 'shaobing_notify_failures_total', help: 'failed delivery attempts (retried with back-off), by channel kind', labelNames: ['channel'], registers: [opts.prom] });
    const db = opts.db;
    new Gauge({
      name: 'shaobing_notify_outbox', help: 'outbox rows by status (pending, sent, failed)', labelNames: ['status'], registers: [opts.prom],
      async collect() {
        try {
          const c = await counts(db);
          for (const [status, n] of Object.entries(c)) this.set({ status }, n);
        } catch { /* store down: keep the last figures */ }
      },
    });
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.pollOnce().then(() => undefined, (err: unknown) => { this.opts.log.warn({ err }, 'notification poll failed; retrying'); })
        .finally(() => { this.running = null; if (!this.stopped) this.timer = setTimeout(tick, this.opts.pollMs); });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; returns how many rows were settled (sent or rescheduled). */
  async pollOnce(now = Date.now()): Promise<number> {
    const rows = await claimDue(this.opts.db, now, this.opts.batch ?? 50, LEASE_MS);
    let settled = 0;
    for (const g of groupRows(rows)) {
      const ch = g[0]!.channel;
      try {
        await deliver(ch, groupedPayload(g), this.opts.deps);
        for (const r of g) await markSent(this.opts.db, r.id, Date.now());
        this.sent.inc({ channel: ch.kind }, g.length);
      } catch (err) {
        this.failures.inc({ channel: ch.kind });
        const msg = (err as Error).message;
        for (const r of g) {
          const retryAt = r.attempts >= MAX_ATTEMPTS ? null : Date.now() + retryDelayMs(r.attempts);
          await markRetry(this.opts.db, r.id, msg, retryAt);
        }
        this.opts.log.warn({ channel: ch.kind, recipient: g[0]!.recipient, attempts: g[0]!.attempts, error: msg }, 'notification not delivered; will retry');
      }
      settled += g.length;
    }
    return settled;
  }
}
