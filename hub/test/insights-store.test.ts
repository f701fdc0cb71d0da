import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadTickets, type LoadTimes } from '../../bench/read/history.ts';
import { benchDevices, benchSite, SITE_ID } from '../../bench/read/site.ts';
import { HubBus } from '../src/bus.ts';
import { seasonalCountsOf, seasonalWarnings, type SeasonalCounts } from '../src/kpi/core/insights.ts';
import { InsightsService } from '../src/kpi/insights-service.ts';
import { Registry } from '../src/site/registry.ts';
import { buildGridIndex } from '../src/tickets/core/index.ts';
import { TicketService } from '../src/tickets/ticket-service.ts';
import { backendAvailable, openTestStore, type TestStore } from './support/pg.ts';

/**
 * The seasonal warning (季节性预警) counts its windows in the database (InsightsService
 * seasonalCounts: a few rows per category × cell instead of 3 years of tickets): the same
 * counts, and so the same warnings, as the core gives over every ticket fact, on both stores.
 */
const DAY = 86_400_000;
const NOW = Date.parse('2026-07-01T04:00:00Z');

describe.each(['pglite', 'postgresql'] as const)('seasonal counts in the store on %s', (backend) => {
  let store: TestStore;
  let insights: InsightsService;
  let index: ReturnType<typeof buildGridIndex>;
  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    store = await openTestStore(backend, pino({ level: 'silent' }));
    const devices = benchDevices(4);
    const site = await benchSite(devices);
    index = buildGridIndex(site.sites[0]!.grid, site.sites[0]!.workers);
    const t: LoadTimes = { eventsMs: 0, readingsMs: 0, ticketsMs: 0, events: 0, readings: 0, tickets: 0, audit: 0, followUps: 0 };
    await loadTickets(store.db, site, devices, 440, NOW, t); // ≈ 2,700 tickets over 14 months: a year ago has history
    const log = pino({ level: 'silent' });
    insights = new InsightsService({ db: store.db, tickets: new TicketService({ db: store.db, bus: new HubBus(), registry: new Registry(site), log }), tz: 'Asia/Shanghai' });
  });
  afterAll(async () => { await store?.close(); });

  const byKey = (xs: readonly SeasonalCounts[]) => xs.slice().sort((a, b) => (a.category + a.cellId < b.category + b.cellId ? -1 : 1));

  it.runIf(backendAvailable(backend))('equals the core over every ticket fact, counts and warnings', async () => {
    for (const now of [NOW, NOW - 40 * DAY]) {
      const facts = await insights.facts(SITE_ID, now - 3 * 365 * DAY - 60 * DAY, now);
      const counts = await insights.seasonalCounts(SITE_ID, now);
      expect(byKey(counts)).toEqual(byKey(seasonalCountsOf(facts, now)));
      expect(counts.some((c) => c.season[0]! > 0 && c.base[0]! > 0)).toBe(true);
      expect(counts.some((c) => c.recent > 0)).toBe(true);
      expect(await insights.seasonal(SITE_ID, now)).toEqual(seasonalWarnings(facts, now, index));
    }
  });
});
