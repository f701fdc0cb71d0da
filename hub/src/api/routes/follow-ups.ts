import { Type } from '@sinclair/typebox';
import { FollowUp, FollowUpBody, Id, Ticket } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { FollowUpService } from '../../follow-up/follow-up-service.ts';
import type { Registry } from '../../site/registry.ts';
import { actorOf, siteScope } from '../route-helpers.ts';

const DAY_MS = 24 * 3600_000;

/**
 * 回访: POST /api/tickets/:id/follow-up records the resident's 是否解决 / 是否满意 (非双是 and 双否
 * reopen the ticket for 二次办理); GET /api/follow-ups/second-handling is the dispatcher's list.
 */
export async function followUpRoutes(app: FastifyInstance, opts: { followUps: FollowUpService; registry: Registry; now?: () => number }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const now = opts.now ?? Date.now;
  api.post('/api/tickets/:id/follow-up', {
    schema: {
      tags: ['tickets'], params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }), body: FollowUpBody,
      response: { 200: Type.Object({ ticket: Ticket, followUp: FollowUp }) },
      description: '回访 of a resolved or closed ticket: solved and satisfied = 双是 (closes it); anything else reopens it for 二次办理.',
    },
    onRequest: app.requireRole('dispatcher'),
  }, async (req) => {
    return opts.followUps.record(req.params.id, req.body, actorOf(req), now());
  });

  api.get('/api/follow-ups/second-handling', {
    schema: {
      tags: ['tickets'],
      querystring: Type.Object({ siteId: Type.Optional(Id), days: Type.Optional(Type.Integer({ minimum: 1, maximum: 93, default: 1 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(Type.Object({ followUp: FollowUp, ticket: Ticket })) }) },
      description: 'Tickets whose latest follow-up in the last `days` (default 1: today’s list) is 非双是 or 双否, newest first.',
    },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    return { items: await opts.followUps.secondHandling(siteScope(req, opts.registry, q.siteId), now() - (q.days ?? 1) * DAY_MS) };
  });
}
