// Measures the KPI core over a street's month: computeKpis (the dashboard header, after every
// SLA sweep) and computeStreetKpis (every figure per site/community/compound/worker/category/
// property company with drill-down lists) on the demo site's grid.
// Run: npx tsx bench/street-kpis.ts [tickets] [runs]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CATEGORIES, SEVERITIES, type SiteFile, type Ticket } from '@shaobing/schemas';
import { computeKpis, computeStreetKpis, type KpiTicket } from '../hub/src/kpi/core/index.ts';
import { buildGridIndex, newTicket, routeTicket } from '../hub/src/tickets/core/index.ts';

const N = Number(process.argv[2] ?? 10_000);
const RUNS = Number(process.argv[3] ?? 20);
const site = (JSON.parse(readFileSync(new URL('../hub/sites/demo-site.json', import.meta.url), 'utf8')) as SiteFile).sites[0]!;
const index = buildGridIndex(site.grid, site.workers);
const units = site.grid.filter((c) => c.level === 'unit');
const FROM = Date.parse('2026-03-01T00:00:00.000Z');
const TO = FROM + 31 * 24 * 3600_000;

// A month of tickets in every state the definitions distinguish: accepted in time or late,
// device-cleared, operator-resolved with an arrival, followed up, dismissed.
const tickets: KpiTicket[] = [];
for (let i = 0; i < N; i++) {
  const cellId = units[i % units.length]!.id;
  const category = CATEGORIES[i % CATEGORIES.length]!;
  const openedAt = FROM + Math.floor((i / N) * (TO - FROM));
  let t: Ticket = newTicket({
    id: `t${i}`, siteId: site.id, origin: i % 5 === 0 ? 'complaint' : 'proactive', severity: SEVERITIES[i % 3]!, category,
    title: { 'zh-CN': 'x', en: 'x' }, description: { 'zh-CN': '', en: '' }, cellId, locationLabel: 'x', deviceVerifiable: true, evidence: [],
  }, routeTicket({ cellId, category }, index), openedAt);
  const iso = (ms: number) => new Date(ms).toISOString();
  switch (i % 6) {
    case 0: t = { ...t, status: 'resolved', resolvedAt: iso(openedAt + 20 * 60_000), resolution: { by: 'device' } }; break;
    case 1: t = { ...t, status: 'closed', acceptedAt: iso(openedAt + 10 * 60_000), resolvedAt: iso(openedAt + 3600_000), closedAt: iso(openedAt + 7200_000), rating: 'satisfied', resolution: { by: 'operator' } }; break;
    case 2: t = { ...t, status: 'accepted', acceptedAt: iso(openedAt + 5 * 3600_000) }; break;
    case 3: t = { ...t, status: 'dismissed' }; break;
    default: break;
  }
  tickets.push({ ...t, arrivedAt: i % 6 === 1 ? new Date(openedAt + 30 * 60_000).toISOString() : null, followUp: i % 6 === 1 ? { solved: true, satisfied: i % 12 === 1 } : null });
}
const sites = new Map([[site.id, { name: site.name, index }]]);
const period = { from: FROM, to: TO };

function time(label: string, fn: () => unknown): void {
  for (let i = 0; i < 3; i++) fn(); // warm-up (JIT)
  const start = performance.now();
  for (let i = 0; i < RUNS; i++) fn();
  console.log(`${label}: ${N} tickets, ${((performance.now() - start) / RUNS).toFixed(1)} ms per run (mean of ${RUNS})`);
}
time('computeKpis', () => computeKpis(tickets, period, TO, { siteId: site.id, index }));
time('computeStreetKpis', () => computeStreetKpis(tickets, period, TO, sites));
