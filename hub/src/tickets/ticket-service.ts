import type { AuditEntry, ComplaintInput, OperatorAction, RuleDecision, Ticket, TicketDetail, TicketsQuery, UserRole } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { HubBus } from '../bus.ts';
import { HubError } from '../errors.ts';
import type { Registry } from '../site/registry.ts';
import type { Db, Queryable } from '../store/db.ts';
import { applyDecisions, type DecisionSummary } from './apply-decisions.ts';
import { buildIndexes, hubErrorOf, newTicketId, type TicketContext } from './context.ts';
import {
  allowedActions, applyAction, cellsWithin, DEFAULT_SLA_POLICY, resolveNeedsPhoto, takenFrom, workerScope, workerSees,
  type Actor, type GridIndex, type OperatorTicketAction, type SlaPolicy, type WorkerScope,
} from './core/index.ts';
import { attachmentIdsOf, listAttachments } from './attachment-repo.ts';
import { sweepUnconfirmed } from './device-confirm-sweep.ts';
import { workerTickets } from './worker-tickets.ts';
import { deliveriesOf } from '../notify/outbox-repo.ts';
import { openComplaint, type ComplaintResult } from './open-complaint.ts';
import { sweepSla, type SweepResult } from './sweep.ts';
import { listTickets, type TicketPage } from './ticket-query.ts';
import { auditOf, getTicket, getTickets, liveDedupKeys } from './ticket-repo.ts';
import { commitWrites, writeOf } from './ticket-writer.ts';

export interface TicketServiceOptions {
  db: Db;
  bus: HubBus;
  registry: Registry;
  log: Logger;
  policy?: SlaPolicy;
  /** Ticket id generator (tests may pin ids). */
  newId?: (now: number) => string;
  /** Writes notifications in the ticket change's own transaction (notify/outbox.ts). */
  outbox?: TicketContext['outbox'];
}

/** The authenticated operator (req.user): username for the audit, role for the permission table. */
export interface TicketActor {
  username: string;
  role: UserRole;
  /** Sites the operator may see; null or absent = all. */
  sites?: readonly string[] | null;
}

/** An operator action's body (TICKET_ACTION_BODIES[action]), `version` included. */
export type ActionBody = Omit<OperatorTicketAction, 'kind'> & Record<string, unknown>;

/**
 * The ticket domain's I/O shell (DESIGN §6): the pure core (tickets/core) decides, this
 * persists to `tickets`/`ticket_audit` with optimistic concurrency and announces every change
 * on the bus ('ticket.changed') after it commits. No I/O in the constructor.
 *
 * Callers: the rule shell (applyDecisions), the REST routes (act, openComplaint, detail, list),
 * the SLA cron (sweepSla). Every method takes `now` so tests drive the clock.
 */
export class TicketService {
  private readonly ctx: TicketContext;

  constructor(opts: TicketServiceOptions) {
    this.ctx = {
      db: opts.db, bus: opts.bus, registry: opts.registry, log: opts.log,
      policy: opts.policy ?? DEFAULT_SLA_POLICY,
      indexes: buildIndexes(opts.registry),
      newId: opts.newId ?? newTicketId,
      ...(opts.outbox ? { outbox: opts.outbox } : {}),
    };
    // The registry can change while the hub runs (store/registry-sync.ts): rebuild the indexes.
    opts.registry.onChange((r) => { this.ctx.indexes = buildIndexes(r); });
  }

  /**
   * The rule's hold time (`forMs`) by site and rule id: how long a device has to confirm a
   * manual resolve of its ticket. Set by the hub once the rule engine exists.
   */
  holdMsOf: (siteId: string, ruleId: string) => number | undefined = () => undefined;

  /** A worker's scope (cells, teams), or undefined for operators. */
  scopeOf(actor: Pick<TicketActor, 'username' | 'role'>): WorkerScope | undefined {
    if (actor.role !== 'worker') return undefined;
    const acc = this.ctx.registry.account(actor.username)?.worker;
    const index = acc ? this.ctx.indexes.get(acc.siteId) : undefined;
    return acc && index ? workerScope(acc.siteId, acc.worker, index) : undefined;
  }

  /** The UI's buttons for this actor (a worker's depend on their scope). */
  allowedFor(ticket: Ticket, actor: TicketActor): OperatorAction[] {
    return allowedActions(ticket, actor.role, actor.username, this.scopeOf(actor));
  }

  private coreActor(actor: TicketActor): Actor {
    const scope = this.scopeOf(actor);
    return { id: actor.username, role: actor.role, ...(scope ? { scope } : {}) };
  }

  get policy(): SlaPolicy {
    return this.ctx.policy;
  }

  /** The grid index of a site (routing, complaint matching, community rankings). */
  gridIndex(siteId: string): GridIndex | undefined {
    return this.ctx.indexes.get(siteId);
  }

  /**
   * What the rule shell calls with the rule core's decisions, in order. Per decision: one
   * transaction (ticket + audit), re-planned on a lost race, idempotent per evidence eventKey.
   * Never throws; store failures are logged and counted in `failed` (re-sending is safe).
   */
  applyDecisions(decisions: readonly RuleDecision[], now: number = Date.now()): Promise<DecisionSummary> {
    return applyDecisions(this.ctx, decisions, now);
  }

  /**
   * The decisions of one site owner (cluster/site-owners.ts): every ticket write first runs
   * `check` in its own transaction — the lease's fencing token — and a throw rolls it back.
   */
  fenced(check: (tx: Queryable) => Promise<void>): Pick<TicketService, 'applyDecisions' | 'liveDedupKeys'> {
    const outbox = this.ctx.outbox;
    const ctx: TicketContext = { ...this.ctx, outbox: async (tx, landed) => { await check(tx); await outbox?.(tx, landed); } };
    return {
      applyDecisions: (decisions, now = Date.now()) => applyDecisions(ctx, decisions, now),
      liveDedupKeys: (siteIds) => this.liveDedupKeys(siteIds),
    };
  }

  /**
   * An operator action (POST /api/tickets/:id/<action>). With `body.version`, a ticket that
   * moved on is a 409 HUB_ERR_CONFLICT (the operator saw something else); without it, a
   * concurrent write is retried once on the fresh ticket, and the core re-checks it.
   */
  async act(ticketId: string, action: OperatorAction, body: ActionBody, actor: TicketActor, now: number = Date.now()): Promise<Ticket> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const t = await this.visible(ticketId, actor);
      const res = applyAction(t, await this.withShellFacts(t, { ...body, kind: action } as OperatorTicketAction), this.coreActor(actor), now, this.ctx.policy);
      if (!res.ok) throw hubErrorOf(res.error);
      if (!res.changed) return t;
      const landed = await commitWrites(this.ctx.db, this.ctx.bus, [writeOf(t, res, action)], 'all', this.ctx.outbox);
      if (landed !== null) return res.ticket;
      // 抢单: the write is conditional on the version, so of two accepts one lands; the other learns who won.
      if (actor.role === 'worker' && action === 'accept') this.throwIfTaken(await getTicket(this.ctx.db, ticketId), actor);
      if (body.version !== undefined) break;
    }
    throw new HubError('HUB_ERR_CONFLICT', `ticket ${ticketId} changed while saving; reload and retry`);
  }

  /** What the core needs to know about a resolve that only the shell knows: site rule, hold time, photos. */
  private async withShellFacts(t: Ticket, a: OperatorTicketAction): Promise<OperatorTicketAction> {
    if (a.kind !== 'resolve') return a;
    if (a.photos !== undefined && a.photos.length > 0) {
      const own = new Set(await attachmentIdsOf(this.ctx.db, t.id));
      const foreign = a.photos.find((id) => !own.has(id));
      if (foreign !== undefined) throw new HubError('HUB_ERR_ATTACHMENT_NOT_FOUND', `attachment ${foreign} is not one of this ticket's`);
    }
    const hold = t.ruleId !== undefined ? this.holdMsOf(t.siteId, t.ruleId) : undefined;
    return {
      ...a,
      photoRequired: this.ctx.registry.sites.get(t.siteId)?.resolvePhotoRequired ?? true,
      ...(hold !== undefined ? { confirmWithinMs: hold } : {}),
    };
  }

  /** The matcher's verdict for a complaint not yet recorded (the intake screen's preview). */
  async previewComplaint(input: ComplaintInput, actor: TicketActor, now: number = Date.now()): Promise<ComplaintResult> {
    if (actor.sites && !actor.sites.includes(input.siteId)) throw new HubError('HUB_ERR_UNKNOWN_SITE', `no site ${input.siteId}`);
    return openComplaint(this.ctx, input, actor.username, now, { dryRun: true });
  }

  /** POST /api/complaints: a reactive ticket, linked to the proactive one that covered it. */
  async openComplaint(input: ComplaintInput, actor: TicketActor, now: number = Date.now()): Promise<ComplaintResult> {
    if (actor.sites && !actor.sites.includes(input.siteId)) throw new HubError('HUB_ERR_FORBIDDEN', `you may not file complaints for site ${input.siteId}`);
    return openComplaint(this.ctx, input, actor.username, now);
  }

  /** One SLA pass at `now` (the cron calls it every 30 s; tests call it with their clock). */
  async sweepSla(now: number = Date.now()): Promise<SweepResult> {
    const r = await sweepSla(this.ctx, now);
    // Manual resolves whose device never confirmed: reopened (no fake closures).
    const reopened = await sweepUnconfirmed(this.ctx, now);
    return reopened === 0 ? r : { ...r, actions: r.actions + reopened, written: r.written + reopened };
  }

  /** Dedup keys of the sites' live tickets (the rule shell's rebuild re-asserts only the others). */
  liveDedupKeys(siteIds: readonly string[]): Promise<string[]> {
    return liveDedupKeys(this.ctx.db, siteIds);
  }

  /** One ticket without access checks (Open311 and other callers that check access themselves). */
  get(id: string): Promise<Ticket | null> {
    return getTicket(this.ctx.db, id);
  }

  /** Ticket, timeline and linked tickets, plus the actions this operator may take now. */
  /** The audit timeline of a ticket (oldest first), e.g. to send back with an action's reply. */
  timeline(id: string): Promise<AuditEntry[]> {
    return auditOf(this.ctx.db, id);
  }

  async detail(id: string, actor: TicketActor): Promise<TicketDetail & { allowedActions: OperatorAction[] }> {
    const ticket = await this.visible(id, actor);
    const [audit, linked, attachments, deliveries] = await Promise.all([
      auditOf(this.ctx.db, id), getTickets(this.ctx.db, ticket.linkedTicketIds), listAttachments(this.ctx.db, id), deliveriesOf(this.ctx.db, id),
    ]);
    const photoRequired = resolveNeedsPhoto(ticket, this.ctx.registry.sites.get(ticket.siteId)?.resolvePhotoRequired ?? true);
    return { ticket, audit, linked, attachments, deliveries, photoRequired, allowedActions: this.allowedFor(ticket, actor) };
  }

  /** The board list. Asking for a site you may not see is 403 (as for KPIs), not an empty page. */
  async list(query: TicketsQuery, actor: Pick<TicketActor, 'sites'> & Partial<TicketActor>, now: number = Date.now()): Promise<TicketPage> {
    if (actor.role === 'worker' && actor.username !== undefined) {
      const scope = this.scopeOf({ username: actor.username, role: 'worker' });
      return { items: scope ? await workerTickets(this.ctx.db, scope, now) : [], nextCursor: null };
    }
    if (query.siteId !== undefined) {
      if (!this.ctx.registry.sites.has(query.siteId)) throw new HubError('HUB_ERR_UNKNOWN_SITE', `no site ${query.siteId}`);
      if (actor.sites && !actor.sites.includes(query.siteId)) throw new HubError('HUB_ERR_FORBIDDEN', `you may not see site ${query.siteId}`);
    }
    let cells: string[] | undefined;
    if (query.within !== undefined) {
      const index = query.siteId !== undefined ? this.gridIndex(query.siteId) : undefined;
      if (!index?.cells.has(query.within)) throw new HubError('HUB_ERR_UNKNOWN_CELL', query.siteId === undefined ? '`within` needs a siteId' : `no grid cell ${query.within} in site ${query.siteId}`);
      cells = cellsWithin(index, query.within);
    }
    return listTickets(this.ctx.db, query, actor.sites ?? null, now, cells);
  }

  /**
   * A ticket the operator may see; another site's ticket is "not found", not "forbidden".
   * A worker sees theirs and the unassigned ones they may take (tickets/core workerSees).
   */
  async visible(id: string, actor: TicketActor): Promise<Ticket> {
    const t = await getTicket(this.ctx.db, id);
    if (t === null || (actor.sites && !actor.sites.includes(t.siteId))) throw new HubError('HUB_ERR_TICKET_NOT_FOUND', `no ticket ${id}`);
    if (actor.role === 'worker') {
      const scope = this.scopeOf(actor);
      if (scope === undefined || !workerSees(t, scope)) {
        this.throwIfTaken(t, actor);
        throw new HubError('HUB_ERR_TICKET_NOT_FOUND', `no ticket ${id}`);
      }
    }
    return t;
  }

  /** A worker offered the ticket (抢单) whom another beat to it: a clear 409 naming the winner. */
  private throwIfTaken(t: Ticket | null, actor: TicketActor): void {
    const winner = t === null ? null : takenFrom(t, actor.username);
    if (winner !== null) throw new HubError('HUB_ERR_ALREADY_TAKEN', `ticket ${t!.id} was taken by ${winner}`);
  }
}
