import pg from 'pg';
import type { Logger } from 'pino';

/**
 * Leases: who acts for a site (rules, tickets) or runs a cluster-once job. `gained` and `lost`
 * are called as the holding changes; a holder that can no longer prove it holds a lease
 * (database connection gone) gets `lost` at once, before anyone else can take it over.
 */
export interface LeaseEvents {
  gained(name: string): void;
  /** When handing a lease over, the holder waits for the returned promise before releasing. */
  lost(name: string): void | Promise<void>;
}

export interface Leases {
  start(events: LeaseEvents): Promise<void>;
  held(name: string): boolean;
  /** Names held now. */
  heldNames(): string[];
  /** Releases every lease (no `lost` calls: the caller is shutting down). */
  stop(): Promise<void>;
}

/** Embedded store, or one hub per database: this process holds every lease, always. */
export class LocalLeases implements Leases {
  constructor(private readonly names: readonly string[]) {}
  async start(events: LeaseEvents): Promise<void> {
    for (const n of this.names) events.gained(n);
  }
  held(name: string): boolean {
    return this.names.includes(name);
  }
  heldNames(): string[] {
    return [...this.names];
  }
  async stop(): Promise<void> {}
}

/**
 * Leases as PostgreSQL session advisory locks on one dedicated connection: the server releases
 * them when that session ends — a killed hub's socket closes and its leases are free at once.
 * Polled every `pollMs`: each poll tries the free ones and doubles as the heartbeat; a failed
 * or timed-out poll, or a connection error, drops every lease (`lost`) before reconnecting.
 */
export class PgAdvisoryLeases implements Leases {
  private client: pg.Client | null = null;
  private readonly holding = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> = Promise.resolve();
  private events: LeaseEvents | null = null;
  private stopped = false;

  constructor(private readonly opts: {
    url: string; hubId: string; names: readonly string[]; pollMs: number; log: Logger;
    /** Leases shared out among the live hubs (sites); the others go to whoever asks first (jobs). */
    balanced?: (name: string) => boolean;
  }) {}

  async start(events: LeaseEvents): Promise<void> {
    this.events = events;
    await this.poll();
    this.timer = setInterval(() => { this.polling = this.polling.then(() => this.poll()); }, this.opts.pollMs);
    this.timer.unref();
  }

  held(name: string): boolean {
    return this.holding.has(name);
  }

  heldNames(): string[] {
    return [...this.holding];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    this.holding.clear();
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    try {
      const c = this.client ?? (await this.connect());
      if (this.holding.size > 0) await c.query('SELECT 1'); // heartbeat: still our session
      const fair = await this.fairShare(c);
      let mine = [...this.holding].filter((n) => this.isBalanced(n)).length;
      if (mine > fair) await this.handOver(c, [...this.holding].filter((n) => this.isBalanced(n)).sort().at(-1)!);
      for (const name of this.opts.names) {
        if (this.holding.has(name) || this.stopped) continue;
        if (this.isBalanced(name) && mine >= fair) continue;
        const [row] = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [`shaobing:${name}`])).rows;
        if (!row?.ok) continue;
        this.holding.add(name);
        if (this.isBalanced(name)) mine++;
        await c.query(`INSERT INTO cluster_leases (name, holder, since) VALUES ($1, $2, now())
                       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, since = EXCLUDED.since`, [name, this.opts.hubId]);
        this.opts.log.info({ lease: name }, 'lease gained');
        this.events?.gained(name);
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'lease connection failed');
      this.dropAll();
    }
  }

  private isBalanced(name: string): boolean {
    return this.opts.balanced?.(name) ?? false;
  }

  /**
   * How many balanced leases one hub should hold: ceil(total / live hubs), so a hub that
   * starts first does not keep every site and a restarted one gets its share back. Hubs are
   * counted by their lease connections.
   */
  private async fairShare(c: pg.Client): Promise<number> {
    const total = this.opts.names.filter((n) => this.isBalanced(n)).length;
    const [row] = (await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'shaobing-lease-%'`)).rows;
    return Math.ceil(total / Math.max(1, row?.n ?? 1));
  }

  /** Gives one lease back: the work stops here first (snapshot written), then the lock is freed. */
  private async handOver(c: pg.Client, name: string): Promise<void> {
    this.holding.delete(name);
    this.opts.log.info({ lease: name }, 'handing lease over (fair share)');
    const drained = this.events?.lost(name);
    await Promise.race([drained, new Promise((r) => setTimeout(r, 10_000))]);
    await c.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`shaobing:${name}`]);
  }

  private async connect(): Promise<pg.Client> {
    const c = new pg.Client({
      connectionString: this.opts.url, application_name: `shaobing-lease-${this.opts.hubId}`.slice(0, 63),
      // A hung connection must not look like a held lease: a poll that takes this long fails.
      query_timeout: Math.max(2000, this.opts.pollMs * 2), connectionTimeoutMillis: 5000, keepAlive: true,
    });
    c.on('error', (err) => {
      this.opts.log.warn({ err: err.message }, 'lease connection lost');
      if (this.client === c) this.dropAll();
    });
    await c.connect();
    this.client = c;
    return c;
  }

  /** The session is gone or unproven: nothing is held any more, say so now. */
  private dropAll(): void {
    const c = this.client;
    this.client = null;
    c?.end().catch(() => {});
    const lost = [...this.holding];
    this.holding.clear();
    for (const name of lost) {
      this.opts.log.warn({ lease: name }, 'lease lost');
      this.events?.lost(name);
    }
  }
}
