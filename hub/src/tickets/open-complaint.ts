import type { ComplaintInput, Localized, Ticket } from '@shaobing/schemas';
import { HubError } from '../errors.ts';
import { applyAction, COMPLAINT_MATCH_WINDOW_MS, samePlace, ticketFromComplaint, toIso, type Actor } from './core/index.ts';
import { explainComplaintMatch, type MatchCandidate } from './core/complaint.ts';
import { hubErrorOf, isUniqueViolation, type TicketContext } from './context.ts';
import { complaintCandidates, loadByWorker } from './ticket-repo.ts';
import { chain, commitWrites, writeOf, type TicketWrite } from './ticket-writer.ts';

export interface ComplaintResult {
  ticket: Ticket;
  /** The proactive ticket that already covered the complaint (未诉先办), if any. */
  linked: Ticket | null;
  preempted: boolean;
  /** Why the matcher chose `linked` (null when nothing matched). */
  reason: Localized | null;
  /** Every proactive ticket it looked at, with its verdict. */
  candidates: MatchCandidate[];
}

const COMPLAINT_ACTOR: Actor = { id: 'system:complaint', role: 'system' };
const MAX_ATTEMPTS = 8;

/**
 * 接诉即办 intake: a reactive ticket for the complaint and, when a proactive ticket of the same
 * place and category is live or was resolved within 7 days, the link both ways with the
 * complaint marked pre-empted if the proactive ticket came first. The new ticket, both links
 * and the audit rows commit together; if the proactive ticket changed meanwhile, all of it is
 * re-planned (the complaint is never stored without its link).
 *
 * The intake operator is the audit actor of the opening; the links are `system:complaint`.
 */
export async function openComplaint(ctx: TicketContext, input: ComplaintInput, operator: string, now: number, opts: { dryRun?: boolean } = {}): Promise<ComplaintResult> {
  const index = ctx.indexes.get(input.siteId);
  if (index === undefined) throw new HubError('HUB_ERR_UNKNOWN_SITE', `no site ${input.siteId}`);
  if (!index.cells.has(input.cellId)) throw new HubError('HUB_ERR_UNKNOWN_CELL', `no grid cell ${input.cellId} in site ${input.siteId}`);
  // Only cells that can be "the same place" (tickets/core samePlace) are worth reading.
  const nearby = [...index.cells.keys()].filter((c) => samePlace(index, input.cellId, c));
  const since = toIso(now - COMPLAINT_MATCH_WINDOW_MS);

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const load = await loadByWorker(ctx.db, input.siteId);
    const offerNearest = ctx.registry.sites.get(input.siteId)?.offerNearest?.[input.category];
    const ticket = ticketFromComplaint(input, { newId: ctx.newId(now), index, load, policy: ctx.policy, ...(offerNearest !== undefined ? { offerNearest } : {}) }, now);
    const opened = applyAction(null, { kind: 'open', ticket }, { id: operator, role: 'system' }, now, ctx.policy);
    if (!opened.ok) throw hubErrorOf(opened.error);
    let own: TicketWrite = writeOf(null, opened, 'open');
    const writes: TicketWrite[] = [];

    const candidates = await complaintCandidates(ctx.db, input.siteId, input.category, nearby, since);
    const { match, candidates: judged } = explainComplaintMatch(ticket, candidates, index, now, undefined, input.linkTo);
    if (typeof input.linkTo === 'string' && match === null) {
      throw new HubError('HUB_ERR_VALIDATION', `ticket ${input.linkTo} is not an eligible match for this complaint`);
    }
    // The intake screen's preview: what would be linked and why, nothing stored.
    if (opts.dryRun === true) {
      return { ticket, linked: match?.proactive ?? null, preempted: match?.preempted ?? false, reason: match?.reason ?? null, candidates: judged };
    }
    if (match !== null) {
      const [toComplaint, toProactive] = match.links;
      const a = applyAction(own.ticket, toComplaint!.action, COMPLAINT_ACTOR, now, ctx.policy);
      if (a.ok && a.changed) own = chain(own, a, 'link');
      const b = applyAction(match.proactive, toProactive!.action, COMPLAINT_ACTOR, now, ctx.policy);
      if (b.ok && b.changed) writes.push(writeOf(match.proactive, b, 'link'));
    }
    writes.unshift(own);
    try {
      const landed = await commitWrites(ctx.db, ctx.bus, writes, 'all', ctx.outbox);
      if (landed !== null) {
        const linked = match === null ? null : writes[1]?.ticket ?? match.proactive;
        return { ticket: own.ticket, linked, preempted: own.ticket.preempted, reason: match?.reason ?? null, candidates: judged };
      }
    } catch (err) {
      // A ticket-id collision: a fresh id next round.
      if (!isUniqueViolation(err)) throw err;
    }
  }
  throw new HubError('HUB_ERR_CONFLICT', 'the matching proactive ticket kept changing; retry');
}
