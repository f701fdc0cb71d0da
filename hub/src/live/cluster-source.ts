import pg from 'pg';
import { KpiSnapshot, Ticket, TicketHolders, TicketStatus, Validator, type LivePosition } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { HubBus, TicketBusChange } from '../bus.ts';
import { EventTail, SeqTail } from '../cluster/event-tail.ts';
import type { IngestedEvent } from '../events.ts';
import type { Queryable } from '../store/db.ts';
import type { LiveFeed } from './feed.ts';

const CHANNEL = 'shaobing_live';

/**
 * The live feed's input when several hubs share the database (README "Scaling out"): a
 * dashboard on any hub sees the events and tickets of every site, whichever hub ingested the
 * message or owns the site. Events come from the event tail (every hub's commits, by
 * ingest_seq), ticket changes from a tail on `tickets.change_seq`; both are re-emitted on the
 * feed's own bus, so the feed itself is unchanged. PostgreSQL NOTIFY is only the wake-up —
 * each hub notifies after its own commits — and the sequences make it lossless: a lost or
 * coalesced notification only waits for the next timer poll.
 */
export class ClusterLiveSource {
  private readonly tickets: SeqTail<TicketBusChange | null>;
  /** KPI snapshots of whichever hub runs the SLA job (live_kpi), to this hub's dashboards. */
  private readonly kpis: SeqTail<KpiSnapshot | null>;
  /** Reads events after a position for a resuming client (never started: the hub's own tail delivers). */
  private readonly eventReader: EventTail;

  private listener: pg.Client | null = null;
  private readonly off: (() => void)[] = [];
  private notifyTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly opts: {
    db: Queryable; databaseUrl: string; log: Logger; pollMs: number;
    /** The hub's bus: local commits (to notify the others), presence and KPIs (forwarded). */
    bus: HubBus;
    /** The live feed's bus. */
    liveBus: HubBus;
    /** Wakes the event tail (cluster/start-cluster.ts) on another hub's notification. */
    wakeEvents: () => void;
    /** The event tail's floor: every ingest_seq at or below it has been delivered (events()); started before this source. */
    eventFloor: () => number;
    /** The feed: told the database position after each delivery, and served replays from here. */
    feed: LiveFeed;
  }) {
    this.tickets = new SeqTail<TicketBusChange | null>({
      db: opts.db, pollMs: opts.pollMs, log: opts.log,
      deliver: (changes) => { for (const c of changes) if (c) opts.liveBus.emit('ticket.changed', c); this.positionMoved(); },
      topSql: 'SELECT max(change_seq)::int8 AS top FROM tickets',
      rowsSql: (limit) => `SELECT t.change_seq::int8 AS seq, t.doc, a.action, a.actor, a.from_status, a.note, a.at, a.was
        FROM tickets t LEFT JOIN LATERAL (SELECT action, actor, from_status, note, at, was FROM ticket_audit WHERE ticket_id = t.id ORDER BY id DESC LIMIT 1) a ON true
        WHERE t.change_seq > $1 OR t.change_seq = ANY($2::int8[]) ORDER BY t.change_seq LIMIT ${limit}`,
      toRow: (r) => {
        const change = toChange(r);
        if (!change) opts.log.error({ seq: r.seq }, 'ticket row does not match the Ticket schema; not sent live');
        return change;
      },
    });
    this.kpis = new SeqTail<KpiSnapshot | null>({
      db: opts.db, pollMs: opts.pollMs, log: opts.log,
      deliver: (snapshots) => { for (const k of snapshots) if (k) opts.liveBus.emit('kpi.updated', k); },
      topSql: 'SELECT max(seq)::int8 AS top FROM live_kpi',
      rowsSql: (limit) => `SELECT seq::int8 AS seq, snapshot FROM live_kpi WHERE seq > $1 OR seq = ANY($2::int8[]) ORDER BY seq LIMIT ${limit}`,
      toRow: (r) => {
        if (kpis.is(r.snapshot)) return r.snapshot;
        opts.log.error({ seq: r.seq }, 'live_kpi row does not match the KpiSnapshot schema; not sent live');
        return null;
      },
    });
    this.eventReader = new EventTail({ db: opts.db, pollMs: opts.pollMs, log: opts.log, deliver: () => {} });
  }

  async start(): Promise<void> {
    const { bus, liveBus, db } = this.opts;
    this.off.push(
      bus.on('device.presence', (c) => liveBus.emit('device.presence', c), 'live-cluster'),
      // The SLA job runs on one hub: its KPIs go through the database to every hub's feed.
      bus.on('kpi.updated', (k) => this.storeKpi(k), 'live-cluster'),
      bus.on('events.stored', () => this.notifySoon(), 'live-cluster'),
      bus.on('ticket.changed', () => this.notifySoon(), 'live-cluster'),
    );
    await this.tickets.start();
    await this.kpis.start();
    const [row] = await db.query<{ id: string }>('SELECT id FROM live_stream');
    const stream = row!.id;
    this.opts.feed.attachStore({ stream, read: (from, limit) => this.read(from, limit) }, { stream, ...this.floors() });
    await this.listen();
  }

  /** The event tail's delivery: every hub's events, in commit order. */
  events(list: IngestedEvent[]): void {
    this.opts.liveBus.emit('events.stored', list);
    this.positionMoved();
  }

  private floors(): { events: number; tickets: number } {
    return { events: this.opts.eventFloor(), tickets: this.tickets.position.floor };
  }

  private positionMoved(): void {
    const f = this.floors();
    this.opts.feed.setPosition(f.events, f.tickets);
  }

  /** A resuming client's replay: every event and ticket change stored after `from` (session.ts). */
  private async read(from: LivePosition, limit: number): Promise<{ events: IngestedEvent[]; tickets: TicketBusChange[] } | 'too_far_behind' | 'bad_position'> {
    const [topE, topT] = await Promise.all([this.eventReader.storedTop(), this.tickets.storedTop()]);
    if (from.events > topE || from.tickets > topT) return 'bad_position';
    const events = await this.eventReader.readAfter(from.events, limit + 1);
    if (events.length > limit) return 'too_far_behind';
    const tickets = (await this.tickets.readAfter(from.tickets, limit + 1 - events.length)).filter((c): c is TicketBusChange => c !== null);
    return { events, tickets };
  }

  private storeKpi(k: KpiSnapshot): void {
    this.opts.db.query(
      `INSERT INTO live_kpi (scope, seq, snapshot) VALUES ($1, nextval('live_kpi_seq'), $2)
       ON CONFLICT (scope) DO UPDATE SET seq = EXCLUDED.seq, snapshot = EXCLUDED.snapshot, at = now()`,
      [k.siteId ?? '*', JSON.stringify(k)],
    ).then(() => this.notifySoon(), (err: Error) => this.opts.log.warn({ err: err.message }, 'KPI snapshot for the other hubs not stored'));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const f of this.off.splice(0)) f();
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    await this.tickets.stop();
    await this.kpis.stop();
    await this.listener?.end().catch(() => {});
  }

  /** One NOTIFY per burst of local commits (20 ms): a wake-up, not a carrier. */
  private notifySoon(): void {
    if (this.notifyTimer || this.stopped) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      this.opts.db.query(`SELECT pg_notify('${CHANNEL}', '')`).catch((err: Error) => this.opts.log.debug({ err: err.message }, 'live notify failed'));
    }, 20);
    this.notifyTimer.unref();
  }

  private async listen(): Promise<void> {
    const c = new pg.Client({ connectionString: this.opts.databaseUrl, application_name: 'shaobing-live-listen', keepAlive: true });
    c.on('notification', () => { this.opts.wakeEvents(); this.tickets.wake(); this.kpis.wake(); });
    c.on('error', (err) => {
      this.opts.log.warn({ err: err.message }, 'live LISTEN connection lost; polling until it is back');
      if (this.listener === c) this.listener = null;
      c.end().catch(() => {});
      if (!this.stopped) setTimeout(() => { this.listen().catch(() => {}); }, 1000).unref();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      // Stopped while connecting: an open client would keep the process from exiting.
      if (this.stopped) {
        await c.end().catch(() => {});
        return;
      }
      this.listener = c;
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'live LISTEN failed; polling only');
      c.end().catch(() => {});
      if (!this.stopped) setTimeout(() => { this.listen().catch(() => {}); }, 1000).unref();
    }
  }
}

const tickets = new Validator(Ticket);
const kpis = new Validator(KpiSnapshot);
const statuses = new Validator(TicketStatus);
const holders = new Validator(TicketHolders);

/** A row of the ticket tail as a bus change; checked against the schemas, not cast (null: not a ticket). */
function toChange(r: Record<string, unknown>): TicketBusChange | null {
  if (!tickets.is(r.doc)) return null;
  const ticket = r.doc;
  const action = typeof r.action === 'string' ? r.action : 'changed';
  return {
    ticketId: ticket.id, siteId: ticket.siteId, action, ticket, changeSeq: Number(r.seq),
    kind: action === 'open' ? 'opened' : 'status',
    from: statuses.is(r.from_status) ? r.from_status : null,
    at: r.at instanceof Date ? r.at.toISOString() : ticket.openedAt,
    actor: typeof r.actor === 'string' ? r.actor : 'system',
    ...(typeof r.note === 'string' ? { note: r.note } : {}),
    // Who could see it before, as the hub that made the change sends it (worker feeds, live/worker-filter.ts).
    ...(holders.is(r.was) ? { was: r.was } : {}),
  };
}
