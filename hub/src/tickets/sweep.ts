import { performance } from 'node:perf_hooks';
import { MAX_ESCALATION_LEVEL, type Ticket } from '@shaobing/schemas';
import { applyAction, slaSweep, type Actor } from './core/index.ts';
import type { TicketContext } from './context.ts';
import { sweepCandidates } from './ticket-repo.ts';
import { chain, commitWrites, writeOf, type TicketWrite } from './ticket-writer.ts';

export const SLA_ACTOR: Actor = { id: 'system:sla', role: 'system' };

/** Tickets per transaction: few round trips, yet short transactions (the embedded store has one connection, shared with ingest). */
const WRITE_CHUNK = 250;

export interface SweepResult {
  /** Live tickets read: those that may be due (ticket-repo sweepCandidates), not every open one. */
  candidates: number;
  /** Warnings and escalations decided. */
  actions: number;
  /** Tickets written (a ticket may get a warning and an escalation in one write). */
  written: number;
  /** Tickets an operator changed between our read and our write: left for the next sweep. */
  stale: number;
  ms: { load: number; plan: number; write: number; total: number };
}

/**
 * One SLA pass (tickets/core slaSweep): read the live tickets that may be due, decide warnings (80 %) and
 * escalations (grid → community → street), apply them in order per ticket as `system:sla`,
 * write each changed ticket once with its audit rows, announce each step on the bus.
 *
 * Optimistic: a ticket an operator touched meanwhile is skipped, not overwritten; the next
 * sweep re-derives what is still due from the fresh row. Two hubs sweeping together are safe
 * the same way: the second one's writes are stale and skipped, so nothing is audited twice.
 */
export async function sweepSla(ctx: TicketContext, now: number): Promise<SweepResult> {
  const t0 = performance.now();
  const live = await sweepCandidates(ctx.db, now, ctx.policy, MAX_ESCALATION_LEVEL);
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
    const landed = await commitWrites(ctx.db, ctx.bus, all.slice(i, i + WRITE_CHUNK), 'partial', ctx.outbox);
    written += landed?.length ?? 0;
  }
  const t3 = performance.now();
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    candidates: live.length, actions: actions.length, written, stale: all.length - written,
    ms: { load: r2(t1 - t0), plan: r2(t2 - t1), write: r2(t3 - t2), total: r2(t3 - t0) },
  };
}
