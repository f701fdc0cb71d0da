import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { RuleDecision, Ticket } from '@shaobing/schemas';
import { HubBus } from '../src/bus.ts';
import { loadSiteFile } from '../src/site/load-site-file.ts';
import { Registry } from '../src/site/registry.ts';
import type { Db } from '../src/store/db.ts';
import { openDb } from '../src/store/open-db.ts';
import { TicketService } from '../src/tickets/ticket-service.ts';
import { storeTargets } from './support/store-targets.ts';
import { writeTestSiteFile } from './support/test-site.ts';

/*
 * Two hub processes on one database: two TicketServices, each with its own connection pool
 * (PostgreSQL server) — or sharing the embedded store, which has one connection — racing
 * on the same dedup keys. The database's unique partial index decides; the loser re-plans.
 */
const T0 = Date.parse('2026-03-02T08:00:00.000Z');
const log = pino({ level: 'silent' });

function decision(key: string, eventKey: string): RuleDecision {
  return {
    kind: 'open', ruleId: 'camera-alert', siteId: 't1', deviceId: 'cam-1', cellId: 'yard-1', dedupKey: key,
    severity: 'high', category: 'order', deviceVerifiable: false,
    title: { 'zh-CN': '电动车进电梯', en: 'E-bike in elevator' }, description: { 'zh-CN': '', en: '' },
    evidence: { eventKey, ts: new Date(T0).toISOString(), type: 'camera.alert', deviceId: 'cam-1', summary: 'ebike_in_elevator 0.93' },
  };
}

/** A Db whose transactions wait for `open()`: lets a test hold one process between its read and its write. */
function gated(db: Db): { db: Db; open(): void; waiting: Promise<void> } {
  let release!: () => void;
  let signal!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const waiting = new Promise<void>((r) => { signal = r; });
  const wrapped: Db = Object.create(db) as Db;
  wrapped.query = db.query.bind(db);
  wrapped.transaction = async (fn) => {
    signal();
    await gate;
    return db.transaction(fn);
  };
  return { db: wrapped, open: release, waiting };
}

describe.each(storeTargets())('two hub processes on $name', (target) => {
  let dbA: Db;
  let dbB: Db;
  let registry: Registry;
  const service = (db: Db) => new TicketService({ db, bus: new HubBus(), registry, log });
  const live = async (key: string) => (await dbA.query(
    `SELECT doc FROM tickets WHERE dedup_key = $1 AND status IN ('open', 'dispatched', 'accepted', 'reopened')`, [key])).map((r) => r.doc as Ticket);
  const opens = async (key: string) => (await dbA.query(
    `SELECT count(*)::int AS n FROM ticket_audit a JOIN tickets t ON t.id = a.ticket_id WHERE t.dedup_key = $1 AND a.action = 'open'`, [key]))[0]!.n;

  beforeAll(async () => {
    registry = new Registry(await loadSiteFile(await writeTestSiteFile()));
    const url = await target.databaseUrl();
    dbA = await openDb({ databaseUrl: url ?? undefined, dataDir: 'memory://', log });
    // The second process: its own pool on the server; the embedded store has a single connection.
    dbB = url === null ? dbA : await openDb({ databaseUrl: url, dataDir: 'memory://', log });
  });
  afterAll(async () => {
    if (dbB !== dbA) await dbB?.close();
    await dbA?.close();
    await target.cleanup();
  });

  it('the second opener of a key loses at the unique index and adds an occurrence instead (held between read and write)', async () => {
    const key = 'camera-alert:t1:device:cam-1:held';
    const held = gated(dbB);
    const b = service(held.db).applyDecisions([decision(key, 'ev-b')], T0);
    await held.waiting;                     // B has read "no live ticket" and planned an INSERT
    expect(await service(dbA).applyDecisions([decision(key, 'ev-a')], T0)).toMatchObject({ opened: 1 });
    held.open();
    expect(await b).toEqual({ opened: 0, updated: 1, ignored: 0, failed: 0 });
    const [t, ...more] = await live(key);
    expect(more).toEqual([]);
    expect(t).toMatchObject({ occurrences: 2 });
    expect(t!.evidence.map((e) => e.eventKey).sort()).toEqual(['ev-a', 'ev-b']);
    expect(await opens(key)).toBe(1);
  });

  it('concurrent storms on ten keys from both processes: exactly one live ticket per key, every occurrence counted', async () => {
    const A = service(dbA);
    const B = service(dbB);
    const keys = Array.from({ length: 10 }, (_, i) => `camera-alert:t1:device:cam-1:storm-${i}`);
    const PER = 6; // decisions per key per process, in 3 concurrent batches each
    const batches = (svc: TicketService, who: string) => [0, 1, 2].map((b) => svc.applyDecisions(
      keys.flatMap((k) => [0, 1].map((j) => decision(k, `${who}-${k}-${b}-${j}`))), T0));
    const results = await Promise.all([...batches(A, 'a'), ...batches(B, 'b')]);
    const total = results.reduce((acc, r) => ({ opened: acc.opened + r.opened, updated: acc.updated + r.updated, failed: acc.failed + r.failed }), { opened: 0, updated: 0, failed: 0 });
    expect(total).toEqual({ opened: keys.length, updated: keys.length * (2 * PER - 1), failed: 0 });
    for (const k of keys) {
      const tickets = await live(k);
      expect(tickets).toHaveLength(1);
      expect(tickets[0]!.occurrences).toBe(2 * PER);
      expect(await opens(k)).toBe(1);
    }
  });

  it('the same event processed by both processes counts once', async () => {
    const key = 'camera-alert:t1:device:cam-1:same-event';
    const [ra, rb] = await Promise.all([service(dbA).applyDecisions([decision(key, 'shared')], T0), service(dbB).applyDecisions([decision(key, 'shared')], T0)]);
    expect(ra.opened + rb.opened).toBe(1);
    expect(ra.ignored + rb.ignored).toBe(1);
    expect((await live(key))[0]!.occurrences).toBe(1);
  });

  it('人工核准: an alert under review holds its key (the race loser adds an occurrence), no SLA sweep touches it, a confident repeat confirms it', async () => {
    const key = 'camera-alert:t1:device:cam-1:review';
    const unsure = (eventKey: string, confidence: number): RuleDecision => {
      const d = decision(key, eventKey);
      return { ...d, evidence: { ...d.evidence, detail: { cause: 'event', fields: { kind: 'ebike_in_elevator', confidence } } } };
    };
    const held = gated(dbB);
    const b = service(held.db).applyDecisions([unsure('rv-b', 0.7)], T0);
    await held.waiting;
    expect(await service(dbA).applyDecisions([unsure('rv-a', 0.65)], T0)).toMatchObject({ opened: 1 });
    held.open();
    expect(await b).toMatchObject({ opened: 0, updated: 1 });
    const inReview = async () => (await dbA.query(`SELECT doc FROM tickets WHERE dedup_key = $1`, [key])).map((r) => r.doc as Ticket);
    expect(await inReview()).toMatchObject([{ status: 'pending_review', occurrences: 2, review: { confidence: 0.65, below: 0.8 } }]);
    expect(await live(key)).toEqual([]);
    // Hours later nothing warned or escalated it: no clock runs while it waits.
    await service(dbA).sweepSla(T0 + 10 * 3600_000);
    const [waiting] = await inReview();
    expect(waiting).toMatchObject({ status: 'pending_review', warnedRespond: false, escalationLevel: 0 });
    expect(await service(dbA).applyDecisions([unsure('rv-c', 0.91)], T0 + 11 * 3600_000)).toMatchObject({ updated: 1 });
    const [confirmed] = await live(key);
    expect(confirmed).toMatchObject({ id: waiting!.id, status: 'open', occurrences: 3, review: { verdict: 'confirmed', by: 'system:camera-alert' }, slaStartedAt: new Date(T0 + 11 * 3600_000).toISOString() });
  });

  it('two sweeps racing audit each warning once', async () => {
    const key = 'camera-alert:t1:device:cam-1:sweep';
    await service(dbA).applyDecisions([decision(key, 'sw-1')], T0);
    const at = T0 + 24 * 60_000 + 1; // 80 % of the 30-min response window of a high ticket
    const [sa, sb] = await Promise.all([service(dbA).sweepSla(at), service(dbB).sweepSla(at)]);
    expect(sa.actions).toBeGreaterThan(0);
    const [t] = await live(key);
    const warns = await dbA.query(`SELECT count(*)::int AS n FROM ticket_audit WHERE ticket_id = $1 AND action = 'sla_warn'`, [t!.id]);
    expect(warns[0]!.n).toBe(1);
    expect(sa.written + sb.written).toBeGreaterThanOrEqual(1);
  });
});
