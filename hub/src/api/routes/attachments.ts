import { randomBytes } from 'node:crypto';
import fastifyMultipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import { AttachmentInfo } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HubError } from '../../errors.ts';
import type { Db } from '../../store/db.ts';
import { attachmentContent, insertAttachment } from '../../tickets/attachment-repo.ts';
import { sniffImage } from '../../tickets/image-sniff.ts';
import { actorOf, stringField } from '../route-helpers.ts';
import { insertAudit } from '../../tickets/ticket-repo.ts';
import type { TicketService } from '../../tickets/ticket-service.ts';

export const ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024;
export const ATTACHMENTS_PER_TICKET = 10;

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const FileParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), attachmentId: Type.String({ minLength: 1, maxLength: 64 }) });

/** `<img src>` cannot send a header: the phone page and the board pass the token as `?token=`. */
async function tokenFromQuery(req: FastifyRequest): Promise<void> {
  const token = stringField(req.query, 'token');
  if (token !== undefined && req.headers.authorization === undefined) req.headers.authorization = `Bearer ${token}`;
}

/**
 * Photo evidence (DESIGN §6): `POST /api/tickets/:id/attachments` (multipart, field `file`),
 * JPEG/PNG/WebP by their bytes, at most ATTACHMENT_MAX_BYTES each and ATTACHMENTS_PER_TICKET
 * per ticket, stored in the database with an audit row in the same transaction; served back
 * only to those who may see the ticket (a worker: their own tickets).
 */
export async function attachmentRoutes(app: FastifyInstance, opts: { db: Db; tickets: TicketService; now?: () => number }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const now = opts.now ?? Date.now;
  await app.register(fastifyMultipart, { limits: { fileSize: ATTACHMENT_MAX_BYTES, files: 1, fields: 0, parts: 2 } });

  api.post('/api/tickets/:id/attachments', {
    schema: { tags: ['tickets'], params: Params, consumes: ['multipart/form-data'], response: { 201: AttachmentInfo }, description: `Upload a photo (field \`file\`; JPEG, PNG or WebP; ≤ ${ATTACHMENT_MAX_BYTES} bytes; ≤ ${ATTACHMENTS_PER_TICKET} per ticket). Send its id in \`photos\` when resolving.` },
    onRequest: app.requireRole('worker'),
  }, async (req, reply) => {
    const actor = actorOf(req);
    if (actor.role === 'viewer') throw new HubError('HUB_ERR_FORBIDDEN', 'viewers may not add evidence');
    const ticket = await opts.tickets.visible(req.params.id, actor);
    if (!req.isMultipart()) throw new HubError('HUB_ERR_BAD_ATTACHMENT', 'send multipart/form-data with the image in field "file"');
    const file = await req.file();
    if (!file || file.fieldname !== 'file') throw new HubError('HUB_ERR_BAD_ATTACHMENT', 'no image in field "file"');
    let content: Buffer;
    try {
      content = await file.toBuffer();
    } catch (err) {
      if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw new HubError('HUB_ERR_ATTACHMENT_TOO_LARGE', `at most ${ATTACHMENT_MAX_BYTES} bytes`);
      throw err;
    }
    const mime = sniffImage(content);
    if (mime === null) {
      req.log.warn({ ticketId: ticket.id, declared: file.mimetype, bytes: content.length }, 'attachment refused: not a JPEG/PNG/WebP image');
      throw new HubError('HUB_ERR_BAD_ATTACHMENT');
    }
    const at = new Date(now()).toISOString();
    const info = { id: `A${randomBytes(8).toString('hex')}`, ticketId: ticket.id, at, by: actor.username, mime, bytes: content.length, source: 'upload' as const };
    const stored = await opts.db.transaction(async (tx) => {
      if (!(await insertAttachment(tx, { ...info, content }, ATTACHMENTS_PER_TICKET))) return false;
      await insertAudit(tx, [{ ticketId: ticket.id, at, actor: actor.username, action: 'attach', from: ticket.status, to: ticket.status, note: `photo ${info.id} (${mime}, ${content.length} B)` }]);
      return true;
    });
    if (!stored) throw new HubError('HUB_ERR_TOO_MANY_ATTACHMENTS', `at most ${ATTACHMENTS_PER_TICKET} per ticket`);
    return reply.code(201).send(info);
  });

  api.get('/api/tickets/:id/attachments/:attachmentId', {
    schema: { tags: ['tickets'], params: FileParams, description: 'The image bytes; `?token=` works in place of the Authorization header (for <img>).' },
    onRequest: [tokenFromQuery, app.requireRole('worker')],
  }, async (req, reply) => {
    const { id, attachmentId } = req.params;
    await opts.tickets.visible(id, actorOf(req));
    const a = await attachmentContent(opts.db, id, attachmentId);
    if (!a) throw new HubError('HUB_ERR_ATTACHMENT_NOT_FOUND');
    return reply.header('content-type', a.info.mime).header('x-content-type-options', 'nosniff')
      .header('cache-control', 'private, max-age=86400').send(a.content);
  });
}
