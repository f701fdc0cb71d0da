import pg from 'pg';
import type { Logger } from 'pino';

/** SQLSTATE 55P03: lock_timeout expired. */
const LOCK_NOT_AVAILABLE = '55P03';

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
  /** The fencing epoch this hub gained `name` at (cluster_leases.epoch); null when not fenced (embedded) or not held. */
  epochOf(name: string): number | null;
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
  epochOf(): number | null {
    return null;
  }
  async stop(): Promise<void> {}
}

/**
 * Leases as PostgreSQL session advisory locks on one dedicated connection: the server releases
 * them when that session ends — a killed hub's socket closes and its leases are free at once.
 * Polled every `pollMs`: each poll tries the free ones and doubles as the heartbeat; a failed
 * or timed-out poll, or a connection error, drops every lease (`lost`) before reconnecting.
 *
 * A paused or hung hub keeps its socket (the kernel answers for it), so its locks would never
 * free: each poll also renews this hub's `cluster_hubs` row for `ttlMs`, and a live hub
 * terminates the lease session of a hub whose row expired. Gaining a lease bumps its epoch
 * (the fencing token, cluster/fence.ts), so what the old owner writes later is refused.
 */
export class PgAdvisoryLeases implements Leases {
  private client: pg.Client | null = null;
  /** Lease name → the epoch it was gained at. */
  private readonly holding = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> = Promise.resolve();
  private events: LeaseEvents | null = null;
  private stopped = false;

  constructor(private readonly opts: {
    url: string; hubId: string; names: readonly string[]; pollMs: number; log: Logger;
    /** A hub silent this long loses its lease session (default max(10 s, 10 polls): a loaded hub is not cut). */
    ttlMs?: number;
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
    return [...this.holding.keys()];
  }

  epochOf(name: string): number | null {
    return this.holding.get(name) ?? null;
  }

  /** How long a silent hub keeps its leases; also the longest a fenced write may stall mid-transaction (fence.ts). */
  get ttlMs(): number {
    return this.opts.ttlMs ?? Math.max(10_000, this.opts.pollMs * 10);
  }

  private get lockTimeoutMs(): number {
    return Math.max(500, this.opts.pollMs);
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
      // Heartbeat: still our session, and alive for ttlMs more.
      await c.query(`INSERT INTO cluster_hubs (hub_id, backend_pid, expires_at) VALUES ($1, pg_backend_pid(), now() + $2 * interval '1 millisecond')
                     ON CONFLICT (hub_id) DO UPDATE SET backend_pid = EXCLUDED.backend_pid, expires_at = EXCLUDED.expires_at`, [this.opts.hubId, this.ttlMs]);
      await this.cutExpired(c);
      const fair = await this.fairShare(c);
      const balancedHeld = () => [...this.holding.keys()].filter((n) => this.isBalanced(n));
      let mine = balancedHeld().length;
      if (mine > fair) await this.handOver(c, balancedHeld().sort().at(-1)!);
      for (const name of this.opts.names) {
        if (this.holding.has(name) || this.stopped) continue;
        if (this.isBalanced(name) && mine >= fair) continue;
        const [row] = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [`shaobing:${name}`])).rows;
        if (!row?.ok) continue;
        const epoch = await this.bumpEpoch(c, name);
        if (epoch === null) continue;
        this.holding.set(name, epoch);
        if (this.isBalanced(name)) mine++;
        this.opts.log.info({ lease: name, epoch }, 'lease gained');
        this.events?.gained(name);
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'lease connection failed');
      this.dropAll();
    }
  }

  /**
   * The new epoch of a lease whose lock this session just took. It waits for an old owner's
   * ticket write in flight (that holds the row FOR SHARE) — but only `lockTimeoutMs`: a write
   * frozen mid-way (its hub stopped inside the transaction) is ended by the server
   * (fence.ts), and until then this lease is given back and tried again at the next poll,
   * while the others stay held. null: not gained this time.
   */
  private async bumpEpoch(c: pg.Client, name: string): Promise<number | null> {
    try {
      const [lease] = (await c.query<{ epoch: string }>(
        `INSERT INTO cluster_leases (name, holder, since, epoch) VALUES ($1, $2, now(), 1)
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, since = EXCLUDED.since, epoch = cluster_leases.epoch + 1
         RETURNING epoch`, [name, this.opts.hubId])).rows;
      return Number(lease!.epoch);
    } catch (err) {
      if ((err as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw err;
      this.opts.log.warn({ lease: name }, 'lease row held by the old owner\'s transaction in flight; trying again at the next poll');
      await c.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`shaobing:${name}`]);
      return null;
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

  /**
   * Ends the lease sessions of hubs whose heartbeat expired (paused, hung): the server then
   * frees their advisory locks, and this poll or the next takes them. Same database role, so
   * pg_terminate_backend is allowed without superuser.
   */
  private async cutExpired(c: pg.Client): Promise<void> {
    const { rows } = await c.query<{ hub_id: string; pid: number; ok: boolean }>(
      `SELECT h.hub_id, h.backend_pid AS pid, pg_terminate_backend(h.backend_pid) AS ok
         FROM cluster_hubs h JOIN pg_stat_activity a ON a.pid = h.backend_pid
        WHERE h.expires_at < now() AND h.backend_pid <> pg_backend_pid()
          AND a.application_name = left('shaobing-lease-' || h.hub_id, 63)`);
    for (const r of rows) this.opts.log.warn({ hub: r.hub_id, pid: r.pid, terminated: r.ok }, 'hub stopped renewing its leases: its lease session is cut');
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
      // Below query_timeout: a lease row locked by a stalled write costs that lease one poll, not the session.
      lock_timeout: this.lockTimeoutMs,
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
    const lost = [...this.holding.keys()];
    this.holding.clear();
    for (const name of lost) {
      this.opts.log.warn({ lease: name }, 'lease lost');
      this.events?.lost(name);
    }
  }
}
