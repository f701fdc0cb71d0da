import { createHash, timingSafeEqual } from 'node:crypto';
import formbody from '@fastify/formbody';
import { Type } from '@sinclair/typebox';
import {
  Open311Created, Open311Error, Open311PostBody, Open311Request, Open311RequestsQuery, Open311Service,
  type Site,
} from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { HubError } from '../../errors.ts';
import { cellAt, cellPositions, isServiceCode, open311Services, toOpen311Request, type LatLng } from '../../open311/georeport.ts';
import { findRequests } from '../../open311/open311-repo.ts';
import { stringField } from '../route-helpers.ts';
import type { Registry } from '../../site/registry.ts';
import type { Db } from '../../store/db.ts';
import type { TicketService } from '../../tickets/ticket-service.ts';

export interface Open311Options {
  db: Db;
  tickets: TicketService;
  registry: Registry;
  /** OPEN311_API_KEY; null = Open311 refuses every call (403). */
  apiKey: string | null;
  now?: () => number;
}

const DAY_MS = 24 * 3600_000;
/** GeoReport v2: without dates, the last 90 days; at most 1000 requests. */
const DEFAULT_WINDOW_MS = 90 * DAY_MS;
const MAX_REQUESTS = 1000;
/** Who files complaints that arrive through Open311 (the audit actor of the opening). */
const OPEN311_ACTOR = { username: 'open311', role: 'dispatcher' as const, sites: null };

const Errors = Type.Array(Open311Error);
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function fail(reply: FastifyReply, status: number, description: string): FastifyReply {
  return reply.code(status).send([{ code: status, description }]);
}

/**
 * Open311 GeoReport v2, JSON (register with prefix '/open311'): services are the ticket
 * categories; requests are tickets; POST files a complaint (接诉即办) that the matcher links to
 * the proactive ticket already covering it. Every call carries `api_key`. Errors and unknown
 * paths answer the spec's `[{code, description}]` list, never the dashboard page.
 */
export async function open311Routes(app: FastifyInstance, opts: Open311Options): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const now = opts.now ?? Date.now;
  const key = opts.apiKey === null ? null : digest(opts.apiKey);
  const positions = new Map<string, Map<string, LatLng>>();
  const place = () => {
    positions.clear();
    for (const [id, site] of opts.registry.sites) positions.set(id, cellPositions(site));
  };
  place();
  opts.registry.onChange(place); // registry changes apply while the hub runs

  // Form bodies only here: the rest of the API stays JSON-only.
  await app.register(formbody);

  app.setErrorHandler((err: FastifyError | HubError, req, reply) => {
    if (err instanceof HubError) return fail(reply, err.statusCode, err.message);
    if ('validation' in err && err.validation) return fail(reply, 400, err.message);
    const status = err.statusCode ?? 500;
    if (status >= 500) req.log.error({ err }, 'open311 request failed');
    return fail(reply, status, status >= 500 ? 'internal error' : err.message);
  });
  app.setNotFoundHandler((req, reply) => fail(reply, 404, `no Open311 resource ${req.method} ${req.url.split('?')[0]}`));

  const authorised = (given: string | undefined): boolean =>
    key !== null && given !== undefined && timingSafeEqual(digest(given), key);
  // preValidation: the form body is parsed by now, and a caller without the key learns nothing from validation errors.
  app.addHook('preValidation', async (req, reply) => {
    if (req.is404) return; // unknown paths say so, key or not
    // Hooks run before the route's schema types apply: read the key field by field.
    const fromQuery = stringField(req.query, 'api_key');
    const fromBody = stringField(req.body, 'api_key');
    if (key === null) return fail(reply, 403, 'Open311 is disabled on this hub (set OPEN311_API_KEY)');
    if (!authorised(fromQuery ?? fromBody)) return fail(reply, 403, 'api_key missing or wrong');
  });

  const site = (jurisdiction: string | undefined): Site => {
    if (jurisdiction !== undefined) {
      const s = opts.registry.sites.get(jurisdiction);
      if (s === undefined) throw new HubError('HUB_ERR_NOT_FOUND', `unknown jurisdiction_id ${jurisdiction}`);
      return s;
    }
    if (opts.registry.sites.size !== 1) throw new HubError('HUB_ERR_VALIDATION', 'jurisdiction_id (the site id) is required on a hub with several sites');
    return [...opts.registry.sites.values()][0]!;
  };
  const requestOf = (t: Parameters<typeof toOpen311Request>[0]) =>
    toOpen311Request(t, opts.registry.sites.get(t.siteId), positions.get(t.siteId) ?? new Map());

  const Jurisdiction = Type.Object({ api_key: Type.Optional(Type.String({ maxLength: 200 })), jurisdiction_id: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });

  api.get('/v2/services.json', {
    schema: { tags: ['open311'], querystring: Jurisdiction, response: { 200: Type.Array(Open311Service), '4xx': Errors }, description: 'GeoReport v2 service list: the ticket categories.' },
  }, async () => open311Services());

  api.get('/v2/requests.json', {
    schema: {
      tags: ['open311'], querystring: Open311RequestsQuery, response: { 200: Type.Array(Open311Request), '4xx': Errors },
      description: 'GeoReport v2 service requests: tickets, newest first; filters service_request_id, service_code, start_date, end_date (default: last 90 days), status (open, closed).',
    },
  }, async (req) => {
    const q = req.query;
    const siteIds = q.jurisdiction_id !== undefined ? [site(q.jurisdiction_id).id] : [...opts.registry.sites.keys()];
    const codes = q.service_code?.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const c of codes ?? []) if (!isServiceCode(c)) throw new HubError('HUB_ERR_VALIDATION', `unknown service_code ${c}`);
    const statuses = q.status?.split(',').map((s) => s.trim());
    for (const s of statuses ?? []) if (s !== 'open' && s !== 'closed') throw new HubError('HUB_ERR_VALIDATION', `status must be open or closed, not ${s}`);
    const only = statuses?.length === 1 ? statuses[0] : undefined;
    const status = only === 'open' || only === 'closed' ? only : undefined;
    const end = q.end_date !== undefined ? Date.parse(q.end_date) : now();
    const start = q.start_date !== undefined ? Date.parse(q.start_date) : end - DEFAULT_WINDOW_MS;
    if (!(start <= end)) throw new HubError('HUB_ERR_VALIDATION', 'start_date must not be after end_date');
    const ids = q.service_request_id?.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const tickets = await findRequests(opts.db, {
      siteIds, from: start, to: end, limit: MAX_REQUESTS,
      ...(ids !== undefined ? { ids } : {}), ...(codes !== undefined ? { categories: codes } : {}), ...(status !== undefined ? { status } : {}),
    });
    return tickets.map(requestOf);
  });

  api.get('/v2/requests/:id.json', {
    schema: {
      tags: ['open311'], params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }), querystring: Jurisdiction,
      response: { 200: Type.Array(Open311Request), '4xx': Errors }, description: 'GeoReport v2: one service request (as a one-element list, as the spec says).',
    },
  }, async (req) => {
    const { id } = req.params;
    const t = await opts.tickets.get(id);
    if (t === null) throw new HubError('HUB_ERR_NOT_FOUND', `no service request ${id}`);
    return [requestOf(t)];
  });

  api.post('/v2/requests.json', {
    schema: {
      tags: ['open311'], body: Open311PostBody, consumes: ['application/x-www-form-urlencoded'],
      response: { 201: Type.Array(Open311Created), '4xx': Errors },
      description: 'GeoReport v2: file a complaint (form-encoded). Place: address_id (a grid cell id) or lat/long (the nearest device within 300 m). Linked to the proactive ticket that covers it, when one does.',
    },
  }, async (req, reply) => {
    const b = req.body;
    if (!isServiceCode(b.service_code)) throw new HubError('HUB_ERR_VALIDATION', `unknown service_code ${b.service_code}`);
    const s = site(b.jurisdiction_id);
    let cellId: string | undefined;
    if (b.address_id !== undefined) {
      if (!s.grid.some((c) => c.id === b.address_id)) throw new HubError('HUB_ERR_VALIDATION', `address_id ${b.address_id} is not a place of ${s.id}`);
      cellId = b.address_id;
    } else if (b.lat !== undefined && b.long !== undefined) {
      cellId = cellAt(s, { lat: b.lat, lng: b.long })?.cellId;
      if (cellId === undefined) throw new HubError('HUB_ERR_VALIDATION', 'lat/long is not within 300 m of any place of this site');
    } else {
      throw new HubError('HUB_ERR_VALIDATION', 'a location is required: address_id or lat and long');
    }
    const text = [b.description, b.address_string].filter((x) => x !== undefined && x.trim() !== '').join(' — ') || open311Services().find((x) => x.service_code === b.service_code)!.service_name;
    const ref = b.account_id ?? b.device_id;
    // The requester's contact, kept on the complaint for the 回访 follow-up.
    const name = [b.last_name, b.first_name].filter((x) => x !== undefined && x.trim() !== '').join(' ').slice(0, 100);
    const contact = {
      ...(name !== '' ? { name } : {}), ...(b.phone ? { phone: b.phone.slice(0, 32) } : {}), ...(b.email ? { email: b.email } : {}),
    };
    const result = await opts.tickets.openComplaint({
      siteId: s.id, cellId, category: b.service_code, text: text.slice(0, 2000), source: 'app',
      ...(ref !== undefined ? { externalRef: `open311:${ref}`.slice(0, 100) } : {}),
      ...(Object.keys(contact).length > 0 ? { contact } : {}),
    }, OPEN311_ACTOR, now());
    const notice = result.linked === null ? null : `已关联主动发现工单 ${result.linked.id}${result.preempted ? '（未诉先办）' : ''}`;
    return reply.code(201).send([{ service_request_id: result.ticket.id, service_notice: notice, account_id: b.account_id ?? null }]);
  });
}
