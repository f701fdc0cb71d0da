// Measures the SLA sweep as the hub runs it (TicketService.sweepSla): read every live ticket
// from the database, decide (tickets/core slaSweep), write the changed ones with their audit
// rows — over 10k open tickets (DESIGN §10: one process serves a street) — plus the KPI
// announcement that follows each sweep.
//
// Run: npx tsx bench/sla-sweep-db.ts [tickets] [--store=pglite|pg|both]
//   pg uses DATABASE_URL when set, else a private throw-away cluster from the machine's
//   PostgreSQL binaries (as the tests do). Default: both when binaries exist.
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import pg from 'pg';
import { SEVERITIES, type SiteFile, type Ticket } from '@shaobing/schemas';
import { HubBus } from '../hub/src/bus.ts';
import { KpiService } from '../hub/src/kpi/kpi-service.ts';
import { Registry } from '../hub/src/site/registry.ts';
import type { Db } from '../hub/src/store/db.ts';
import { openDb } from '../hub/src/store/open-db.ts';
import { buildGridIndex, newTicket, routeTicket } from '../hub/src/tickets/core/index.ts';
import { insertTicket } from '../hub/src/tickets/ticket-repo.ts';
import { TicketService } from '../hub/src/tickets/ticket-service.ts';
import { startPrivateCluster } from '../hub/test/support/global-setup.ts';

const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 10_000);
const storeArg = process.argv.find((a) => a.startsWith('--store='))?.slice(8) ?? 'both';
const QUIET_SWEEPS = 10;
const log = pino({ level: 'silent' });

const SITE: SiteFile = {
  version: 1,
  operators: [],
  sites: [{
    id: 'b1', name: '基准街道', gateways: [], devices: [],
    grid: [
      { id: 'street', level: 'street', name: '街道' },
      { id: 'comm', level: 'community', name: '社区', parentId: 'street' },
      ...Array.from({ length: 20 }, (_, i) => ({ id: `yard-${i}`, level: 'compound' as const, name: `${i}号院`, parentId: 'comm' })),
    ],
    workers: [
      { id: 'w-street', name: '街道', cellId: 'street', teams: ['security'] },
      { id: 'w-comm', name: '社区', cellId: 'comm', teams: ['security', 'care'] },
      ...Array.from({ length: 20 }, (_, i) => ({ id: `w-${i}`, name: `网格员${i}`, cellId: `yard-${i}`, teams: ['cleaning' as const, 'security' as const] })),
    ],
  }],
};

/** Open tickets over the last 3 hours, mixed severities and states: quiet, warning-due and overdue ones. */
async function seed(db: Db, now: number): Promise<void> {
  const index = buildGridIndex(SITE.sites[0]!.grid, SITE.sites[0]!.workers);
  const STATUSES = ['open', 'dispatched', 'accepted', 'reopened'] as const;
  for (let start = 0; start < N; start += 1000) {
    await db.transaction(async (tx) => {
      for (let i = start; i < Math.min(N, start + 1000); i++) {
        const openedAt = now - (i % 180) * 60_000;
        const cellId = `yard-${i % 20}`;
        const t = newTicket({
          id: `B${i}`, siteId: 'b1', origin: 'proactive', severity: SEVERITIES[i % 3]!, category: 'sanitation', cellId,
          title: { 'zh-CN': '垃圾满溢', en: 'Bin overflow' }, description: { 'zh-CN': '满溢 85%', en: 'fill 85%' }, locationLabel: cellId,
          deviceVerifiable: true, dedupKey: `bench:b1:${i}`, ruleId: 'bench',
          evidence: [{ eventKey: `b1/bin-${i}/1`, ts: new Date(openedAt).toISOString(), type: 'bin.telemetry', summary: 'fill 85%' }],
        }, routeTicket({ cellId, category: 'sanitation' }, index), openedAt);
        const status = STATUSES[i % 4]!;
        const ticket: Ticket = { ...t, status, acceptedAt: status === 'accepted' ? new Date(openedAt + 60_000).toISOString() : null };
        await insertTicket(tx, ticket);
      }
    });
  }
}

async function measure(name: string, db: Db): Promise<void> {
  const bus = new HubBus();
  let announced = 0;
  bus.on('ticket.changed', () => { announced++; });
  const registry = new Registry(SITE);
  const tickets = new TicketService({ db, bus, registry, log });
  const kpi = new KpiService({ db, bus, registry, tickets, log, tz: 'Asia/Shanghai' });
  const now = Date.now();
  let t = performance.now();
  await seed(db, now);
  console.log(`[${name}] seeded ${N} live tickets in ${(performance.now() - t).toFixed(0)} ms`);

  // First sweep: every ticket whose 80 % mark or deadline passed gets its warning/escalation.
  const first = await tickets.sweepSla(now);
  console.log(`[${name}] sweep with writes: ${first.candidates} candidates read, ${first.actions} actions, ${first.written} tickets written + audited, ${announced} bus events;`
    + ` load ${first.ms.load} ms, plan ${first.ms.plan} ms, write ${first.ms.write} ms, total ${first.ms.total} ms`);

  // Steady state (what runs every 30 s): nothing newly due. The candidates still read are the
  // overdue tickets below the top of the ladder, waiting for the next rung's spacing.
  const quiet: number[] = [];
  let candidates = 0;
  for (let i = 0; i < QUIET_SWEEPS; i++) {
    const r = await tickets.sweepSla(now + 1000);
    quiet.push(r.ms.total);
    candidates = r.candidates;
    if (r.actions !== 0) throw new Error('a quiet sweep decided actions');
  }
  const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1);
  console.log(`[${name}] quiet sweep (steady state, ${candidates} candidates read): ${mean(quiet)} ms mean of ${QUIET_SWEEPS}, max ${Math.max(...quiet).toFixed(1)} ms`);

  // Every ticket warned and at the top of the ladder: the sweep reads nothing.
  await db.query(`UPDATE tickets SET warned_respond = true, warned_resolve = true, escalation_level = 2`);
  const idle: number[] = [];
  for (let i = 0; i < QUIET_SWEEPS; i++) idle.push((await tickets.sweepSla(now + 1000)).ms.total);
  console.log(`[${name}] sweep with no candidates (${N} open, all warned and escalated): ${mean(idle)} ms mean of ${QUIET_SWEEPS}`);

  const kpiMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    await kpi.publishToday(now + 2000);
    kpiMs.push(performance.now() - t);
  }
  console.log(`[${name}] kpi.updated after a sweep (today's KPIs over ${N} open tickets): ${mean(kpiMs)} ms mean of 5`);
}

async function main(): Promise<void> {
  console.log(`SLA sweep over ${N} open tickets in the database (Node ${process.version})`);
  if (storeArg === 'pglite' || storeArg === 'both') {
    const db = await openDb({ dataDir: 'memory://', log });
    try { await measure('embedded PGlite', db); } finally { await db.close(); }
  }
  if (storeArg === 'pg' || storeArg === 'both') {
    let cluster: { url: string; stop(): Promise<void> } | null = null;
    let url = process.env.DATABASE_URL;
    try {
      if (!url) {
        cluster = await startPrivateCluster();
        const admin = new pg.Client({ connectionString: cluster.url });
        await admin.connect();
        await admin.query('CREATE DATABASE sla_bench');
        await admin.end();
        url = cluster.url.replace(/\/postgres$/, '/sla_bench');
      }
      const db = await openDb({ databaseUrl: url, dataDir: 'memory://', log });
      try { await measure(cluster ? 'PostgreSQL (private cluster, fsync off)' : 'PostgreSQL (DATABASE_URL)', db); } finally { await db.close(); }
    } catch (err) {
      if (storeArg === 'pg') throw err;
      console.log(`[pg] skipped: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      await cluster?.stop();
    }
  }
}

await main();
