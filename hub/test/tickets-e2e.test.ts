import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KpiSnapshot, RuleDecision, Ticket } from '@shaobing/schemas';
import type { HubHandle } from '../src/hub.ts';
import { localDateLabel } from '../src/kpi/periods.ts';
import { storeTargets } from './support/store-targets.ts';
import { login, startTestHub } from './support/test-hub.ts';

/*
 * The ticket API end to end: a real hub (HTTP on port 0, real store), real logins per role,
 * tickets opened the way the rule shell opens them (hub.tickets.applyDecisions), then driven
 * only through REST.
 */
type Role = 'admin' | 'dispatcher' | 'supervisor' | 'viewer';
interface Res<T = unknown> { status: number; body: T; headers: Headers; text: string }

let seq = 0;
function openDecision(over: Partial<Extract<RuleDecision, { kind: 'open' }>> = {}): RuleDecision {
  const n = ++seq;
  return {
    kind: 'open', ruleId: 'bin-overflow', siteId: 't1', deviceId: 'bin-1', cellId: 'yard-1', dedupKey: `bin-overflow:t1:e2e-${n}`,
    severity: 'normal', category: 'sanitation', deviceVerifiable: true,
    title: { 'zh-CN': '垃圾满溢', en: 'Bin overflow' }, description: { 'zh-CN': '满溢', en: 'overflow' },
    evidence: { eventKey: `t1/bin-1/e2e-${n}`, ts: new Date().toISOString(), type: 'bin.telemetry', deviceId: 'bin-1', summary: 'fill 88%' },
    ...over,
  };
}

describe.each(storeTargets())('ticket API on $name', (target) => {
  let hub: HubHandle;
  const tokens = {} as Record<Role, string>;

  async function call<T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, role: Role | null, body?: unknown): Promise<Res<T>> {
    const res = await fetch(`${hub.httpUrl}${path}`, {
      method,
      headers: { ...(role ? { authorization: `Bearer ${tokens[role]}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* CSV */ }
    return { status: res.status, body: parsed as T, headers: res.headers, text };
  }
  const act = (id: string, action: string, role: Role, body: unknown = {}) => call<{ ticket: Ticket; audit: Array<{ actor: string; action: string; to: string }>; allowedActions: string[]; code?: string }>('POST', `/api/tickets/${id}/${action}`, role, body);
  async function open(over: Partial<Extract<RuleDecision, { kind: 'open' }>> = {}): Promise<Ticket> {
    const d = openDecision(over);
    await hub.tickets.applyDecisions([d]);
    const page = await call<{ items: Ticket[] }>('GET', `/api/tickets?siteId=t1&limit=500`, 'viewer');
    return page.body.items.find((t) => t.dedupKey === d.dedupKey)!;
  }

  beforeAll(async () => {
    hub = await startTestHub({ databaseUrl: await target.databaseUrl() });
    for (const r of ['admin', 'dispatcher', 'supervisor', 'viewer'] as const) tokens[r] = await login(hub, r);
  });
  afterAll(async () => {
    await hub?.stop();
    await target.cleanup();
  });

  it('runs the lifecycle: dispatch → accept → resolve (needs a note) → 不满意 reopens with fresh deadlines → 满意 closes', async () => {
    const t = await open();
    expect((await call<{ allowedActions: string[] }>('GET', `/api/tickets/${t.id}`, 'viewer')).body.allowedActions).toEqual([]);
    expect((await call<{ allowedActions: string[] }>('GET', `/api/tickets/${t.id}`, 'dispatcher')).body.allowedActions).toEqual(['dispatch', 'comment', 'request_dismiss', 'escalate']);

    expect((await act(t.id, 'dispatch', 'dispatcher')).body.ticket).toMatchObject({ status: 'dispatched', assigneeId: 'w-yard' });
    expect((await act(t.id, 'accept', 'dispatcher')).body.ticket.status).toBe('accepted');
    const noNote = await act(t.id, 'resolve', 'dispatcher', { note: '   ' });
    expect(noNote.status).toBe(400);
    expect(noNote.body.code).toBe('HUB_ERR_NOTE_REQUIRED');
    expect((await act(t.id, 'resolve', 'dispatcher', {})).status).toBe(400); // schema: note is required
    const resolved = await act(t.id, 'resolve', 'dispatcher', { note: '已清运', photoUrl: 'http://127.0.0.1/p/1.jpg' });
    expect(resolved.body.ticket).toMatchObject({ status: 'resolved', resolution: { by: 'operator', note: '已清运' } });

    await new Promise((r) => setTimeout(r, 5)); // deadlines measured from a later instant
    const reopened = (await act(t.id, 'rate', 'dispatcher', { rating: 'unsatisfied', note: '还有异味' })).body.ticket;
    expect(reopened).toMatchObject({ status: 'reopened', rating: 'unsatisfied', reopenCount: 1, acceptedAt: null, resolvedAt: null, escalationLevel: 0 });
    expect(Date.parse(reopened.respondBy)).toBeGreaterThan(Date.parse(t.respondBy));
    expect(Date.parse(reopened.respondBy) - Date.parse(reopened.slaStartedAt)).toBe(2 * 3600_000);

    await act(t.id, 'dispatch', 'dispatcher');
    await act(t.id, 'accept', 'dispatcher');
    await act(t.id, 'resolve', 'dispatcher', { note: '二次清运' });
    const closing = await act(t.id, 'rate', 'dispatcher', { rating: 'satisfied' });
    expect(closing.body.ticket).toMatchObject({ status: 'closed', rating: 'satisfied' });

    const detail = (await call<{ ticket: Ticket; audit: Array<{ actor: string; action: string; to: string; note?: string }> }>('GET', `/api/tickets/${t.id}`, 'viewer')).body;
    expect(detail.audit.map((a) => `${a.actor}:${a.action}:${a.to}`)).toEqual([
      'system:bin-overflow:open:open', 'dispatcher:dispatch:dispatched', 'dispatcher:accept:accepted', 'dispatcher:resolve:resolved',
      'dispatcher:rate:reopened', 'dispatcher:dispatch:dispatched', 'dispatcher:accept:accepted', 'dispatcher:resolve:resolved', 'dispatcher:rate:closed',
    ]);
    expect(detail.audit[4]!.note).toBe('unsatisfied: 还有异味');
    // The action's reply carries the same timeline, this action included: no reload needed.
    expect(closing.body.audit).toEqual(detail.audit);
    expect(resolved.body.audit.map((a) => `${a.actor}:${a.action}:${a.to}`)).toEqual(detail.audit.slice(0, 4).map((a) => `${a.actor}:${a.action}:${a.to}`));
  });

  it('refuses illegal transitions (409), unknown tickets (404), and stale versions (409 HUB_ERR_CONFLICT)', async () => {
    const t = await open();
    expect((await act(t.id, 'accept', 'dispatcher')).body.code).toBe('HUB_ERR_ILLEGAL_TRANSITION');
    expect((await act(t.id, 'accept', 'dispatcher')).status).toBe(409);
    expect((await act('T-nope', 'comment', 'dispatcher', { note: 'x' })).status).toBe(404);
    expect((await call('GET', '/api/tickets/T-nope', 'viewer')).status).toBe(404);

    const v1 = t.version;
    expect((await act(t.id, 'comment', 'dispatcher', { note: 'first', version: v1 })).status).toBe(200);
    const stale = await act(t.id, 'comment', 'supervisor', { note: 'second', version: v1 });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('HUB_ERR_CONFLICT');
    expect((await act(t.id, 'comment', 'supervisor', { note: 'third', version: v1 + 1 })).status).toBe(200);
  });

  it('dismissal (剔除): requested by a dispatcher, approved only by a supervisor, never by the requester', async () => {
    const t = await open();
    expect((await act(t.id, 'request-dismiss', 'viewer', { reasonCategory: 'false_alarm', note: '误报' })).status).toBe(403);
    const req = await act(t.id, 'request-dismiss', 'dispatcher', { reasonCategory: 'false_alarm', note: '摄像头误报' });
    expect(req.body.ticket.dismissal).toMatchObject({ requestedBy: 'dispatcher', reasonCategory: 'false_alarm' });
    for (const role of ['viewer', 'dispatcher'] as const) {
      const r = await act(t.id, 'approve-dismiss', role);
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('HUB_ERR_FORBIDDEN');
    }
    expect((await call<{ allowedActions: string[] }>('GET', `/api/tickets/${t.id}`, 'supervisor')).body.allowedActions).toContain('approve_dismiss');
    const ok = await act(t.id, 'approve-dismiss', 'supervisor', { note: '同意剔除' });
    expect(ok.body.ticket).toMatchObject({ status: 'dismissed', dismissal: { approvedBy: 'supervisor' } });

    const own = await open();
    await act(own.id, 'request-dismiss', 'supervisor', { reasonCategory: 'test', note: '测试' });
    const self = await act(own.id, 'approve-dismiss', 'supervisor');
    expect([self.status, self.body.code]).toEqual([403, 'HUB_ERR_SELF_APPROVAL']);
    expect((await act(own.id, 'reject-dismiss', 'admin', { note: '不属于误报' })).body.ticket.dismissal).toBeUndefined();
  });

  it('lists the board: filters, overdue first then severity then oldest, cursor pages without gaps or repeats', async () => {
    const critical = await open({ severity: 'critical', category: 'fire_safety', deviceId: 'chg-1' });
    const high = await open({ severity: 'high', category: 'order', deviceId: 'cam-1' });
    const normal = await open({ cellId: 'unit-2', deviceId: 'bin-2' });
    // Make `normal` overdue by moving its response deadline into the past (column and document).
    const past = new Date(Date.now() - 60_000).toISOString();
    await hub.db.query(`UPDATE tickets SET respond_by = $2::timestamptz, doc = jsonb_set(doc, '{respondBy}', to_jsonb($2::text)) WHERE id = $1`, [normal.id, past]);

    const live = (await call<{ items: Ticket[] }>('GET', '/api/tickets?siteId=t1&status=open&status=dispatched&status=accepted&status=reopened&limit=500', 'viewer')).body.items;
    const ids = live.map((t) => t.id);
    expect(ids.indexOf(normal.id)).toBe(0);
    expect(ids.indexOf(critical.id)).toBeLessThan(ids.indexOf(high.id));
    const overdue = (await call<{ items: Ticket[] }>('GET', '/api/tickets?overdue=true', 'viewer')).body.items;
    expect(overdue.map((t) => t.id)).toEqual([normal.id]);
    const filtered = (await call<{ items: Ticket[] }>('GET', '/api/tickets?severity=critical&category=fire_safety&origin=proactive&assigneeId=w-yard', 'viewer')).body.items;
    expect(filtered.map((t) => t.id)).toContain(critical.id);
    expect(filtered.every((t) => t.severity === 'critical')).toBe(true);
    const inCell = (await call<{ items: Ticket[] }>('GET', '/api/tickets?cellId=unit-2', 'viewer')).body.items;
    expect(inCell.map((t) => t.id)).toContain(normal.id);
    expect(inCell.every((t) => t.cellId === 'unit-2')).toBe(true);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await call<{ items: Ticket[] }>('GET', `/api/tickets?from=${future}`, 'viewer')).body.items).toEqual([]);

    const all = (await call<{ items: Ticket[] }>('GET', '/api/tickets?limit=500', 'viewer')).body.items.map((t) => t.id);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Res<{ items: Ticket[]; nextCursor: string | null }> = await call('GET', `/api/tickets?limit=2${cursor ? `&cursor=${cursor}` : ''}`, 'viewer');
      paged.push(...page.body.items.map((t) => t.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all);
    expect((await call('GET', '/api/tickets?cursor=bogus', 'viewer')).status).toBe(400);
  });

  it('links a complaint to the proactive ticket that came first (pre-empted), and the KPIs show it', async () => {
    const proactive = await open({ cellId: 'yard-1' });
    const input = { siteId: 't1', cellId: 'unit-1', category: 'sanitation', text: '楼下垃圾桶满了', source: 'hotline_12345', externalRef: '12345-0001' };
    expect((await call('POST', '/api/complaints', 'viewer', input)).status).toBe(403);
    const res = await call<{ ticket: Ticket; linked: Ticket | null; preempted: boolean }>('POST', '/api/complaints', 'dispatcher', input);
    expect(res.status).toBe(201);
    expect(res.body.preempted).toBe(true);
    expect(res.body.ticket).toMatchObject({ origin: 'complaint', preempted: true, linkedTicketIds: [proactive.id], complaint: { source: 'hotline_12345', externalRef: '12345-0001' } });
    expect(res.body.linked?.linkedTicketIds).toEqual([res.body.ticket.id]);
    const detail = (await call<{ linked: Ticket[]; audit: Array<{ actor: string; action: string }> }>('GET', `/api/tickets/${res.body.ticket.id}`, 'viewer')).body;
    expect(detail.linked.map((t) => t.id)).toEqual([proactive.id]);
    expect(detail.audit.map((a) => `${a.actor}:${a.action}`)).toEqual(['dispatcher:open', 'system:complaint:link']);

    // A complaint no proactive ticket covers is not linked. (The hub's own rules run here too:
    // at start they open offline and elderly-care tickets, so pick a category they don't use.)
    const other = await call<{ preempted: boolean; linked: Ticket | null }>('POST', '/api/complaints', 'dispatcher', { ...input, cellId: 'unit-2', category: 'security', text: '单元门禁坏了' });
    expect(other.body).toMatchObject({ preempted: false, linked: null });
    expect((await call('POST', '/api/complaints', 'dispatcher', { ...input, cellId: 'nowhere' })).body).toMatchObject({ code: 'HUB_ERR_UNKNOWN_CELL' });

    const kpi = (await call<KpiSnapshot>('GET', '/api/kpi?siteId=t1', 'viewer')).body;
    // Every ticket of today is one this file opened: 1 + 1 + 2 (one dismissed) + 3 + 1, and two complaints.
    expect(kpi.tickets).toBe(10);
    expect(kpi.complaintsPreempted).toBe(1);
    expect(kpi.proactiveShare).toMatchObject({ numerator: 7, denominator: 9 }); // the dismissed one does not count
    expect(kpi.proactiveShare.denominator - kpi.proactiveShare.numerator).toBe(2); // the two complaints
    expect(kpi.workers.map((w) => w.id)).toContain('w-yard');
    expect(kpi.communities.map((c) => c.id)).toEqual(['comm-1']);
    expect((await call('GET', '/api/kpi?siteId=nope', 'viewer')).status).toBe(404);
    expect((await call('GET', '/api/kpi?from=2026-03-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'viewer')).status).toBe(400);
  });

  it('stores reports and exports their ranking as CSV', async () => {
    const now = Date.now();
    // The daily job as it runs tomorrow at 00:05: today is then "the last complete day".
    const [report] = await hub.kpi.generateDue('daily', now + 24 * 3600_000);
    expect(report!.snapshot.tickets).toBe(10); // today's tickets (see the complaint test)
    const yard = report!.snapshot.workers.find((w) => w.id === 'w-yard')!;
    const list = (await call<{ items: Array<{ kind: string; siteId: string; periodStart: string; snapshot: KpiSnapshot }> }>('GET', '/api/reports?siteId=t1&kind=daily', 'viewer')).body.items;
    expect(list[0]).toMatchObject({ kind: 'daily', siteId: 't1', periodStart: report!.periodStart });

    const day = localDateLabel(now, 'Asia/Shanghai');
    const csv = await call('GET', `/api/reports/daily.csv?siteId=t1&period=${day}`, 'viewer');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="daily-t1-${day}-workers.csv"`);
    const lines = csv.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).toBe('site,rank,name,id,tickets,response_rate_pct,resolution_rate_pct,satisfaction_rate_pct,overdue,resolved_device,resolved_photo,resolved_unverified');
    // The split of each row is the stored report's (device-verified / photo-evidenced / unverified).
    for (const w of report!.snapshot.workers) {
      const cells = lines.find((l) => l.split(',')[3] === w.id)!.split(',');
      expect(cells.slice(9).map(Number)).toEqual([w.resolvedDevice, w.resolvedPhoto, w.resolvedUnverified]);
    }
    expect(report!.snapshot.workers.some((w) => (w.resolvedDevice ?? 0) + (w.resolvedPhoto ?? 0) + (w.resolvedUnverified ?? 0) > 0)).toBe(true);
    expect(lines.slice(1).filter((l) => l.startsWith(`测试街道,${yard.rank},张网格,w-yard,${yard.tickets},`))).toHaveLength(1); // names, not only ids
    const communities = await call('GET', `/api/reports/daily.csv?siteId=t1&period=${day}&ranking=communities`, 'viewer');
    expect(communities.text).toContain(',一社区,comm-1,');
    // No siteId needed: every site the operator may see.
    const all = await call('GET', `/api/reports/daily.csv?period=${day}`, 'viewer');
    expect(all.status).toBe(200);
    expect(all.headers.get('content-disposition')).toBe(`attachment; filename="daily-all-${day}-workers.csv"`);
    expect(all.text.replace(/^\uFEFF/, '').startsWith('site,rank,name,')).toBe(true);
    // Excel: a real workbook with the ranked sheets, names in them.
    const xlsx = await fetch(`${hub.httpUrl}/api/reports/daily.xlsx?period=${day}`, { headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(xlsx.status).toBe(200);
    const ExcelJS = (await import('exceljs')).default;
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await xlsx.arrayBuffer());
    expect(wb.worksheets.map((w) => w.name)).toEqual(['总览', '社区排名', '楼院排名', '网格员绩效', '类别', '物业公司', '站点', '季节性预警']);
    const workers = wb.getWorksheet('网格员绩效')!;
    expect(workers.getRow(1).values).toContain('响应率%');
    expect(workers.getColumn(2).values).toContain('张网格');
    expect((await call('GET', '/api/reports/daily.csv?siteId=t1&period=2020-01-01', 'viewer')).status).toBe(404);
    expect((await call('GET', '/api/reports/yearly.csv?siteId=t1', 'viewer')).status).toBe(400);
  });

  it('serves the grid tree', async () => {
    const grid = (await call<{ cells: Array<{ id: string }>; workers: Array<{ id: string }> }>('GET', '/api/grid?siteId=t1', 'viewer')).body;
    expect(grid.cells.map((c) => c.id)).toEqual(['street', 'comm-1', 'yard-1', 'unit-1', 'unit-2']);
    expect(grid.workers.map((w) => w.id)).toEqual(['w-yard', 'w-comm', 'w-street']);
    expect((await call('GET', '/api/grid?siteId=zz', 'viewer')).status).toBe(404);
  });
});
