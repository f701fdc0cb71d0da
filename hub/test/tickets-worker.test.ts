import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { RuleDecision, Ticket } from '@shaobing/schemas';
import type { HubHandle } from '../src/hub.ts';
import { closeClient, connectAs, login, loginWorker, startTestHub } from './support/test-hub.ts';
import { testSiteFile, writeTestSiteFile } from './support/test-site.ts';

/*
 * The field loop against a real hub: grid workers log in, see only their tickets, accept,
 * arrive, upload photo evidence and resolve; a manual resolve of a bin ticket is confirmed or
 * reopened by the bin's own readings over real MQTT (no fake closures).
 */
const MIN = 60_000;
let clock = Date.now() - 48 * 3600_000;
let hub: HubHandle;
let bin: MqttClient;
let n = 0;
const tok: Record<string, string> = {};

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> & { code?: string } }> {
  const res = await fetch(`${hub.httpUrl}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : {} };
}
async function upload(ticketId: string, token: string, bytes: Buffer, name = 'p.png'): Promise<{ status: number; body: { id?: string; code?: string; mime?: string } }> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), name);
  const res = await fetch(`${hub.httpUrl}/api/tickets/${ticketId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: await res.json() as { id?: string; code?: string } };
}
async function fill(pct: number): Promise<void> {
  await bin.publishAsync('shaobing/v1/t1/bin/bin-1/telemetry', JSON.stringify({ id: `w-${++n}`, ts: clock, type: 'bin.telemetry', data: { fillPct: pct } }), { qos: 1 });
  await new Promise((r) => setTimeout(r, 30));
  await hub.rules.idle();
  await hub.rules.tickNow(clock);
}
const binTicket = async (): Promise<Ticket | undefined> =>
  (await hub.db.query<{ doc: Ticket }>(`SELECT doc FROM tickets WHERE rule_id = 'bin.full' AND device_id = 'bin-1' ORDER BY opened_at DESC LIMIT 1`))[0]?.doc;

beforeAll(async () => {
  const file = structuredClone(await testSiteFile());
  file.sites[0]!.resolvePhotoRequired = true;
  hub = await startTestHub({ ruleTickMs: 60_000, siteFile: await writeTestSiteFile(file) }, { now: () => clock });
  bin = await connectAs(hub, 't1/bin-1');
  tok.dispatcher = await login(hub, 'dispatcher');
  tok.viewer = await login(hub, 'viewer');
  tok.yard = await loginWorker(hub, 'w-yard');
  tok.comm = await loginWorker(hub, 'w-comm');
});
afterAll(async () => {
  if (bin) await closeClient(bin);
  await hub?.stop();
});

describe('worker accounts', () => {
  it('log in with the worker id; a wrong password is refused; the role is worker', async () => {
    const ok = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'w-yard', password: 'yard-pass' }) });
    expect(await ok.json()).toMatchObject({ role: 'worker', username: 'w-yard', displayName: '张网格', siteIds: ['t1'] });
    const bad = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'w-yard', password: 'nope' }) });
    expect(bad.status).toBe(401);
    // A worker without a password in the site file has no account.
    const none = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'w-street', password: 'x' }) });
    expect(none.status).toBe(401);
  });

  it('see nothing of the control room: devices, events, KPIs, grid are 403', async () => {
    for (const path of ['/api/devices', '/api/events', '/api/kpi', '/api/grid', '/api/dead-letters']) {
      expect((await call('GET', path, tok.yard!)).status, path).toBe(403);
    }
  });
});

describe('the loop on a bin ticket, judged by the bin', () => {
  let id = '';
  it('the bin overflows over MQTT; only its grid worker sees the ticket', async () => {
    await fill(85);
    clock += 2 * MIN + 1000;
    await fill(88);
    const t = await binTicket();
    expect(t).toMatchObject({ status: 'open', assigneeId: 'w-yard', deviceVerifiable: true });
    id = t!.id;
    const mine = await call('GET', '/api/tickets', tok.yard!);
    expect((mine.body.items as Ticket[]).map((x) => x.id)).toContain(id);
    const theirs = await call('GET', '/api/tickets', tok.comm!);
    expect((theirs.body.items as Ticket[]).map((x) => x.id)).not.toContain(id);
    expect((await call('GET', `/api/tickets/${id}`, tok.comm!)).status).toBe(404);
    expect((await call('POST', `/api/tickets/${id}/dispatch`, tok.yard!, {})).status).toBe(403);
  });

  it('dispatched → the worker accepts, arrives, resolves: "resolved, awaiting device confirmation"', async () => {
    expect((await call('POST', `/api/tickets/${id}/dispatch`, tok.dispatcher!, {})).status).toBe(200);
    expect((await call('POST', `/api/tickets/${id}/accept`, tok.comm!, {})).status).toBe(404);
    const acc = await call('POST', `/api/tickets/${id}/accept`, tok.yard!, {});
    expect(acc.body.allowedActions).toEqual(expect.arrayContaining(['arrive', 'resolve', 'escalate']));
    clock += 5 * MIN;
    const arr = await call('POST', `/api/tickets/${id}/arrive`, tok.yard!, {});
    expect((arr.body.ticket as Ticket).arrivedAt).toBe(new Date(clock).toISOString());
    const res = await call('POST', `/api/tickets/${id}/resolve`, tok.yard!, { note: '已清运' });
    expect(res.status).toBe(200);
    expect((res.body.ticket as Ticket).resolution).toMatchObject({ awaitingDevice: true, confirmBy: new Date(clock + 2 * MIN).toISOString() });
  });

  it('the bin keeps reporting 92–93 % past the hold time → reopened (再派件) with the reading in the audit', async () => {
    await fill(92);
    clock += MIN;
    await fill(93);
    await hub.tickets.sweepSla(clock);
    expect((await binTicket())?.status).toBe('resolved'); // not yet past the hold time
    clock += MIN + 1000;
    await fill(93);
    await hub.tickets.sweepSla(clock);
    const t = await binTicket();
    expect(t?.id).toBe(id);
    expect(t?.status).toBe('reopened');
    const d = await call('GET', `/api/tickets/${id}`, tok.dispatcher!);
    const last = (d.body.audit as Array<{ action: string; note?: string; actor: string }>).at(-1)!;
    expect(last).toMatchObject({ action: 'reopen', actor: 'system:device-confirm' });
    expect(last.note).toContain('fill_pct=93');
  });

  it('handled again; this time the bin reports 10 % → closed, device-verified', async () => {
    await call('POST', `/api/tickets/${id}/dispatch`, tok.dispatcher!, {});
    await call('POST', `/api/tickets/${id}/accept`, tok.yard!, {});
    expect((await call('POST', `/api/tickets/${id}/resolve`, tok.yard!, { note: '再次清运' })).status).toBe(200);
    clock += 30_000;
    await fill(10);
    const t = await binTicket();
    expect(t).toMatchObject({ id, status: 'closed' });
    expect(t?.resolution).toMatchObject({ by: 'operator', awaitingDevice: false, verification: 'device' });
    clock += 5 * MIN;
    await hub.tickets.sweepSla(clock);
    expect((await binTicket())?.status).toBe('closed');
  });
});

describe('photo evidence', () => {
  let id = '';
  beforeAll(async () => {
    const d: RuleDecision = {
      kind: 'open', ruleId: 'camera.corridor', siteId: 't1', deviceId: 'cam-1', cellId: 'yard-1', dedupKey: 'camera.corridor:t1:w',
      severity: 'normal', category: 'fire_safety', deviceVerifiable: false, title: { 'zh-CN': '楼道堆物', en: 'clutter' }, description: { 'zh-CN': '', en: '' },
      evidence: { eventKey: 't1/cam-1/w1', ts: new Date(clock).toISOString(), type: 'camera.alert', deviceId: 'cam-1', summary: 'corridor_clutter 0.93' },
    };
    await hub.tickets.applyDecisions([d], clock);
    id = (await hub.db.query<{ id: string }>(`SELECT id FROM tickets WHERE dedup_key = 'camera.corridor:t1:w'`))[0]!.id;
    await call('POST', `/api/tickets/${id}/dispatch`, tok.dispatcher!, {});
    await call('POST', `/api/tickets/${id}/accept`, tok.yard!, {});
  });

  it('a ticket the camera cannot verify needs a photo to be resolved', async () => {
    const r = await call('POST', `/api/tickets/${id}/resolve`, tok.yard!, { note: '已清理' });
    expect(r).toMatchObject({ status: 400, body: { code: 'HUB_ERR_PHOTO_REQUIRED' } });
  });

  it('uploads are sniffed by content: text named .png is 415; a PNG is stored', async () => {
    const bad = await upload(id, tok.yard!, Buffer.from('not an image at all'), 'x.png');
    expect(bad).toMatchObject({ status: 415, body: { code: 'HUB_ERR_BAD_ATTACHMENT' } });
    expect((await upload(id, tok.comm!, PNG)).status).toBe(404); // not their ticket
    const ok = await upload(id, tok.yard!, PNG);
    expect(ok).toMatchObject({ status: 201, body: { mime: 'image/png' } });
    const r = await call('POST', `/api/tickets/${id}/resolve`, tok.yard!, { note: '已清理', photos: [ok.body.id] });
    expect(r.status).toBe(200);
    expect((r.body.ticket as Ticket).resolution).toMatchObject({ verification: 'photo', photos: [ok.body.id] });
    const img = await fetch(`${hub.httpUrl}/api/tickets/${id}/attachments/${ok.body.id}?token=${tok.yard}`);
    expect(img.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await img.arrayBuffer()).equals(PNG)).toBe(true);
    expect((await fetch(`${hub.httpUrl}/api/tickets/${id}/attachments/${ok.body.id}?token=${tok.comm}`)).status).toBe(404);
    expect((await fetch(`${hub.httpUrl}/api/tickets/${id}/attachments/${ok.body.id}`)).status).toBe(401);
    const d = await call('GET', `/api/tickets/${id}`, tok.viewer!);
    expect((d.body.attachments as Array<{ id: string }>).map((a) => a.id)).toEqual([ok.body.id]);
    expect((d.body.audit as Array<{ action: string }>).map((a) => a.action)).toContain('attach');
  });

  it('a photo of another ticket is not proof for this one', async () => {
    const d: RuleDecision = {
      kind: 'open', ruleId: 'camera.corridor', siteId: 't1', deviceId: 'cam-1', cellId: 'yard-1', dedupKey: 'camera.corridor:t1:w2',
      severity: 'normal', category: 'fire_safety', deviceVerifiable: false, title: { 'zh-CN': '楼道堆物', en: 'clutter' }, description: { 'zh-CN': '', en: '' },
      evidence: { eventKey: 't1/cam-1/w2', ts: new Date(clock).toISOString(), type: 'camera.alert', deviceId: 'cam-1', summary: 'corridor_clutter 0.9' },
    };
    await hub.tickets.applyDecisions([d], clock);
    const other = (await hub.db.query<{ id: string }>(`SELECT id FROM tickets WHERE dedup_key = 'camera.corridor:t1:w2'`))[0]!.id;
    await call('POST', `/api/tickets/${other}/dispatch`, tok.dispatcher!, {});
    await call('POST', `/api/tickets/${other}/accept`, tok.yard!, {});
    const att = (await call('GET', `/api/tickets/${id}`, tok.yard!)).body.attachments as Array<{ id: string }>;
    const r = await call('POST', `/api/tickets/${other}/resolve`, tok.yard!, { note: 'x', photos: [att[0]!.id] });
    expect(r).toMatchObject({ status: 404, body: { code: 'HUB_ERR_ATTACHMENT_NOT_FOUND' } });
  });
});
