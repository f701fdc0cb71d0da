import type { Ticket } from '@shaobing/schemas';
import { workerSees, type WorkerScope } from '../tickets/core/index.ts';
import type { RingEntry } from './ring.ts';

/** The ticket of a ring entry, read back once per entry however many worker sockets look at it. */
const tickets = new WeakMap<RingEntry, Ticket | null>();

function ticketOf(e: RingEntry): Ticket | null {
  let t = tickets.get(e);
  if (t === undefined) {
    // Our own serialisation (feed.ts publish of a LiveTicketPayload), not outside input.
    const msg: { payload?: { ticket?: Ticket } } = JSON.parse(e.json);
    t = msg.payload?.ticket ?? null;
    tickets.set(e, t);
  }
  return t;
}

/**
 * What a grid worker's live socket carries: ticket changes of the tickets they may see
 * (tickets/core workerSees, the same rule as the REST API) and nothing else — no events,
 * presence or KPIs of the board. The scope is taken when the socket connects (a site-file
 * change reaches an open socket at its next connection, as a new token would).
 */
export function workerEntryFilter(scope: WorkerScope): (e: RingEntry) => boolean {
  return (e) => {
    if (e.kind !== 'ticket') return false;
    const t = ticketOf(e);
    return t !== null && workerSees(t, scope);
  };
}
