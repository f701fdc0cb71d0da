import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { KpiSnapshot, RuleDecision, StreetKpis, Ticket } from '@shaobing/schemas';
import type { HubHandle } from '../src/hub.ts';
import { computeKpis } from '../src/kpi/core/index.ts';
import { localDateLabel, localMidnight, parseLocalDate, periodOf, previousPeriod } from '../src/kpi/periods.ts';
import { scheduleJob } from '../src/schedule/cron-job.ts';
import { storeTargets } from './support/store-targets.ts';
import { apiGet, login, startTestHub } from './support/test-hub.ts';
import { testSiteFile, writeTestSiteFile } from './support/test-site.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;

describe('report periods in TZ_REPORTS', () => {
  const SH = 'Asia/Shanghai';
  it('cuts days, ISO weeks (Monday first) and months at local midnight', () => {
    const at = Date.parse('2026-03-04T17:30:00Z'); // Thursday 01:30 on 03-05 in Shanghai
    expect(periodOf('daily', at, SH)).toEqual({ from: Date.parse('2026-03-04T16:00:00Z'), to: Date.parse('2026-03-05T16:00:00Z') });
    expect(periodOf('weekly', at, SH)).toEqual({ from: Date.parse('2026-03-01T16:00:00Z'), to: Date.parse('2026-03-08T16:00:00Z') });
    expect(periodOf('monthly', at, SH)).toEqual({ from: Date.parse('2026-02-28T16:00:00Z'), to: Date.parse('2026-03-31T16:00:00Z') });
    expect(periodOf('monthly', Date.parse('2026-12-15T00:00:00Z'), SH).to).toBe(Date.parse('2026-12-31T16:00:00Z'));
    expect(previousPeriod('daily', at, SH)).toEqual({ from: Date.parse('2026-03-03T16:00:00Z'), to: Date.parse('2026-03-04T16:00:00Z') });
    expect(previousPeriod('weekly', at, SH).from).toBe(Date.parse('2026-02-22T16:00:00Z'));
    expect(previousPeriod('monthly', at, SH)).toEqual({ from: Date.parse('2026-01-31T16:00:00Z'), to: Date.parse('2026-02-28T16:00:00Z') });
    expect(localDateLabel(at, SH)).toBe('2026-03-05');
  });

  it('handles daylight-saving days (23 h and 25 h) where the zone has them', () => {
    const NY = 'America/New_York';
    const spring = periodOf('daily', Date.parse('2026-03-08T12:00:00Z'), NY);
    expect(spring).toEqual({ from: Date.parse('2026-03-08T05:00:00Z'), to: Date.parse('2026-03-09T04:00:00Z') });
    const fall = periodOf('daily', Date.parse('2026-11-01T12:00:00Z'), NY);
    expect(fall.to - fall.from).toBe(25 * HOUR);
    expect(localMidnight({ y: 2026, m: 7, d: 1 }, NY)).toBe(Date.parse('2026-07-01T04:00:00Z'));
  });

  it('parses the CSV period parameter', () => {
    expect(parseLocalDate('2026-03-05')).toEqual({ y: 2026, m: 3, d: 5 });
    expect(parseLocalDate('2026-03')).toEqual({ y: 2026, m: 3, d: 1 });
    expect(parseLocalDate('2026-02-30')).toBeNull();
    expect(parseLocalDate('yesterday')).toBeNull();
  });
});

describe('cron jobs', () => {
  const log = pino({ level: 'silent' });
  it('fire on their schedule, never overlap, and stop after the run in flight', async () => {
    let runs = 0;
    let release!: () => void;
    const job = scheduleJob('test', '* * * * * *', async () => {
      runs++;
      await new Promise<void>((r) => { release = r; });
    }, { log });
    const started = Date.now();
    while (runs === 0 && Date.now() - started < 3000) await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(1);
    // A manual run while the scheduled one is in flight shares it.
    const manual = job.run();
    expect(runs).toBe(1);
    const stopping = job.stop();
    let stopped = false;
    void stopping.then(() => { stopped = true; });
    await new Promise((r) => setTimeout(r, 30));
    expect(stopped).toBe(false);
    release();
    await Promise.all([manual, stopping]);
    expect(stopped).toBe(true);
    await new Promise((r) => setTimeout(r, 1200));
    expect(runs).toBe(1);
  });

  it('refuses an invalid expression', () => {
    expect(() => scheduleJob('bad', 'every now and then', async () => {}, { log })).toThrow(/invalid cron expression/);
  });
});

/*
 * KPIs and reports over the real store, with a site that has no devices (so the hub's own
 * rules open nothing) and a scripted day of tickets on a controlled clock.
 */
describe.each(storeTargets())('KPI shell on $name', (target) => {
  let hub: HubHandle;
  const T0 = Date.parse('2026-03-02T02:00:00.000Z'); // 10:00 in Shanghai, a Monday
  const day = periodOf('daily', T0, 'Asia/Shanghai');
  const ops = { username: 'dispatcher', role: 'dispatcher' as const };
  const sup = { username: 'supervisor', role: 'supervisor' as const };
  const updates: KpiSnapshot[] = [];

  const open = async (key: string, at: number, over: Partial<Extract<RuleDecision, { kind: 'open' }>> = {}): Promise<Ticket> => {
    await hub.tickets.applyDecisions([{
      kind: 'open', ruleId: 'r', siteId: 't1', cellId: 'yard-1', dedupKey: key, severity: 'normal', category: 'sanitation', deviceVerifiable: true,
      title: { 'zh-CN': 't', en: 't' }, description: { 'zh-CN': '', en: '' },
      evidence: { eventKey: `ev-${key}`, ts: iso(at), type: 'bin.telemetry', summary: 's' }, ...over,
    }], at);
    return (await hub.db.query('SELECT doc FROM tickets WHERE dedup_key = $1', [key]))[0]!.doc as Ticket;
  };

  beforeAll(async () => {
    const site = structuredClone(await testSiteFile());
    site.sites[0]!.devices = [];
    site.sites[0]!.gateways = [];
    hub = await startTestHub({ databaseUrl: await target.databaseUrl(), siteFile: await writeTestSiteFile(site) });
    hub.bus.on('kpi.updated', (s) => updates.push(s as KpiSnapshot));

    const p1 = await open('p1', T0);
    await hub.tickets.act(p1.id, 'dispatch', {}, ops, T0 + 10 * MIN);
    await hub.tickets.act(p1.id, 'accept', {}, ops, T0 + 20 * MIN);
    await hub.tickets.openComplaint({ siteId: 't1', cellId: 'unit-1', category: 'sanitation', text: '垃圾满了', source: 'hotline_12345' }, ops, T0 + 30 * MIN);
    await hub.tickets.act(p1.id, 'resolve', { note: '已清运' }, ops, T0 + HOUR);
    await hub.tickets.act(p1.id, 'rate', { rating: 'satisfied' }, ops, T0 + HOUR + 5 * MIN);
    await open('p2', T0 + MIN, { severity: 'critical', category: 'fire_safety' });
    await hub.tickets.sweepSla(T0 + 7 * MIN);
    const p3 = await open('p3', T0 + 2 * MIN, { category: 'order' });
    await hub.tickets.act(p3.id, 'request_dismiss', { reasonCategory: 'false_alarm', note: '误报' }, ops, T0 + 3 * MIN);
    await hub.tickets.act(p3.id, 'approve_dismiss', {}, sup, T0 + 4 * MIN);
  });
  afterAll(async () => {
    await hub?.stop();
    await target.cleanup();
  });

  it('computes the day: 三率, proactive share, complaints pre-empted, open/overdue, rankings', async () => {
    const now = T0 + 3 * HOUR;
    const k = await hub.kpi.snapshot(['t1'], day, now);
    expect(k).toMatchObject({
      siteId: 't1', period: { from: iso(day.from), to: iso(day.to) }, generatedAt: iso(now), tickets: 4,
      responseRate: { numerator: 1, denominator: 3 },    // p1 in time; p2 and the complaint missed theirs; p3 dismissed
      // p1 was resolved by hand and its bin never confirmed it: unverified, not in the 解决率.
      resolutionRate: { numerator: 0, denominator: 3 }, resolvedDevice: 0, resolvedPhoto: 0, resolvedUnverified: 1,
      satisfactionRate: { numerator: 1, denominator: 1 },
      proactiveShare: { numerator: 2, denominator: 3 },
      complaintsPreempted: 1, open: 2, overdue: 2,
    });
    expect(k.meanTimeToRespondMs).toBe(20 * MIN);
    expect(k.workers.map((w) => w.id)).toContain('w-yard');
    expect(k.communities.map((c) => c.id)).toEqual(['comm-1']);
    expect(k.hotspots[0]).toEqual({ cellId: 'yard-1', count: 2 });

    // Computed from columns only (kpi-row.ts): the same as the KPI core over the full documents.
    const docs = (await hub.db.query('SELECT doc FROM tickets')).map((r) => r.doc as Ticket);
    expect(k).toEqual(computeKpis(docs, day, now, { siteId: 't1', index: hub.tickets.gridIndex('t1')! }));
    for (const at of [T0 + 30 * MIN, T0 + 2 * HOUR + 31 * MIN, T0 + 3 * 24 * HOUR]) {
      expect(await hub.kpi.snapshot(['t1'], day, at)).toEqual(computeKpis(docs, day, at, { siteId: 't1', index: hub.tickets.gridIndex('t1')! }));
    }

    // The REST route gives the same figures for the same period.
    const token = await login(hub, 'viewer');
    const viaApi = await apiGet<KpiSnapshot>(hub, `/api/kpi?siteId=t1&from=${iso(day.from)}&to=${iso(day.to)}`, token);
    // (Its clock is the real one, so only the cohort figures are comparable.)
    const cohort = (x: KpiSnapshot) => [x.period, x.tickets, x.resolutionRate, x.satisfactionRate, x.proactiveShare, x.complaintsPreempted, x.hotspots];
    expect(cohort(viaApi)).toEqual(cohort(k));
  });

  it('serves the street figures per group with names, and drills each down to its tickets (失分溯源)', async () => {
    const token = await login(hub, 'viewer');
    const q = `siteId=t1&from=${iso(day.from)}&to=${iso(day.to)}`;
    const s = await apiGet<StreetKpis>(hub, `/api/kpi/street?${q}`, token);
    expect(s.total).toMatchObject({ tickets: 4, dismissed: 1, dismissalRate: { numerator: 1, denominator: 4 }, complaints: 1, autoResolved: 0 });
    expect(s.groups.site.map((r) => [r.id, r.name])).toEqual([['t1', expect.any(String)]]);
    expect(s.groups.worker.every((r) => r.name !== '')).toBe(true);
    expect(s.groups.category.map((r) => r.id).sort()).toEqual(['fire_safety', 'order', 'sanitation']);
    const dismissed = await apiGet<{ ticketIds: string[] }>(hub, `/api/kpi/drill?${q}&dimension=total&figure=dismissed`, token);
    const p3 = (await hub.db.query("SELECT id FROM tickets WHERE dedup_key = 'p3'"))[0]!.id as string;
    expect(dismissed.ticketIds).toEqual([p3]);
    const missed = await apiGet<{ ticketIds: string[] }>(hub, `/api/kpi/drill?${q}&dimension=category&id=fire_safety&figure=respondMissed`, token);
    expect(missed.ticketIds).toHaveLength(1);
    const res = await fetch(`${hub.httpUrl}/api/kpi/drill?${q}&dimension=worker&id=nobody&figure=tickets`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(404);
  });

  it('announces today per site on the bus after a sweep', async () => {
    await hub.kpi.publishToday(T0 + 3 * HOUR);
    // (The hub's own cron publishes too, on the real clock: pick ours by its time.)
    const ours = updates.filter((u) => u.generatedAt === iso(T0 + 3 * HOUR));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({ siteId: 't1', tickets: 4, complaintsPreempted: 1 });
  });

  it('stores the daily report at 00:05 for the day before, replaces it on a re-run, and catches up missed periods', async () => {
    const cronTime = localMidnight({ y: 2026, m: 3, d: 3 }, 'Asia/Shanghai') + 5 * MIN;
    const [first] = await hub.kpi.generateDue('daily', cronTime);
    expect(first).toMatchObject({ kind: 'daily', siteId: 't1', periodStart: iso(day.from), periodEnd: iso(day.to), generatedAt: iso(cronTime) });
    expect(first!.snapshot.tickets).toBe(4);
    await hub.kpi.generateDue('daily', cronTime + MIN);
    const stored = await hub.db.query(`SELECT generated_at FROM reports WHERE kind = 'daily' AND period_start = $1::timestamptz`, [iso(day.from)]);
    expect(stored).toHaveLength(1);
    expect((stored[0]!.generated_at as Date).toISOString()).toBe(iso(cronTime + MIN));

    // Daily exists; the week before (02-23..03-01) and February do not.
    expect(await hub.kpi.catchUp(cronTime)).toBe(2);
    expect(await hub.kpi.catchUp(cronTime)).toBe(0);
    const weekly = await hub.kpi.find('weekly', 't1', Date.parse('2026-02-25T04:00:00Z'));
    expect(weekly?.periodStart).toBe('2026-02-22T16:00:00.000Z');
    expect((await hub.kpi.list(['t1'], 'monthly')).map((r) => r.periodStart)).toContain('2026-01-31T16:00:00.000Z');
  });
});
