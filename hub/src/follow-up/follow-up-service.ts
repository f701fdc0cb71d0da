import type { FollowUp, FollowUpBody, Rating, Ticket } from '@shaobing/schemas';
import type { HubBus } from '../bus.ts';
import { HubError } from '../errors.ts';
import { followUpOutcome } from '../kpi/core/definitions.ts';
import type { Db } from '../store/db.ts';
import { hubErrorOf } from '../tickets/context.ts';
import { applyAction, type SlaPolicy } from '../tickets/core/index.ts';
import type { TicketActor } from '../tickets/ticket-service.ts';
import { getTicket, insertAudit, updateTickets } from '../tickets/ticket-repo.ts';
import { busChange, chain, writeOf } from '../tickets/ticket-writer.ts';
import { insertFollowUp, secondHandlingList, type SecondHandlingRow } from './follow-up-repo.ts';

/** The audit note of a 二次办理 reopen (the resident said it is not solved). */
const SECOND_HANDLING_NOTE = '回访未解决，二次办理 (follow-up: not solved, second handling)';

/**
 * 回访 (DESIGN §6): the resident's two answers become the ticket's rating — 满意/基本满意 when
 * satisfied, 不满意 otherwise (which reopens it, 再派件) — and a "not solved" answer reopens it
 * too, so every 非双是 and 双否 goes back for a second handling (二次办理). The follow-up row,
 * the ticket and its audit rows commit in one transaction; live events go out after it.
 */
export class FollowUpService {
  constructor(private readonly opts: { db: Db; bus: HubBus; policy: () => SlaPolicy }) {}

  async record(ticketId: string, body: FollowUpBody, actor: TicketActor, now: number): Promise<{ ticket: Ticket; followUp: FollowUp }> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const t = await getTicket(this.opts.db, ticketId);
      if (t === null || (actor.sites && !actor.sites.includes(t.siteId))) throw new HubError('HUB_ERR_TICKET_NOT_FOUND', `no ticket ${ticketId}`);
      const outcome = followUpOutcome(body);
      const rating: Rating = body.satisfied ? body.rating ?? 'satisfied' : 'unsatisfied';
      const who = { id: actor.username, role: actor.role };
      const rated = applyAction(t, { kind: 'rate', rating, ...(body.note ? { note: body.note } : {}), ...(body.version ? { version: body.version } : {}) }, who, now, this.opts.policy());
      if (!rated.ok) throw hubErrorOf(rated.error);
      let write = writeOf(t, rated, 'rate');
      if (outcome !== 'double_yes' && write.ticket.status !== 'reopened') {
        const again = applyAction(write.ticket, { kind: 'reopen', note: SECOND_HANDLING_NOTE, reason: { code: 'second_handling' } }, who, now, this.opts.policy());
        if (!again.ok) throw hubErrorOf(again.error);
        write = chain(write, again, 'reopen');
      }
      const followUp: FollowUp = {
        ticketId, at: new Date(now).toISOString(), actor: actor.username, solved: body.solved, satisfied: body.satisfied, outcome, rating,
        ...(body.note ? { note: body.note } : {}),
      };
      const landed = await this.opts.db.transaction(async (tx) => {
        const ok = await updateTickets(tx, [{ ticket: write.ticket, prevVersion: write.prevVersion! }]);
        if (ok.size !== 1) return false;
        await insertAudit(tx, write.audit);
        await insertFollowUp(tx, followUp);
        return true;
      });
      if (landed) {
        for (const e of write.events) this.opts.bus.emit('ticket.changed', busChange(e.change, e.action));
        return { ticket: write.ticket, followUp };
      }
      if (body.version !== undefined) break;
    }
    throw new HubError('HUB_ERR_CONFLICT', `ticket ${ticketId} changed while saving; reload and retry`);
  }

  /** The dispatcher's list for 二次办理: tickets whose latest follow-up is 非双是 or 双否, newest first. */
  secondHandling(siteIds: readonly string[], since: number, limit = 200): Promise<SecondHandlingRow[]> {
    return secondHandlingList(this.opts.db, siteIds, since, limit);
  }
}
