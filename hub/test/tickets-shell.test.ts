import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuleDecision, Ticket } from '@shaobing/schemas';
import type { TicketBusChange } from '../src/bus.ts';
import type { HubHandle } from '../src/hub.ts';
import { storeTargets } from './support/store-targets.ts';
import { startTestHub } from './support/test-hub.ts';

/*
 * The ticket shell on the real store (embedded PGlite and a PostgreSQL server): rule decisions
 * → tickets + audit rows, the SLA sweep with a controllable clock, device-verified closure,
 * recurrence, and the database's own guarantees (live-dedup index, append-only audit).
 */
// The hub's own SLA cron runs every 30 s on the real clock: start the controlled clock now, so
// the real sweeps find nothing due while the tests move time forward themselves.
const T0 = Date.now();
const MIN = 60_000;

let seq = 0;
function openDecision(key: string, over: Partial<Extract<RuleDecision, { kind: 'open' }>> = {}, at = T0): RuleDecision {
  const n = ++seq;
  return {
    kind: 'open', ruleId: 'bin-overflow', siteId: 't1', deviceId: 'bin-1', cellId: 'yard-1', dedupKey: key,
    severity: 'normal', category: 'sanitation', deviceVerifiable: true,
    title: { 'zh-CN': '垃圾满溢', en: 'Bin overflow' }, description: { 'zh-CN': '满溢 85%', en: 'fill 85%' },
    evidence: { eventKey: `t1/bin-1/m${n}`, ts: new Date(at).toISOString(), type: 'bin.telemetry', deviceId: 'bin-1', summary: 'fill 85%' },
    ...over,
  };
}
const resolveDecision = (key: string, at = T0): RuleDecision => ({
  kind: 'resolve_by_device', ruleId: 'bin-overflow', siteId: 't1', dedupKey: key,
  evidence: { eventKey: `t1/bin-1/r${++seq}`, ts: new Date(at).toISOString(), type: 'bin.telemetry', deviceId: 'bin-1', summary: 'fill 12%: emptied' },
});

describe.each(storeTargets())('ticket shell on $name', (target) => {
  let hub: HubHandle;
  const changes: TicketBusChange[] = [];
  const rows = (sql: string, params: unknown[] = []) => hub.db.query(sql, params);
  const byKey = async (key: string) => (await rows('SELECT doc FROM tickets WHERE dedup_key = $1 ORDER BY opened_at', [key])).map((r) => r.doc as Ticket);
  const audit = async (id: string) => rows('SELECT actor, action, from_status, to_status, note FROM ticket_audit WHERE ticket_id = $1 ORDER BY id', [id]);

  beforeAll(async () => {
    hub = await startTestHub({ databaseUrl: await target.databaseUrl() });
    hub.bus.on('ticket.changed', (c) => changes.push(c));
  });
  afterAll(async () => {
    await hub?.stop();
    await target.cleanup();
  });

  it('opens a routed ticket with deadlines and an audit row; repeats add occurrences, a replayed event counts once', async () => {
    const key = 'bin-overflow:t1:device:bin-1:a';
    const first = openDecision(key);
    expect(await hub.tickets.applyDecisions([first], T0)).toEqual({ opened: 1, updated: 0, ignored: 0, failed: 0 });
    expect(await hub.tickets.applyDecisions([openDecision(key, {}, T0 + MIN), openDecision(key, {}, T0 + 2 * MIN)], T0 + 2 * MIN))
      .toMatchObject({ opened: 0, updated: 2 });
    // The same event again (a re-sent batch, or another hub process): nothing changes.
    expect(await hub.tickets.applyDecisions([first], T0 + 3 * MIN)).toMatchObject({ ignored: 1, updated: 0 });

    const [t, ...more] = await byKey(key);
    expect(more).toHaveLength(0);
    expect(t).toMatchObject({
      status: 'open', origin: 'proactive', occurrences: 3, assigneeId: 'w-yard', team: 'cleaning', locationLabel: '一号院垃圾站',
      ladder: { grid: 'w-yard', community: 'w-comm', street: 'w-street' },
      openedAt: new Date(T0).toISOString(), respondBy: new Date(T0 + 120 * MIN).toISOString(), resolveBy: new Date(T0 + 7 * 24 * 60 * MIN).toISOString(),
      version: 3,
    });
    expect(t!.evidence.map((e) => e.eventKey)).toHaveLength(3);
    // Occurrences are recorded in the evidence, not as transitions.
    expect(await audit(t!.id)).toEqual([{ actor: 'system:bin-overflow', action: 'open', from_status: null, to_status: 'open', note: null }]);
    const seen = changes.filter((c) => c.ticketId === t!.id);
    expect(seen.map((c) => [c.action, c.kind])).toEqual([['open', 'opened'], ['add_occurrence', 'occurrence'], ['add_occurrence', 'occurrence']]);
    expect(seen[0]).toMatchObject({ siteId: 't1', actor: 'system:bin-overflow', from: null });
    // The columns are copies of the document.
    const [row] = await rows('SELECT status, severity_rank, assignee_id, version, cell_id FROM tickets WHERE id = $1', [t!.id]);
    expect(row).toEqual({ status: 'open', severity_rank: 2, assignee_id: 'w-yard', version: 3, cell_id: 'yard-1' });
  });

  it('closes a ticket on device evidence (resolve_by_device), audited with the rule as actor', async () => {
    const key = 'bin-overflow:t1:device:bin-1:b';
    await hub.tickets.applyDecisions([openDecision(key)], T0);
    expect(await hub.tickets.applyDecisions([resolveDecision(key, T0 + 10 * MIN)], T0 + 10 * MIN)).toMatchObject({ updated: 1 });
    const [t] = await byKey(key);
    expect(t).toMatchObject({ status: 'resolved', resolvedAt: new Date(T0 + 10 * MIN).toISOString(), resolution: { by: 'device', note: 'fill 12%: emptied' } });
    expect((await audit(t!.id)).map((a) => [a.actor, a.action, a.from_status, a.to_status])).toEqual([
      ['system:bin-overflow', 'open', null, 'open'],
      ['system:bin-overflow', 'resolve_by_device', 'open', 'resolved'],
    ]);
    // Nothing live any more: a second "cleared" is a no-op, and the next overflow is a new ticket
    // (a device-verified resolution is trusted; no reopen).
    expect(await hub.tickets.applyDecisions([resolveDecision(key, T0 + 11 * MIN)], T0 + 11 * MIN)).toMatchObject({ ignored: 1 });
    expect(await hub.tickets.applyDecisions([openDecision(key, {}, T0 + 20 * MIN)], T0 + 20 * MIN)).toMatchObject({ opened: 1 });
    expect((await byKey(key)).map((x) => x.status)).toEqual(['resolved', 'open']);
  });

  it('does not let a device close a ticket that is not device-verifiable', async () => {
    const key = 'door-forced:t1:device:door-1';
    await hub.tickets.applyDecisions([openDecision(key, { deviceVerifiable: false, ruleId: 'door-forced', deviceId: 'door-1', cellId: 'unit-1', category: 'security', severity: 'critical' })], T0);
    expect(await hub.tickets.applyDecisions([resolveDecision(key, T0 + MIN)], T0 + MIN)).toMatchObject({ ignored: 1 });
    expect((await byKey(key))[0]).toMatchObject({ status: 'open', severity: 'critical', assigneeId: 'w-yard', locationLabel: '1号楼1单元门' });
  });

  it('reopens an operator-resolved ticket when the condition recurs within 2 h (再派件)', async () => {
    const key = 'bin-overflow:t1:device:bin-1:c';
    await hub.tickets.applyDecisions([openDecision(key)], T0);
    const [t] = await byKey(key);
    const op = { username: 'dispatcher', role: 'dispatcher' as const };
    await hub.tickets.act(t!.id, 'dispatch', {}, op, T0 + MIN);
    await hub.tickets.act(t!.id, 'accept', {}, op, T0 + 2 * MIN);
    await hub.tickets.act(t!.id, 'resolve', { note: '已清运' }, op, T0 + 3 * MIN);
    expect(await hub.tickets.applyDecisions([openDecision(key, {}, T0 + 30 * MIN)], T0 + 30 * MIN)).toMatchObject({ updated: 1 });
    const all = await byKey(key);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'reopened', reopenCount: 1, occurrences: 2, slaStartedAt: new Date(T0 + 30 * MIN).toISOString() });
    expect((await audit(t!.id)).map((a) => [a.actor, a.action, a.to_status])).toEqual([
      ['system:bin-overflow', 'open', 'open'], ['dispatcher', 'dispatch', 'dispatched'], ['dispatcher', 'accept', 'accepted'],
      ['dispatcher', 'resolve', 'resolved'], ['system:bin-overflow', 'reopen', 'reopened'],
    ]);
  });

  it('SLA sweep on a controllable clock: warns at 80 %, escalates to level 1 then 2, each audited as system:sla and announced', async () => {
    const key = 'charger-overheat:t1:device:chg-1';
    await hub.tickets.applyDecisions([openDecision(key, { ruleId: 'charger-overheat', deviceId: 'chg-1', category: 'fire_safety', severity: 'critical' })], T0);
    const [t] = await byKey(key);
    const mine = () => changes.filter((c) => c.ticketId === t!.id && c.actor === 'system:sla');

    await hub.tickets.sweepSla(T0 + 3 * MIN);                       // 60 % of the 5-min response window
    expect(mine()).toHaveLength(0);
    await hub.tickets.sweepSla(T0 + 4 * MIN);                       // 80 %
    await hub.tickets.sweepSla(T0 + 4 * MIN + 10_000);              // a second sweep warns nobody twice
    expect(mine().map((c) => [c.kind, c.deadline])).toEqual([['sla_warning', 'respond']]);

    const r1 = await hub.tickets.sweepSla(T0 + 5 * MIN + 1);        // respond deadline missed
    expect(r1.stale).toBe(0);
    let now = (await byKey(key))[0]!;
    expect(now).toMatchObject({ escalationLevel: 1, warnedRespond: true });
    expect(mine().at(-1)).toMatchObject({ kind: 'escalated', notify: 'w-comm', action: 'escalate' });

    await hub.tickets.sweepSla(T0 + 7 * MIN);                       // spacing (5 min) not over: stays at 1
    expect((await byKey(key))[0]!.escalationLevel).toBe(1);
    await hub.tickets.sweepSla(T0 + 10 * MIN + 1);                  // 5 min later, still not accepted
    now = (await byKey(key))[0]!;
    expect(now.escalationLevel).toBe(2);
    expect(mine().at(-1)).toMatchObject({ kind: 'escalated', notify: 'w-street' });
    await hub.tickets.sweepSla(T0 + 60 * MIN);                      // the top of the ladder: nothing more
    expect((await byKey(key))[0]!.escalationLevel).toBe(2);

    expect((await audit(t!.id)).filter((a) => a.actor === 'system:sla').map((a) => [a.action, a.from_status, a.to_status])).toEqual([
      ['sla_warn', 'open', 'open'], ['escalate', 'open', 'open'], ['escalate', 'open', 'open'],
    ]);
    const notes = (await audit(t!.id)).filter((a) => a.action === 'escalate').map((a) => a.note);
    expect(notes[0]).toContain('社区');
    expect(notes[1]).toContain('街道');
  });

  it('sweeps concurrently with an operator without either write overwriting the other', async () => {
    const key = 'bin-overflow:t1:device:bin-1:stale';
    await hub.tickets.applyDecisions([openDecision(key, { severity: 'high' })], T0);
    const [t] = await byKey(key);
    // Simulate the operator's write landing between the sweep's read and its write.
    const sweep = hub.tickets.sweepSla(T0 + 25 * MIN);
    await hub.tickets.act(t!.id, 'comment', { note: '已联系保洁' }, { username: 'dispatcher', role: 'dispatcher' }, T0 + 25 * MIN);
    await sweep;
    await hub.tickets.sweepSla(T0 + 25 * MIN + 1000);
    const after = (await byKey(key))[0]!;
    expect(after.warnedRespond).toBe(true);
    expect((await audit(t!.id)).filter((a) => a.action === 'sla_warn')).toHaveLength(1);
    expect((await audit(t!.id)).filter((a) => a.action === 'comment')).toHaveLength(1);
  });

  it('refuses a second live ticket for a dedup key at the database, and refuses edits to the audit trail', async () => {
    const key = 'bin-overflow:t1:device:bin-1:db';
    await hub.tickets.applyDecisions([openDecision(key)], T0);
    const [t] = await byKey(key);
    const copy = { ...t!, id: 'T-dup-1' };
    await expect(rows(`INSERT INTO tickets (id, site_id, origin, dedup_key, status, severity, severity_rank, category, team, cell_id, escalation_level,
        preempted, opened_at, sla_started_at, respond_by, resolve_by, version, doc)
      SELECT 'T-dup-1', site_id, origin, dedup_key, 'dispatched', severity, severity_rank, category, team, cell_id, 0, false, opened_at, sla_started_at,
        respond_by, resolve_by, 1, $2::jsonb FROM tickets WHERE id = $1`, [t!.id, JSON.stringify(copy)])).rejects.toMatchObject({ code: '23505' });
    await expect(rows(`UPDATE ticket_audit SET actor = 'someone' WHERE ticket_id = $1`, [t!.id])).rejects.toThrow(/append-only/);
    await expect(rows('DELETE FROM ticket_audit WHERE ticket_id = $1', [t!.id])).rejects.toThrow(/append-only/);
  });
});
