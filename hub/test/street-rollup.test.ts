import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KPI_DIMENSIONS, KPI_DRILLS, type Ticket } from '@shaobing/schemas';
import { pino } from 'pino';
import { loadTickets, type LoadTimes } from '../../bench/read/history.ts';
import { benchDevices, benchSite, SITE_ID } from '../../bench/read/site.ts';
import { computeStreetKpis, type KpiSite, type Period } from '../src/kpi/core/index.ts';
import { drillScope } from '../src/kpi/drill-scope.ts';
import { refreshKpiRollup } from '../src/kpi/kpi-rollup.ts';
import { kpiTickets } from '../src/kpi/kpi-tickets.ts';
import { periodOf } from '../src/kpi/periods.ts';
import { rollupStreet } from '../src/kpi/street-rollup.ts';
import { buildGridIndex, DEFAULT_SLA_POLICY, reopenTicket } from '../src/tickets/core/index.ts';
import { getTicket, updateTickets } from '../src/tickets/ticket-repo.ts';
import { backendAvailable, openTestStore, type TestStore } from './support/pg.ts';

/**
 * The report screen's street figures (every group: site, 社区, 楼院, worker, category, 物业公司)
 * come from the per-day rollup's leaves (street-rollup.ts): exactly what computeStreetKpis gives
 * over the tickets, on both stores, for whole and partial days and after an old ticket changes.
 * The drill into one group (失分溯源) reads only the tickets that can belong to it
 * (drill-scope.ts): the same ids as a drill over the whole scope, for every group and figure.
 */
const TZ = 'Asia/Shanghai';
const DAY = 86_400_000;
const NOW = Date.parse('2026-03-10T05:30:00Z');
const LOOKBACK = Math.max(...Object.values(DEFAULT_SLA_POLICY.windows).map((w) => w.respondMs));

describe.each(['pglite', 'postgresql'] as const)('street figures from the rollup on %s', (backend) => {
  let store: TestStore;
  let sites: Map<string, KpiSite>;
  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    store = await openTestStore(backend, pino({ level: 'silent' }));
    const devices = benchDevices(40);
    const site = await benchSite(devices);
    sites = new Map([[SITE_ID, { name: site.sites[0]!.name, index: buildGridIndex(site.sites[0]!.grid, site.sites[0]!.workers) }]]);
    const t: LoadTimes = { eventsMs: 0, readingsMs: 0, ticketsMs: 0, events: 0, readings: 0, tickets: 0, audit: 0, followUps: 0 };
    await loadTickets(store.db, site, devices, 6, NOW, t);
  });
  afterAll(async () => { await store?.close(); });

  const recount = async (period: Period) => computeStreetKpis(await kpiTickets(store.db, [SITE_ID], period.from, period.to, LOOKBACK), period, NOW, sites);
  const rolled = (period: Period) => rollupStreet(store.db, { siteIds: [SITE_ID], tz: TZ, now: NOW, lookbackMs: LOOKBACK, period, sites });
  const today = periodOf('daily', NOW, TZ);
  const periods: Record<string, Period> = {
    'the last 5 whole days': { from: today.from - 5 * DAY, to: today.from },
    'rolling 5 days to now': { from: NOW - 5 * DAY, to: NOW },
    'a partial first and last day': { from: today.from - 4 * DAY - 7 * 3_600_000, to: today.from - DAY + 5 * 3_600_000 },
  };

  it.runIf(backendAvailable(backend))('equals the recount for every group of every dimension', async () => {
    for (const [name, p] of Object.entries(periods)) {
      const r = await rolled(p);
      expect(r, name).toEqual((await recount(p)).report);
    }
    const r = (await rolled(periods['the last 5 whole days']!))!;
    expect(r.total.tickets).toBeGreaterThan(200);
    expect(r.total.medianTimeToRespondMs).not.toBeNull();
    for (const d of KPI_DIMENSIONS) expect(r.groups[d].length, d).toBeGreaterThan(d === 'site' ? 0 : 1);
    expect(await rolled(today)).toBeNull(); // no complete day: the caller recounts
  });

  it.runIf(backendAvailable(backend))('stays equal after an old ticket is reopened', async () => {
    const p = periods['the last 5 whole days']!;
    await refreshKpiRollup(store.db, { siteIds: [SITE_ID], tz: TZ, now: NOW, lookbackMs: LOOKBACK });
    const before = await rolled(p);
    const [row] = await store.db.query<{ id: string }>(
      `SELECT id FROM tickets WHERE site_id = $1 AND status = 'closed' AND assignee_id IS NOT NULL AND opened_at >= $2::timestamptz ORDER BY id LIMIT 1`,
      [SITE_ID, new Date(today.from - 3 * DAY).toISOString()]);
    const t = (await getTicket(store.db, row!.id))!;
    const reopened: Ticket = { ...reopenTicket(t, NOW - 3_600_000, DEFAULT_SLA_POLICY), version: t.version + 1 };
    expect((await updateTickets(store.db, [{ ticket: reopened, prevVersion: t.version }])).size).toBe(1);
    const after = await rolled(p);
    expect(after).toEqual((await recount(p)).report);
    expect(after).not.toEqual(before);
  });

  it.runIf(backendAvailable(backend))('a drill into one group reads its tickets only and lists the same ids', async () => {
    const p = periods['rolling 5 days to now']!;
    const all = await recount(p);
    let checked = 0;
    for (const d of KPI_DIMENSIONS) {
      for (const g of all.report.groups[d]) {
        const scope = drillScope([SITE_ID], sites, d, g.id)!;
        expect(scope, `${d} ${g.id}`).not.toBeNull();
        const some = await kpiTickets(store.db, scope.siteIds, p.from, p.to, LOOKBACK, 'both', scope.filter);
        const part = computeStreetKpis(some, p, NOW, sites);
        // The same ids (a list's order is the database's row order: KpiService.drill sorts).
        for (const f of KPI_DRILLS) expect(part.drill(d, g.id, f)!.sort(), `${d} ${g.id} ${f}`).toEqual(all.drill(d, g.id, f)!.sort());
        if (d !== 'site' && d !== 'propertyCompany') expect(some.length).toBeLessThan(all.report.total.tickets);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
    expect(drillScope([SITE_ID], sites, 'compound', 'no-such-cell')).toBeNull();
    expect(drillScope([SITE_ID], sites, 'site', 'other-site')).toBeNull();
  });
});
