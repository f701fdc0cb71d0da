import type { AuditEntry, Ticket, TicketChange } from '@shaobing/schemas';
import type { HubBus, TicketBusChange } from '../bus.ts';
import type { Db } from '../store/db.ts';
import type { OutboxHook } from './context.ts';
import type { ApplyResult } from './core/index.ts';
import { insertAudit, insertTicket, updateTickets, type AuditRow } from './ticket-repo.ts';

type Applied = Extract<ApplyResult, { ok: true }>;

/**
 * One ticket's pending write: the ticket after one or more applyAction results, the version it
 * was read at (null = a new ticket to INSERT), and the audit rows and live events those
 * results produced, in order.
 */
export interface TicketWrite {
  ticket: Ticket;
  prevVersion: number | null;
  audit: AuditEntry[];
  events: Array<{ change: TicketChange; action: string }>;
}

/** Starts a write from an applyAction result on `prev` (null when the result opened the ticket). */
export function writeOf(prev: Ticket | null, r: Applied, action: string): TicketWrite {
  return { ticket: r.ticket, prevVersion: prev === null ? null : prev.version, audit: [...r.audit], events: r.events.map((change) => ({ change, action })) };
}

/** Adds a further result on the same ticket (applyAction was given `w.ticket`). */
export function chain(w: TicketWrite, r: Applied, action: string): TicketWrite {
  return { ticket: r.ticket, prevVersion: w.prevVersion, audit: [...w.audit, ...r.audit], events: [...w.events, ...r.events.map((change) => ({ change, action }))] };
}

class StaleWrite extends Error {}

/**
 * Persists writes in one transaction — tickets (INSERT, or UPDATE … WHERE version = prev) and
 * their audit rows — then announces their events on the bus, after the commit, so the live
 * feed never shows a change that was rolled back.
 *
 * - `all` (default): every write must land; a stale version rolls everything back → false.
 *   A unique violation on the live-dedup index propagates (the caller re-plans).
 * - `partial`: stale updates are skipped (an operator changed that ticket meanwhile; the SLA
 *   sweep re-derives it next time); the others commit. Returns the writes that landed.
 */
export async function commitWrites(
  db: Db, bus: HubBus, writes: readonly TicketWrite[], mode: 'all' | 'partial' = 'all', outbox?: OutboxHook,
): Promise<TicketWrite[] | null> {
  if (writes.length === 0) return [];
  let landed: TicketWrite[];
  try {
    landed = await db.transaction(async (tx) => {
      const inserts = writes.filter((w) => w.prevVersion === null);
      for (const w of inserts) await insertTicket(tx, w.ticket);
      const updates = writes.filter((w) => w.prevVersion !== null);
      const ok = await updateTickets(tx, updates.map((w) => ({ ticket: w.ticket, prevVersion: w.prevVersion! })));
      if (mode === 'all' && ok.size !== updates.length) throw new StaleWrite();
      const done = [...inserts, ...updates.filter((w) => ok.has(w.ticket.id))];
      await insertAudit(tx, done.flatMap(auditRows));
      // Notifications commit with the change they announce, or not at all (transactional outbox).
      if (outbox) await outbox(tx, done);
      return done;
    });
  } catch (err) {
    if (err instanceof StaleWrite) return null;
    throw err;
  }
  for (const w of landed) for (const e of w.events) bus.emit('ticket.changed', busChange(e.change, e.action));
  return landed;
}

/**
 * A write's audit rows, the last carrying who could see the ticket before the write when it
 * changed hands (the first such change: the holders before the whole write).
 */
function auditRows(w: TicketWrite): AuditRow[] {
  const was = w.events.find((e) => e.change.was !== undefined)?.change.was;
  if (was === undefined || w.audit.length === 0) return w.audit;
  return [...w.audit.slice(0, -1), { ...w.audit.at(-1)!, was }];
}

/** The bus payload: the live feed's fields plus the whole TicketChange. */
export function busChange(c: TicketChange, action: string): TicketBusChange {
  return {
    ticketId: c.ticket.id, siteId: c.ticket.siteId, action, ticket: c.ticket, kind: c.kind, from: c.from, at: c.at, actor: c.actor,
    ...(c.note !== undefined ? { note: c.note } : {}),
    ...(c.deadline !== undefined ? { deadline: c.deadline } : {}),
    ...(c.notify !== undefined ? { notify: c.notify } : {}),
    ...(c.was !== undefined ? { was: c.was } : {}),
  };
}
