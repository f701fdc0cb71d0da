import { Type } from '@sinclair/typebox';
import {
  OPERATOR_ACTIONS, Page, Ticket, TICKET_ACTION_BODIES, TicketActionReply, TicketDetailReply, TicketsQuery,
} from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { actionSegment, actorOf, minRoleFor } from '../route-helpers.ts';
import type { TicketService } from '../../tickets/ticket-service.ts';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/**
 * Tickets (工单): the board list, the detail with its timeline, one POST per operator action.
 * Reads need viewer; each action needs the least role the state machine's permission table
 * allows (a viewer gets 403 before the ticket is read); the core re-checks everything else.
 * Authentication runs onRequest, before the body is parsed: no token → 401, whatever was sent.
 */
export async function ticketRoutes(app: FastifyInstance, opts: { tickets: TicketService; now?: () => number }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const now = opts.now ?? Date.now;

  api.get('/api/tickets', {
    schema: {
      tags: ['tickets'], querystring: TicketsQuery, response: { 200: Page(Ticket) },
      description: 'Board order: overdue first, then by severity (critical first), then oldest; finished tickets last. `status` may repeat.',
    },
    // Workers pass too: the service narrows them to their own tickets (tickets/core workerSees).
    onRequest: app.requireRole('worker'),
  }, async (req, reply) => {
    // The stored documents are Tickets (schema-checked when written); the schema serializer
    // walks every union of every ticket (a page of 500: 92 ms against 16 ms here) for the same
    // JSON (tickets-list-json.test.ts), so a page is written with JSON.stringify.
    reply.serializer(JSON.stringify);
    return opts.tickets.list(req.query, actorOf(req), now());
  });

  api.get('/api/tickets/:id', {
    schema: { tags: ['tickets'], params: Params, response: { 200: TicketDetailReply }, description: 'Ticket, audit timeline, linked tickets, and the actions your role may take now.' },
    onRequest: app.requireRole('worker'),
  }, async (req) => opts.tickets.detail(req.params.id, actorOf(req)));

  for (const action of OPERATOR_ACTIONS) {
    api.post(`/api/tickets/:id/${actionSegment(action)}`, {
      schema: {
        tags: ['tickets'], params: Params, body: TICKET_ACTION_BODIES[action], response: { 200: TicketActionReply },
        description: `${action} (least role: ${minRoleFor(action)}). Send the ticket's \`version\` to get 409 HUB_ERR_CONFLICT instead of acting on a ticket that changed.`,
      },
      // Bodies are all-optional for some actions (accept): an empty POST means {}.
      preValidation: async (req) => { req.body ??= {}; },
      onRequest: app.requireRole(minRoleFor(action)),
    }, async (req) => {
      const actor = actorOf(req);
      const ticket = await opts.tickets.act(req.params.id, action, req.body, actor, now());
      return { ticket, audit: await opts.tickets.timeline(ticket.id), allowedActions: opts.tickets.allowedFor(ticket, actor) };
    });
  }
}
