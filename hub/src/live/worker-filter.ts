import type { LiveTicketPayload, Ticket } from '@shaobing/schemas';
import { workerSees, type WorkerScope } from '../tickets/core/index.ts';
import type { RingEntry } from './ring.ts';

/** The ticket of a ring entry, read back once per entry however many worker sockets look at it. */
const tickets = new WeakMap<RingEntry, { now: Ticket; before: Ticket | null } | null>();

function ticketOf(e: RingEntry): { now: Ticket; before: Ticket | null } | null {
  let t = tickets.get(e);
  if (t === undefined) {
    // Our own serialisation (feed.ts publish of a LiveTicketPayload), not outside input.
    const msg: { payload?: Pick<LiveTicketPayload, 'ticket' | 'was'> } = JSON.parse(e.json);
    const now = msg.payload?.ticket;
    t = now === undefined ? null : { now, before: msg.payload?.was !== undefined ? asBefore(now, msg.payload.was) : null };
    tickets.set(e, t);
  }
  return t;
}

/** The ticket as it stood for visibility before the change (status, assignee, offers). */
function asBefore(t: Ticket, was: NonNullable<LiveTicketPayload['was']>): Ticket {
  const { assigneeId: _a, offeredTo: _o, ...rest } = t;
  return { ...rest, status: was.status, ...(was.assigneeId !== undefined ? { assigneeId: was.assigneeId } : {}), ...(was.offeredTo !== undefined ? { offeredTo: was.offeredTo } : {}) };
}

/**
 * What a grid worker's live socket carries: ticket changes of the tickets they may see
 * (tickets/core workerSees, the same rule as the REST API) and nothing else — no events,
 * presence or KPIs of the board. A change that takes a ticket away from them (reassigned,
 * taken by another in 抢单, sent back for review) reaches them too, so the phone drops it live.
 * The scope is taken when the socket connects (a site-file change reaches an open socket at its
 * next connection, as a new token would).
 */
export function workerEntryFilter(scope: WorkerScope): (e: RingEntry) => boolean {
  return (e) => {
    if (e.kind !== 'ticket') return false;
    const t = ticketOf(e);
    return t !== null && (workerSees(t.now, scope) || (t.before !== null && workerSees(t.before, scope)));
  };
}
