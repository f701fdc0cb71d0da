import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_ACTIONS, OPERATOR_ROLES, type OperatorRole, type RuleDecision, type Ticket } from '@shaobing/schemas';
import { hashPassword } from '@shaobing/schemas/credentials';
import type { HubHandle } from '../src/hub.ts';
import { ACTION_ROLES } from '../src/tickets/core/index.ts';
import { login, startTestHub } from './support/test-hub.ts';
import { testSiteFile, writeTestSiteFile } from './support/test-site.ts';

/*
 * Authentication and roles across the whole HTTP API of a real hub: every /api route refuses
 * a request without a valid token (401) — the route list comes from the hub's own OpenAPI
 * document, so a route added later is covered without editing this file — and each ticket
 * action is refused (403) for every role the permission table does not name.
 */
// The login, and what the login page may show before it (whether this is the demo site).
const PUBLIC = new Set(['POST /api/auth/login', 'GET /api/about']);
/** Every route authenticates in onRequest, before validation: none may answer 400 before 401. */
const VALIDATE_BEFORE_AUTH = new Set<string>();

interface Route { method: string; path: string }

describe('roles and authentication', () => {
  let hub: HubHandle;
  let routes: Route[];
  const tokens = {} as Record<OperatorRole, string>;
  let ticket: Ticket;

  const send = async (method: string, path: string, token: string | null, body?: unknown) => {
    const res = await fetch(`${hub.httpUrl}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, code: (text.startsWith('{') ? (JSON.parse(text) as { code?: string }).code : undefined) };
  };

  beforeAll(async () => {
    // The test site plus a second site, and a dispatcher who may see only that one.
    const file = structuredClone(await testSiteFile());
    file.sites.push({ id: 't2', name: '另一街道', grid: [{ id: 's2', level: 'street', name: '另一街道' }], workers: [], gateways: [], devices: [] });
    file.operators.push({ username: 'outsider', displayName: 'outsider', role: 'dispatcher', siteIds: ['t2'], passwordHash: await hashPassword('outsider-pass') });
    hub = await startTestHub({ siteFile: await writeTestSiteFile(file) });
    for (const r of OPERATOR_ROLES) tokens[r] = await login(hub, r);
    const doc = await (await fetch(`${hub.httpUrl}/docs/json`)).json() as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })));
    const d: RuleDecision = {
      kind: 'open', ruleId: 'bin-overflow', siteId: 't1', deviceId: 'bin-1', cellId: 'yard-1', dedupKey: 'bin-overflow:t1:roles',
      severity: 'normal', category: 'sanitation', deviceVerifiable: true, title: { 'zh-CN': '满溢', en: 'overflow' }, description: { 'zh-CN': '', en: '' },
      evidence: { eventKey: 't1/bin-1/roles', ts: new Date().toISOString(), type: 'bin.telemetry', deviceId: 'bin-1', summary: 'fill 90%' },
    };
    await hub.tickets.applyDecisions([d]);
    ticket = (await hub.db.query(`SELECT doc FROM tickets WHERE dedup_key = 'bin-overflow:t1:roles'`))[0]!.doc as Ticket;
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('finds the API routes in the OpenAPI document (tickets, complaints, KPIs, reports, grid among them)', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of [
      'GET /api/tickets', 'GET /api/tickets/{id}', 'POST /api/tickets/{id}/approve-dismiss', 'POST /api/complaints',
      'GET /api/kpi', 'GET /api/reports', 'GET /api/reports/{kind}.csv', 'GET /api/grid',
    ]) expect(names).toContain(expected);
    expect(routes.filter((r) => r.path.startsWith('/api/')).length).toBeGreaterThan(20);
  });

  it('refuses every /api route without a token, and with a forged one (401)', async () => {
    const failures: string[] = [];
    for (const r of routes) {
      if (!r.path.startsWith('/api/') || PUBLIC.has(`${r.method} ${r.path}`)) continue;
      const path = r.path.replace(/\{id\}/g, ticket.id).replace(/\{kind\}/g, 'daily').replace(/\{[^}]+\}/g, 'x');
      const body = r.method === 'GET' ? undefined : {};
      for (const token of [null, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiIsInJvbGUiOiJhZG1pbiJ9.forged']) {
        const res = await send(r.method, path, token, body);
        if (VALIDATE_BEFORE_AUTH.has(`${r.method} ${r.path}`) && res.status === 400) continue;
        if (res.status !== 401 || res.code !== 'HUB_ERR_UNAUTHORIZED') failures.push(`${r.method} ${path} (${token ? 'forged' : 'none'}) → ${res.status} ${res.code}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses each ticket action for every role the permission table does not allow (403), before touching the ticket', async () => {
    const bodies: Record<string, unknown> = { comment: { note: 'x' }, resolve: { note: 'x' }, rate: { rating: 'satisfied' }, request_dismiss: { reasonCategory: 'test', note: 'x' }, reject_dismiss: { note: 'x' }, escalate: { note: 'x' }, reopen: { note: 'x' } };
    const refused: string[] = [];
    for (const action of OPERATOR_ACTIONS) {
      for (const role of OPERATOR_ROLES) {
        if (ACTION_ROLES[action].includes(role)) continue;
        const res = await send('POST', `/api/tickets/${ticket.id}/${action.replaceAll('_', '-')}`, tokens[role], bodies[action] ?? {});
        expect([action, role, res.status, res.code]).toEqual([action, role, 403, 'HUB_ERR_FORBIDDEN']);
        refused.push(`${role}:${action}`);
      }
    }
    // The viewer reads only; dismissal approval needs a supervisor.
    expect(refused.filter((r) => r.startsWith('viewer:'))).toHaveLength(OPERATOR_ACTIONS.length);
    expect(refused).toEqual(expect.arrayContaining(['dispatcher:approve_dismiss', 'dispatcher:reject_dismiss']));
    const after = (await hub.db.query('SELECT version FROM tickets WHERE id = $1', [ticket.id]))[0]!.version;
    expect(after).toBe(ticket.version);
  });

  it('lets every role read, and only dispatchers and above file complaints', async () => {
    for (const role of OPERATOR_ROLES) {
      for (const path of ['/api/tickets', `/api/tickets/${ticket.id}`, '/api/kpi', '/api/reports', '/api/grid?siteId=t1']) {
        expect([role, path, (await send('GET', path, tokens[role])).status]).toEqual([role, path, 200]);
      }
      const complaint = { siteId: 't1', cellId: 'unit-1', category: 'sanitation', text: '垃圾', source: 'app' };
      const expected = role === 'viewer' ? 403 : 201;
      expect([role, (await send('POST', '/api/complaints', tokens[role], complaint)).status]).toEqual([role, expected]);
    }
  });

  it('keeps an operator to their sites: another site\'s tickets are not found, its data forbidden', async () => {
    const res = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'outsider', password: 'outsider-pass' }) });
    const token = ((await res.json()) as { token: string }).token;
    const list = await fetch(`${hub.httpUrl}/api/tickets?limit=500`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await list.json()) as { items: Ticket[] }).items.filter((t) => t.siteId === 't1')).toEqual([]);
    expect((await send('GET', `/api/tickets/${ticket.id}`, token)).status).toBe(404);
    expect((await send('POST', `/api/tickets/${ticket.id}/comment`, token, { note: 'x' })).status).toBe(404);
    for (const path of ['/api/kpi?siteId=t1', '/api/grid?siteId=t1', '/api/reports?siteId=t1', '/api/reports/daily.csv?siteId=t1', '/api/tickets?siteId=t1']) {
      const r = await send('GET', path, token);
      expect([path, r.status, r.code]).toEqual([path, 403, 'HUB_ERR_FORBIDDEN']);
    }
    expect((await send('POST', '/api/complaints', token, { siteId: 't1', cellId: 'unit-1', category: 'sanitation', text: 'x', source: 'app' })).status).toBe(403);
    expect((await send('GET', '/api/kpi', token)).status).toBe(200);
    expect((await send('GET', '/api/grid?siteId=t2', token)).status).toBe(200);
  });
});
