import { Type } from '@sinclair/typebox';
import { ComplaintInput, Localized, Ticket, type ComplaintInput as Input } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../route-helpers.ts';
import type { TicketService } from '../../tickets/ticket-service.ts';

const ComplaintReply = Type.Object({
  ticket: Ticket,
  /** The proactive ticket that already covered this place and category (未诉先办), if any. */
  linked: Type.Union([Ticket, Type.Null()]),
  /** The proactive ticket existed before the resident reported. */
  preempted: Type.Boolean(),
  /** Why `linked` was chosen (most specific place, same topic, live or recently resolved). */
  reason: Type.Union([Localized, Type.Null()]),
  candidates: Type.Array(Type.Object({
    ticketId: Type.String(),
    verdict: Type.Union([Type.Literal('chosen'), Type.Literal('eligible'), Type.Literal('ruled_out')]),
    reason: Localized,
  })),
});

/** POST /api/complaints — 接诉即办 intake (dispatcher and above). */
export async function complaintRoutes(app: FastifyInstance, opts: { tickets: TicketService; now?: () => number }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const now = opts.now ?? Date.now;
  api.post('/api/complaints', {
    schema: {
      tags: ['complaints'], body: ComplaintInput, response: { 201: ComplaintReply },
      description: 'Opens a reactive ticket; links it to a live (or resolved within 7 days) proactive ticket of the same place and category, marking it pre-empted when the proactive one came first.',
    },
    onRequest: app.requireRole('dispatcher'),
  }, async (req, reply) => {
    const result = await opts.tickets.openComplaint(req.body, actorOf(req), now());
    return reply.code(201).send(result);
  });
  api.post('/api/complaints/match', {
    schema: {
      tags: ['complaints'], body: ComplaintInput, response: { 200: ComplaintReply },
      description: 'Preview for the intake screen: the proactive tickets this complaint would match, each with the reason for its verdict; nothing is stored.',
    },
    onRequest: app.requireRole('dispatcher'),
  }, async (req) => opts.tickets.previewComplaint(req.body, actorOf(req), now()));
}
