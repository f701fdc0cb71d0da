import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FollowUp, StreetKpis, Ticket } from '@shaobing/schemas';
import { loadConfig } from '../src/config.ts';
import { startHub, type HubHandle } from '../src/hub.ts';
import { apiGet, login } from './support/test-hub.ts';
import { testSiteFile, writeTestSiteFile } from './support/test-site.ts';

// Open311 GeoReport v2 and the follow-up loop against a real hub (embedded store), with the
// dashboard served, so an unknown Open311 path could fall through to the page if it were wrong.
const KEY = 'open311-test-key-0123456789';
/** GeoReport v2 service request fields (wiki.open311.org/GeoReport_v2, GET Service Request). */
const REQUEST_FIELDS = [
  'service_request_id', 'status', 'status_notes', 'service_name', 'service_code', 'description', 'agency_responsible',
  'service_notice', 'requested_datetime', 'updated_datetime', 'expected_datetime', 'address', 'address_id', 'zipcode',
  'lat', 'long', 'media_url',
].sort();
const SERVICE_FIELDS = ['service_code', 'service_name', 'description', 'metadata', 'type', 'keywords', 'group'].sort();
const CAM = { lat: 39.9389, lng: 116.4469 };

let hub: HubHandle;
let proactive: Ticket;
const url = (path: string) => `${hub.httpUrl}${path}`;
const form = (fields: Record<string, string>) => ({
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
});

beforeAll(async () => {
  const site = structuredClone(await testSiteFile());
  for (const d of site.sites[0]!.devices) if (d.id === 'cam-1') d.location = { label: '1号楼电梯', ...CAM };
  site.sites[0]!.grid = site.sites[0]!.grid.map((c) => (c.id === 'unit-1' ? { ...c, population: 120 } : c.id === 'unit-2' ? { ...c, population: 80 } : c));
  const dashboard = mkdtempSync(join(tmpdir(), 'shaobing-dash-'));
  writeFileSync(join(dashboard, 'index.html'), '<!doctype html><title>dashboard</title>');
  const config = loadConfig({}, {
    httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: 'memory://', logLevel: 'silent',
    siteFile: await writeTestSiteFile(site), open311ApiKey: KEY,
  });
  hub = await startHub(config, { log: pino({ level: 'silent' }), dashboardDir: dashboard });
  const at = Date.now() - 10 * 60_000;
  await hub.tickets.applyDecisions([{
    kind: 'open', ruleId: 'camera.ebike_in_elevator', siteId: 't1', cellId: 'yard-1', deviceId: 'cam-1', dedupKey: 'ebike:cam-1', severity: 'high',
    category: 'fire_safety', deviceVerifiable: true, title: { 'zh-CN': '电动车进电梯：1号楼电梯', en: 'E-bike in the elevator' }, description: { 'zh-CN': '', en: '' },
    evidence: { eventKey: 'ev-ebike', ts: new Date(at).toISOString(), type: 'camera.alert', summary: 'ebike_in_elevator 0.93' },
  }], at);
  proactive = (await hub.db.query("SELECT doc FROM tickets WHERE dedup_key = 'ebike:cam-1'"))[0]!.doc as Ticket;
  // 人工核准: an unsure alert waits for the control room; Open311 does not publish it.
  await hub.tickets.applyDecisions([{
    kind: 'open', ruleId: 'camera.corridor_clutter', siteId: 't1', cellId: 'yard-1', deviceId: 'cam-1', dedupKey: 'clutter:cam-1', severity: 'normal',
    category: 'fire_safety', deviceVerifiable: true, title: { 'zh-CN': '楼道堆物', en: 'Corridor clutter' }, description: { 'zh-CN': '', en: '' },
    evidence: { eventKey: 'ev-clutter', ts: new Date(at).toISOString(), type: 'camera.alert', summary: 'corridor_clutter 0.66', detail: { cause: 'event', fields: { kind: 'corridor_clutter', confidence: 0.66 } } },
  }], at);
  expect((await hub.db.query("SELECT status FROM tickets WHERE dedup_key = 'clutter:cam-1'"))[0]).toEqual({ status: 'pending_review' });
});
afterAll(async () => { await hub?.stop(); });

describe('Open311 GeoReport v2', () => {
  it('refuses calls without the right api_key, as a GeoReport error list', async () => {
    for (const path of ['/open311/v2/services.json', '/open311/v2/services.json?api_key=wrong']) {
      const res = await fetch(url(path));
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual([{ code: 403, description: expect.any(String) }]);
    }
  });

  it('lists the categories as services with the spec fields', async () => {
    const res = await fetch(url(`/open311/v2/services.json?api_key=${KEY}`));
    expect(res.status).toBe(200);
    const services = (await res.json()) as Array<Record<string, unknown>>;
    expect(services.map((s) => s.service_code)).toEqual(['fire_safety', 'sanitation', 'security', 'order', 'care', 'equipment']);
    for (const s of services) expect(Object.keys(s).sort()).toEqual(SERVICE_FIELDS);
    expect(services[0]).toMatchObject({ service_name: '消防安全', metadata: false, type: 'realtime' });
  });

  let created = '';
  it('POST requests.json (form-encoded) files a complaint placed by lat/long and linked to the proactive ticket', async () => {
    const res = await fetch(url('/open311/v2/requests.json'), form({
      api_key: KEY, service_code: 'fire_safety', lat: String(CAM.lat + 0.0001), long: String(CAM.lng), description: '有人把电动车推进电梯', account_id: 'resident-7',
      first_name: '小红', last_name: '李', phone: '13800000007', email: 'li@example.org',
    }));
    expect(res.status).toBe(201);
    const body = (await res.json()) as Array<{ service_request_id: string; service_notice: string | null; account_id: string | null }>;
    expect(body).toHaveLength(1);
    created = body[0]!.service_request_id;
    expect(body[0]!.service_notice).toContain(proactive.id);
    expect(body[0]!.account_id).toBe('resident-7');
    const ticket = (await hub.tickets.get(created))!;
    expect(ticket).toMatchObject({ origin: 'complaint', cellId: 'yard-1', category: 'fire_safety', preempted: true, linkedTicketIds: [proactive.id] });
    // The requester's contact is kept for the 回访.
    expect(ticket.complaint?.contact).toEqual({ name: '李 小红', phone: '13800000007', email: 'li@example.org' });
  });

  it('GET requests/{id}.json gives one request with exactly the spec fields, SLA deadline as expected_datetime', async () => {
    const res = await fetch(url(`/open311/v2/requests/${created}.json?api_key=${KEY}`));
    expect(res.status).toBe(200);
    const [r] = (await res.json()) as Array<Record<string, unknown>>;
    expect(Object.keys(r!).sort()).toEqual(REQUEST_FIELDS);
    const t = (await hub.tickets.get(created))!;
    expect(r).toMatchObject({
      service_request_id: created, status: 'open', service_code: 'fire_safety', service_name: '消防安全', description: '有人把电动车推进电梯',
      expected_datetime: t.resolveBy, address_id: 'yard-1', address: t.locationLabel, agency_responsible: '测试街道',
    });
    expect(r!.lat).toBeCloseTo(CAM.lat, 4); // the compound's position: the mean of its located devices (only the camera here)
    expect(r!.long).toBeCloseTo(CAM.lng, 4);
    const proRes = (await (await fetch(url(`/open311/v2/requests/${proactive.id}.json?api_key=${KEY}`))).json()) as Array<Record<string, unknown>>;
    expect(proRes[0]).toMatchObject({ lat: CAM.lat, long: CAM.lng, status: 'open' }); // its own device
  });

  it('GET requests.json filters by status, service_code and dates', async () => {
    const get = async (q: string) => (await (await fetch(url(`/open311/v2/requests.json?api_key=${KEY}${q}`))).json()) as Array<{ service_request_id: string; status: string }>;
    expect((await get('')).map((r) => r.service_request_id).sort()).toEqual([created, proactive.id].sort());
    expect((await get('&status=open&service_code=fire_safety')).length).toBe(2);
    expect(await get('&status=closed')).toEqual([]);
    expect(await get('&service_code=sanitation')).toEqual([]);
    expect(await get(`&start_date=${new Date(Date.now() + 3600_000).toISOString()}&end_date=${new Date(Date.now() + 7200_000).toISOString()}`)).toEqual([]);
    expect((await fetch(url(`/open311/v2/requests.json?api_key=${KEY}&start_date=${new Date(Date.now() + 3600_000).toISOString()}`))).status).toBe(400); // after the default end (now)
    const bad = await fetch(url(`/open311/v2/requests.json?api_key=${KEY}&service_code=nonsense`));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual([{ code: 400, description: 'unknown service_code nonsense' }]);
  });

  it('rejects a POST without a place, or far from the site, with a clear error', async () => {
    const none = await fetch(url('/open311/v2/requests.json'), form({ api_key: KEY, service_code: 'sanitation', description: 'x' }));
    expect(none.status).toBe(400);
    expect(((await none.json()) as Array<{ description: string }>)[0]!.description).toMatch(/location is required/);
    const far = await fetch(url('/open311/v2/requests.json'), form({ api_key: KEY, service_code: 'sanitation', lat: '31.2', long: '121.5' }));
    expect(far.status).toBe(400);
    const noKey = await fetch(url('/open311/v2/requests.json'), form({ service_code: 'sanitation', address_id: 'unit-1' }));
    expect(noKey.status).toBe(403);
  });

  it('answers unknown Open311 paths with a 404 JSON list, not the dashboard page', async () => {
    for (const path of ['/open311/v2/nothing.json', '/open311/v3/services.json', `/open311/v2/requests/NOPE.json?api_key=${KEY}`]) {
      const res = await fetch(url(path));
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(await res.json()).toEqual([{ code: 404, description: expect.any(String) }]);
    }
    expect((await fetch(url('/some/dashboard/route'))).headers.get('content-type')).toMatch(/text\/html/);
  });
});

describe('follow-up (回访) and second handling (二次办理)', () => {
  it('solved but not satisfied is 非双是: the ticket reopens, is on the dispatcher list, and counts against 双是率', async () => {
    const token = await login(hub, 'dispatcher');
    const ops = { username: 'dispatcher', role: 'dispatcher' as const };
    const complaint = (await hub.db.query("SELECT id FROM tickets WHERE origin = 'complaint' ORDER BY opened_at LIMIT 1"))[0]!.id as string;
    await hub.tickets.act(complaint, 'dispatch', {}, ops);
    await hub.tickets.act(complaint, 'accept', {}, ops);
    await hub.tickets.act(complaint, 'resolve', { note: '已劝离' }, ops);
    const post = async (body: Record<string, unknown>) => fetch(url(`/api/tickets/${complaint}/follow-up`), {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const res = await post({ solved: true, satisfied: false, note: '电动车还是会推进来' });
    expect(res.status).toBe(200);
    const { ticket, followUp } = (await res.json()) as { ticket: Ticket; followUp: FollowUp };
    expect(followUp).toMatchObject({ outcome: 'not_double_yes', rating: 'unsatisfied', solved: true, satisfied: false });
    expect(ticket.status).toBe('reopened');
    const list = await apiGet<{ items: Array<{ followUp: FollowUp; ticket: Ticket }> }>(hub, '/api/follow-ups/second-handling?siteId=t1', token);
    expect(list.items.map((i) => [i.ticket.id, i.followUp.outcome])).toEqual([[complaint, 'not_double_yes']]);

    const street = await apiGet<StreetKpis>(hub, '/api/kpi/street?siteId=t1', token);
    expect(street.total.doubleYesRate).toMatchObject({ numerator: 0, denominator: 1 });
    expect(street.total.population).toBe(200);
    const drill = await apiGet<{ ticketIds: string[] }>(hub, '/api/kpi/drill?siteId=t1&dimension=total&figure=notDoubleYes', token);
    expect(drill.ticketIds).toEqual([complaint]);

    // Handled again and 双是 this time: off the list, and closed.
    await hub.tickets.act(complaint, 'dispatch', {}, ops);
    await hub.tickets.act(complaint, 'accept', {}, ops);
    await hub.tickets.act(complaint, 'resolve', { note: '加装梯控' }, ops);
    const again = (await (await post({ solved: true, satisfied: true })).json()) as { ticket: Ticket; followUp: FollowUp };
    expect(again.followUp.outcome).toBe('double_yes');
    expect(again.ticket.status).toBe('closed');
    expect((await apiGet<{ items: unknown[] }>(hub, '/api/follow-ups/second-handling?siteId=t1', token)).items).toEqual([]);
    const viewer = await login(hub, 'viewer');
    const denied = await fetch(url(`/api/tickets/${complaint}/follow-up`), {
      method: 'POST', headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' }, body: JSON.stringify({ solved: true, satisfied: true }),
    });
    expect(denied.status).toBe(403);
  });
});

describe('每月一题 and seasonal early warning over the store', () => {
  const DAY = 24 * 3600_000;
  const seed = async (key: string, at: number, category: 'fire_safety' | 'sanitation', cellId: string, deviceId: string) => {
    await hub.tickets.applyDecisions([{
      kind: 'open', ruleId: category === 'fire_safety' ? 'charger.overheat' : 'bin.full', siteId: 't1', cellId, deviceId, dedupKey: key, severity: 'normal', category,
      deviceVerifiable: false, title: { 'zh-CN': key, en: key }, description: { 'zh-CN': '', en: '' },
      evidence: { eventKey: `ev-${key}`, ts: new Date(at).toISOString(), type: 'x', summary: key },
    }], at);
  };

  it('warns ahead of the season from last year, with the reason, and lets a supervisor adopt the month\'s problem', async () => {
    const now = Date.now();
    // Last year's summer at the charging shed: 1 in the 4 weeks before today's date, 5 in the 4 after.
    await seed('season-0', now - 364 * DAY - 10 * DAY, 'fire_safety', 'yard-1', 'chg-1');
    for (const d of [1, 5, 9, 14, 20]) await seed(`season-${d}`, now - 364 * DAY + d * DAY, 'fire_safety', 'yard-1', 'chg-1');
    const viewer = await login(hub, 'viewer');
    const { items } = await apiGet<{ items: Array<{ category: string; placeId: string; basis: string; ratio: number; reason: { 'zh-CN': string } }> }>(hub, '/api/insights/seasonal?siteId=t1', viewer);
    const w = items.find((i) => i.category === 'fire_safety')!;
    expect(w).toMatchObject({ placeId: 'yard-1', basis: 'same_weeks_earlier_year', ratio: 5 });
    expect(w.reason['zh-CN']).toBe('一号院消防安全类工单往年同期 ×5.0（5 件，对比此前 1 件）');

    // This month's bins at unit 2: repeated at one bin.
    for (const i of [1, 2, 3]) await seed(`month-${i}`, now - i * 60_000, 'sanitation', 'unit-2', 'bin-2');
    const month = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(now);
    const got = await apiGet<{ candidates: Array<{ category: string; placeId: string; volume: number; repeatRate: number; hotspots: Array<{ spot: string }> }>; adopted: unknown[] }>(
      hub, `/api/insights/monthly-problem?siteId=t1&month=${month}`, viewer);
    const top = got.candidates.find((c) => c.category === 'sanitation')!;
    expect(top).toMatchObject({ placeId: 'yard-1', volume: 3, repeatRate: 1, hotspots: [{ spot: 'bin-2' }] });
    const adopt = (token: string) => fetch(url('/api/insights/monthly-problem/adopt'), {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ siteId: 't1', month, category: 'sanitation', placeId: 'yard-1', note: '垃圾桶加密清运' }),
    });
    expect((await adopt(await login(hub, 'dispatcher'))).status).toBe(403);
    const res = await adopt(await login(hub, 'supervisor'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ month, category: 'sanitation', placeId: 'yard-1', placeName: '一号院', volume: 3, adoptedBy: 'supervisor', nextMonth: null });
    const after = await apiGet<{ adopted: Array<{ month: string }> }>(hub, `/api/insights/monthly-problem?siteId=t1&month=${month}`, viewer);
    expect(after.adopted.map((a) => a.month)).toEqual([month]);
  });
});
