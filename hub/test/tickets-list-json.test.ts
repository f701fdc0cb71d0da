import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { Page, Ticket } from '@shaobing/schemas';
import { pino } from 'pino';
import { loadTickets, type LoadTimes } from '../../bench/read/history.ts';
import { benchDevices, benchSite } from '../../bench/read/site.ts';
import { HubBus } from '../src/bus.ts';
import { Registry } from '../src/site/registry.ts';
import { TicketService } from '../src/tickets/ticket-service.ts';
import { openTestStore, type TestStore } from './support/pg.ts';

/**
 * GET /api/tickets writes its page with JSON.stringify instead of the response schema's
 * serializer (routes/tickets.ts: 6× faster for a page of 500). That is only right while a listed
 * ticket holds nothing the schema would drop or reshape: checked here over tickets in every
 * state, resolution and follow-up the read bench's history builds, as the store returns them.
 */
const NOW = Date.parse('2026-03-10T05:30:00Z');

describe('the ticket list as JSON', () => {
  let store: TestStore;
  let tickets: TicketService;
  beforeAll(async () => {
    store = await openTestStore('pglite', pino({ level: 'silent' }));
    const devices = benchDevices(40);
    const site = await benchSite(devices);
    const t: LoadTimes = { eventsMs: 0, readingsMs: 0, ticketsMs: 0, events: 0, readings: 0, tickets: 0, audit: 0, followUps: 0 };
    await loadTickets(store.db, site, devices, 3, NOW, t);
    tickets = new TicketService({ db: store.db, bus: new HubBus(), registry: new Registry(site), log: pino({ level: 'silent' }) });
  });
  afterAll(async () => { await store?.close(); });

  it('is what the schema serializer writes, for every kind of ticket', async () => {
    const page = await tickets.list({ limit: 500 }, { sites: null }, NOW);
    // The serializer the route used before: fastify's, from the same response schema.
    const app = Fastify();
    app.get('/page', { schema: { response: { 200: Page(Ticket) } } }, async () => page);
    const bySchema = (await app.inject('/page')).body;
    await app.close();
    expect(page.items.length).toBeGreaterThan(150);
    expect(new Set(page.items.map((t) => t.status)).size).toBeGreaterThanOrEqual(6);
    expect(page.items.some((t) => t.resolution !== undefined && t.rating !== undefined)).toBe(true);
    expect(JSON.parse(JSON.stringify(page))).toEqual(JSON.parse(bySchema));
  });
});
