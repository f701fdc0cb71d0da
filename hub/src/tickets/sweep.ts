import { performance } from 'node:perf_hooks';
import type { Ticket } from '@shaobing/schemas';
import { applyAction, slaSweep, type Actor } from './core/index.ts';
import type { TicketContext } from './context.ts';
import { liveTickets } from './ticket-repo.ts';
import { chain, commitWrites, writeOf, type TicketWrite } from './ticket-writer.ts';

export const SLA_ACTOR: Actor = { id: 'system:sla', role: 'system' };

/** Tickets per transaction: bounds a transaction's size without a round trip per ticket. */
const WRITE_CHUNK = 1000;

export interface SweepResult {
  /** Live tickets looked at. */
  live: number;
  /** Warnings and escalations decided. */
  actions: number;
  /** Tickets written (a ticket may get a warning and an escalation in one write). */
  written: number;
  /** Tickets an operator changed between our read and our write: left for the next sweep. */
  stale: number;
  ms: { load: number; plan: number; write: number; total: number };
  /** The live tickets as read, before this sweep's writes (which touch only SLA flags): the KPI job reuses them. */
  tickets: Ticket[];
}

/**
 * One SLA pass (tickets/core slaSweep): read every live ticket, decide warnings (80 %) and
 * escalations (grid → community → street), apply them in order per ticket as `system:sla`,
 * write each changed ticket once with its audit rows, announce each step on the bus.
 *
 * Optimistic: a ticket an operator touched meanwhile is skipped, not overwritten; the next
 * sweep re-derives what is still due from the fresh row. Two hubs sweeping together are safe
 * the same way: the second one's writes are stale and skipped, so nothing is audited twice.
 */
export async function sweepSla(ctx: TicketContext, now: number): Promise<SweepResult> {
  const t0 = performance.now();
  const live = await liveTickets(ctx.db);
  const t1 = performance.now();
  const actions = slaSweep(live, now, ctx.policy);
  const byId = new Map<string, Ticket>();
  for (const t of live) byId.set(t.id, t);
  // Actions come grouped by ticket, in order; chain each ticket's steps into one write.
  const writes = new Map<string, TicketWrite>();
  for (const { ticketId, action } of actions) {
    const pending = writes.get(ticketId);
    const current = pending?.ticket ?? byId.get(ticketId) ?? null;
    const r = applyAction(current, action, SLA_ACTOR, now, ctx.policy);
    if (!r.ok) {
      ctx.log.warn({ ticketId, action: action.kind, error: r.error }, 'SLA action refused');
      continue;
    }
    if (!r.changed) continue;
    writes.set(ticketId, pending === undefined ? writeOf(current, r, action.kind) : chain(pending, r, action.kind));
  }
  const t2 = performance.now();
  const all = [...writes.values()];
  let written = 0;
  for (let i = 0; i < all.length; i += WRITE_CHUNK) {
    const landed = await commitWrites(ctx.db, ctx.bus, all.slice(i, i + WRITE_CHUNK), 'partial');
    written += landed?.length ?? 0;
  }
  const t3 = performance.now();
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    live: live.length, actions: actions.length, written, stale: all.length - written,
    ms: { load: r2(t1 - t0), plan: r2(t2 - t1), write: r2(t3 - t2), total: r2(t3 - t0) },
    tickets: live,
  };
}
