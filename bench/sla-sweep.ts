// Measures slaSweep over 10k live tickets (DESIGN §10: one process serves a street).
// Run: npx tsx bench/sla-sweep.ts [tickets] [sweeps]
import { performance } from 'node:perf_hooks';
import { SEVERITIES, type Ticket } from '@shaobing/schemas';
import { newTicket, slaSweep, type Route } from '../hub/src/tickets/core/index.ts';

const N = Number(process.argv[2] ?? 10_000);
const SWEEPS = Number(process.argv[3] ?? 200);
const T0 = Date.parse('2026-03-02T08:00:00.000Z');
const route: Route = { assigneeId: 'w-1', team: 'cleaning', ladder: { grid: 'w-1', community: 'w-2', street: 'w-3' } };
const STATUSES = ['open', 'dispatched', 'accepted', 'reopened'] as const;

// Opened over the last 3 hours with mixed severities and states, so the sweep sees quiet,
// warning-due and overdue tickets — the realistic mix, not the cheapest one.
const tickets: Ticket[] = [];
for (let i = 0; i < N; i++) {
  const openedAt = T0 - (i % 180) * 60_000;
  const t = newTicket({
    id: `t${i}`, siteId: 'site1', origin: 'proactive', severity: SEVERITIES[i % 3]!, category: 'sanitation',
    title: { 'zh-CN': '垃圾满溢', en: 'Bin overflow' }, description: { 'zh-CN': '', en: '' }, cellId: 'U1',
    locationLabel: 'x', deviceVerifiable: true, evidence: [],
  }, route, openedAt);
  const status = STATUSES[i % 4]!;
  tickets.push({ ...t, status, acceptedAt: status === 'accepted' ? new Date(openedAt + 60_000).toISOString() : null });
}

const now = T0;
for (let i = 0; i < 20; i++) slaSweep(tickets, now); // warm-up (JIT)
let actions = 0;
const start = performance.now();
for (let i = 0; i < SWEEPS; i++) actions = slaSweep(tickets, now).length;
const perSweep = (performance.now() - start) / SWEEPS;
console.log(`slaSweep: ${N} live tickets, ${actions} actions per sweep, ${perSweep.toFixed(2)} ms per sweep (mean of ${SWEEPS})`);
