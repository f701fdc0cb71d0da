import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVE_TICKET_STATUSES, SEVERITIES, type Ticket, type TicketsQuery } from '@shaobing/schemas';
import { pino } from 'pino';
import { buildGridIndex, newTicket, routeTicket } from '../src/tickets/core/index.ts';
import { listTickets } from '../src/tickets/ticket-query.ts';
import { insertTickets } from '../src/tickets/ticket-repo.ts';
import { backendAvailable, openTestStore, type TestStore } from './support/pg.ts';

/**
 * The board's listing reads live and finished tickets as two index-ordered parts (migration
 * 105); the pages must still be the board's order (overdue, live, finished; severity; oldest;
 * id) with no gap or repeat across the part boundary, for every filter the screens use.
 */
const NOW = Date.parse('2026-03-10T05:30:00Z');
const STATUSES = ['open', 'dispatched', 'accepted', 'reopened', 'resolved', 'closed', 'dismissed'] as const;
const grid = [{ id: 'street', level: 'street' as const, name: 's' }, { id: 'yard', level: 'compound' as const, name: 'y', parentId: 'street' }];
const index = buildGridIndex(grid, [{ id: 'w1', name: 'w', cellId: 'yard', teams: ['cleaning', 'security', 'maintenance', 'care'] }]);

function ticket(i: number): Ticket {
  // Several tickets share an opening time, so the id decides among them.
  const opened = NOW - 10 * 3_600_000 + Math.floor(i / 3) * 600_000;
  const t = newTicket({
    id: `Q${String(i).padStart(3, '0')}`, siteId: i % 5 === 0 ? 's2' : 's1', origin: 'proactive', severity: SEVERITIES[i % 3]!, category: 'sanitation', cellId: 'yard',
    title: { 'zh-CN': 't', en: 't' }, description: { 'zh-CN': 'd', en: 'd' }, locationLabel: 'y', deviceVerifiable: false, evidence: [],
  }, routeTicket({ cellId: 'yard', category: 'sanitation' }, index), opened);
  const status = STATUSES[i % STATUSES.length]!;
  // Some live ones well past their deadlines (overdue), the rest fresh.
  const shift = (ACTIVE_TICKET_STATUSES as readonly string[]).includes(status) && i % 2 === 0 ? 0 : 12 * 3_600_000;
  return { ...t, status, respondBy: new Date(Date.parse(t.respondBy) + shift).toISOString(), resolveBy: new Date(Date.parse(t.resolveBy) + shift).toISOString() };
}

/** The order the board defines, computed here from the documents. */
function boardOrder(ts: Ticket[]): string[] {
  const grp = (t: Ticket) => (!(ACTIVE_TICKET_STATUSES as readonly string[]).includes(t.status) ? 2
    : Date.parse(t.resolveBy) < NOW || (t.acceptedAt === null && Date.parse(t.respondBy) < NOW) ? 0 : 1);
  return ts.slice().sort((a, b) => grp(a) - grp(b) || SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity)
    || Date.parse(a.openedAt) - Date.parse(b.openedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((t) => t.id);
}

describe.each(['pglite', 'postgresql'] as const)('board listing on %s', (backend) => {
  let store: TestStore;
  const all = Array.from({ length: 70 }, (_, i) => ticket(i));
  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    store = await openTestStore(backend, pino({ level: 'silent' }));
    await insertTickets(store.db, all);
  });
  afterAll(async () => { await store?.close(); });

  const pages = async (q: TicketsQuery, sites: string[] | null = null): Promise<string[]> => {
    const out: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await listTickets(store.db, { ...q, limit: 4, ...(cursor ? { cursor } : {}) }, sites, NOW);
      out.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor;
    } while (cursor !== null && out.length < 200);
    return out;
  };

  it.runIf(backendAvailable(backend))('pages through every filter in the board order, across the live / finished boundary', async () => {
    const cases: Array<[TicketsQuery, string[] | null, (t: Ticket) => boolean]> = [
      [{}, null, () => true],
      [{ siteId: 's1' }, null, (t) => t.siteId === 's1'],
      [{ status: [...ACTIVE_TICKET_STATUSES] }, null, (t) => (ACTIVE_TICKET_STATUSES as readonly string[]).includes(t.status)],
      [{ siteId: 's1', status: ['resolved', 'closed', 'dismissed'] }, null, (t) => t.siteId === 's1' && ['resolved', 'closed', 'dismissed'].includes(t.status)],
      [{ status: ['accepted', 'closed'] }, null, (t) => ['accepted', 'closed'].includes(t.status)],
      [{ overdue: true }, null, (t) => boardOrder([t]).length === 1 && (ACTIVE_TICKET_STATUSES as readonly string[]).includes(t.status) && (Date.parse(t.resolveBy) < NOW || (t.acceptedAt === null && Date.parse(t.respondBy) < NOW))],
      [{ severity: 'critical' }, ['s2'], (t) => t.severity === 'critical' && t.siteId === 's2'],
    ];
    for (const [q, sites, keep] of cases) {
      const want = boardOrder(all.filter(keep));
      expect(await pages(q, sites), JSON.stringify(q)).toEqual(want);
    }
    // One page of the finished list, as the dashboard asks for it.
    const done = await listTickets(store.db, { siteId: 's1', status: ['resolved', 'closed', 'dismissed'], limit: 5 }, null, NOW);
    expect(done.items.map((t) => t.id)).toEqual(boardOrder(all.filter((t) => t.siteId === 's1' && ['resolved', 'closed', 'dismissed'].includes(t.status))).slice(0, 5));
  });
});
