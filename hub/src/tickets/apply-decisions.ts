import type { RuleDecision, Ticket } from '@shaobing/schemas';
import { applyAction, planDecision, reviewBelowFor, type OfferPlace } from './core/index.ts';
import { isUniqueViolation, type TicketContext } from './context.ts';
import { lastResolvedByDedup, liveByDedup, loadByWorker } from './ticket-repo.ts';
import { commitWrites, writeOf } from './ticket-writer.ts';

export type DecisionOutcome = 'opened' | 'updated' | 'ignored';

export interface DecisionSummary {
  opened: number;
  updated: number;
  ignored: number;
  /** Decisions that hit a store error (logged); re-sending them is safe, see applyDecision. */
  failed: number;
}

/**
 * Optimistic attempts per decision. Each lost race means someone else's write landed, so the
 * loop always makes progress; the bound only stops a pathological livelock.
 */
const MAX_ATTEMPTS = 16;

const seen = (t: Ticket | null, eventKey: string): boolean => t !== null && t.evidence.some((e) => e.eventKey === eventKey);

/**
 * One rule decision against the tickets of its dedup key (tickets/core planDecision):
 * read the live ticket (and the last resolved one), plan, write in one transaction with the
 * audit rows, announce after commit. A lost race — the live-dedup unique index refusing our
 * INSERT, or a version moved on under our UPDATE — re-reads and re-plans: the second opener
 * of a key ends up adding an occurrence to the first one's ticket.
 *
 * Idempotent per piece of evidence: a decision whose evidence (eventKey) the ticket already
 * holds (among the last MAX_TICKET_EVIDENCE kept) is ignored, so a batch re-sent after a crash
 * or a store error, or the same event seen by two hub processes, counts nothing twice.
 */
/** 抢单 for a new ticket of this decision: the site's N for its category, at the device's place. */
function offerOf(ctx: TicketContext, d: RuleDecision): { nearest: number; place: OfferPlace } | undefined {
  if (d.kind !== 'open') return undefined;
  const nearest = ctx.registry.sites.get(d.siteId)?.offerNearest?.[d.category];
  if (nearest === undefined) return undefined;
  const dev = d.deviceId !== undefined ? ctx.registry.device(d.siteId, d.deviceId) : undefined;
  return { nearest, place: { cellId: d.cellId, lat: dev?.lat, lng: dev?.lng } };
}

export async function applyDecision(ctx: TicketContext, d: RuleDecision, now: number): Promise<DecisionOutcome> {
  const index = ctx.indexes.get(d.siteId);
  if (index === undefined) {
    ctx.log.warn({ siteId: d.siteId, ruleId: d.ruleId }, 'decision for an unknown site ignored');
    return 'ignored';
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const active = await liveByDedup(ctx.db, d.dedupKey);
    if (seen(active, d.evidence.eventKey)) return 'ignored';
    const opening = active === null && d.kind === 'open';
    // A device's all-clear may confirm a manual resolve that waits for it (no fake closures).
    const recent = opening || (active === null && d.kind === 'resolve_by_device') ? await lastResolvedByDedup(ctx.db, d.dedupKey) : null;
    if (seen(recent, d.evidence.eventKey)) return 'ignored';
    const load = opening ? await loadByWorker(ctx.db, d.siteId) : undefined;
    const locationLabel = d.kind === 'open'
      ? (d.deviceId !== undefined ? ctx.registry.device(d.siteId, d.deviceId)?.locationLabel : undefined) ?? index.cells.get(d.cellId)?.name ?? d.cellId
      : '';
    const offer = opening ? offerOf(ctx, d) : undefined;
    const reviewBelow = d.kind === 'open' ? reviewBelowFor(ctx.registry.sites.get(d.siteId), d.category) : undefined;
    const plan = planDecision(d, {
      active, recent, newId: ctx.newId(now), locationLabel, index, policy: ctx.policy, ...(load ? { load } : {}), ...(offer ? { offer } : {}),
      ...(reviewBelow !== undefined ? { reviewBelow } : {}),
    }, now);
    if (plan.kind === 'ignore') {
      ctx.log.debug({ dedupKey: d.dedupKey, reason: plan.reason }, 'decision ignored');
      return 'ignored';
    }
    const target = plan.kind === 'open' ? null : plan.ticketId === active?.id ? active : recent;
    const res = applyAction(target, plan.action, plan.actor, now, ctx.policy);
    if (!res.ok) {
      // The plan was made from what we just read, so a refusal is a real "no" (not a race).
      ctx.log.info({ dedupKey: d.dedupKey, action: plan.action.kind, error: res.error }, 'decision refused by the ticket state machine');
      return 'ignored';
    }
    if (!res.changed) return 'ignored';
    try {
      const landed = await commitWrites(ctx.db, ctx.bus, [writeOf(target, res, plan.action.kind)], 'all', ctx.outbox);
      if (landed !== null) return plan.kind === 'open' ? 'opened' : 'updated';
    } catch (err) {
      if (!(plan.kind === 'open' && isUniqueViolation(err))) throw err;
    }
    ctx.log.debug({ dedupKey: d.dedupKey, attempt }, 'lost a race on a dedup key; re-planning');
  }
  throw new Error(`decision for ${d.dedupKey} still contended after ${MAX_ATTEMPTS} attempts`);
}

/**
 * Applies decisions in order (order matters: an open then a resolve of the same key). Never
 * throws: a decision that fails on the store is logged and counted, the rest still run.
 */
export async function applyDecisions(ctx: TicketContext, decisions: readonly RuleDecision[], now: number): Promise<DecisionSummary> {
  const summary: DecisionSummary = { opened: 0, updated: 0, ignored: 0, failed: 0 };
  for (const d of decisions) {
    try {
      summary[await applyDecision(ctx, d, now)]++;
    } catch (err) {
      summary.failed++;
      ctx.log.error({ err, dedupKey: d.dedupKey, kind: d.kind, ruleId: d.ruleId }, 'rule decision not applied');
    }
  }
  return summary;
}
