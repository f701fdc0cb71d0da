import pg from 'pg';
import { Ticket, TicketStatus, Validator } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { HubBus, TicketBusChange } from '../bus.ts';
import { SeqTail } from '../cluster/event-tail.ts';
import type { IngestedEvent } from '../events.ts';
import type { Queryable } from '../store/db.ts';

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
  }) {
    this.tickets = new SeqTail<TicketBusChange | null>({
      db: opts.db, pollMs: opts.pollMs, log: opts.log,
      deliver: (changes) => { for (const c of changes) if (c) opts.liveBus.emit('ticket.changed', c); },
      topSql: 'SELECT max(change_seq)::int8 AS top FROM tickets',
      rowsSql: (limit) => `SELECT t.change_seq::int8 AS seq, t.doc, a.action, a.actor, a.from_status, a.note, a.at
        FROM tickets t LEFT JOIN LATERAL (SELECT action, actor, from_status, note, at FROM ticket_audit WHERE ticket_id = t.id ORDER BY id DESC LIMIT 1) a ON true
        WHERE t.change_seq > $1 OR t.change_seq = ANY($2::int8[]) ORDER BY t.change_seq LIMIT ${limit}`,
      toRow: (r) => {
        const change = toChange(r);
        if (!change) opts.log.error({ seq: r.seq }, 'ticket row does not match the Ticket schema; not sent live');
        return change;
      },
    });
  }

  async start(): Promise<void> {
    const { bus, liveBus } = this.opts;
    this.off.push(
      bus.on('device.presence', (c) => liveBus.emit('device.presence', c), 'live-cluster'),
      bus.on('kpi.updated', (s) => liveBus.emit('kpi.updated', s), 'live-cluster'),
      bus.on('events.stored', () => this.notifySoon(), 'live-cluster'),
      bus.on('ticket.changed', () => this.notifySoon(), 'live-cluster'),
    );
    await this.tickets.start();
    await this.listen();
  }

  /** The event tail's delivery: every hub's events, in commit order. */
  events(list: IngestedEvent[]): void {
    this.opts.liveBus.emit('events.stored', list);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const f of this.off.splice(0)) f();
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    await this.tickets.stop();
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
    c.on('notification', () => { this.opts.wakeEvents(); this.tickets.wake(); });
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
const statuses = new Validator(TicketStatus);

/** A row of the ticket tail as a bus change; checked against the schemas, not cast (null: not a ticket). */
function toChange(r: Record<string, unknown>): TicketBusChange | null {
  if (!tickets.is(r.doc)) return null;
  const ticket = r.doc;
  const action = typeof r.action === 'string' ? r.action : 'changed';
  return {
    ticketId: ticket.id, siteId: ticket.siteId, action, ticket,
    kind: action === 'open' ? 'opened' : 'status',
    from: statuses.is(r.from_status) ? r.from_status : null,
    at: r.at instanceof Date ? r.at.toISOString() : ticket.openedAt,
    actor: typeof r.actor === 'string' ? r.actor : 'system',
    ...(typeof r.note === 'string' ? { note: r.note } : {}),
  };
}
