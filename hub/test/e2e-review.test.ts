import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import type { AuditEntry, Device, Ticket } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDemoSecret } from '@shaobing/schemas/credentials';
import { loadConfig } from '../src/config.ts';
import { startHub, type HubHandle } from '../src/hub.ts';
import { buildDashboard, DASHBOARD_DIST, launchChromium, login, shot, recordPageErrors, PHONE } from './live-browser.ts';
import { eventually } from './support/test-hub.ts';

/*
 * 人工核准 in a real browser, all real parts (issue 9 item 7): a camera publishes an unsure
 * alert over MQTT; the hub keeps its snapshot and holds the ticket in 待核准 — nobody notified,
 * the routed worker's phone does not show it; the dispatcher sees snapshot and confidence on
 * the board and confirms: dispatched, the SLA clock starts, the webhook hears of it, and the
 * worker's phone shows it live. Reassigned to someone else, it leaves that phone live, without
 * a reload (the worker feed's removal frame). A second unsure alert is rejected: dismissed as
 * a false alarm (误报), snapshot kept, the reviewer on the audit trail.
 */
const SEED = 'shaobing-demo';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

let hub: HubHandle;
let browser: Browser;
let board: Page;
let phone: Page;
let cameras: Server;
let receiver: Server;
let camera: Device;
let client: MqttClient;
let snapBase: string;
const hooks: { event: string; ticketId: string }[] = [];
const errors: string[] = [];
const phoneListRequests: number[] = [];

const alert = (kind: string, confidence: number, n: number) => client.publishAsync(`shaobing/v1/demo/camera/${camera.id}/event`, JSON.stringify({
  id: `review-${n}-${Date.now()}`, ts: new Date().toISOString(), type: 'camera.alert', data: { kind, confidence, snapshotUrl: `${snapBase}/snap/${n}.jpg` },
}), { qos: 1 });
const ticketOf = (rule: string) => eventually(async () =>
  (await hub.db.query<{ doc: Ticket }>(`SELECT doc FROM tickets WHERE device_id = $1 AND rule_id = $2`, [camera.id, rule]))[0]?.doc, 15_000);
const current = async (id: string): Promise<Ticket> => (await hub.db.query<{ doc: Ticket }>('SELECT doc FROM tickets WHERE id = $1', [id]))[0]!.doc;
const auditOf = async (id: string): Promise<AuditEntry[]> => ((await fetch(`${hub.httpUrl}/api/tickets/${id}`, {
  headers: { authorization: `Bearer ${await tokenOf('dispatcher', 'dispatch123')}` },
}).then((r) => r.json())) as { audit: AuditEntry[] }).audit;
const tokens = new Map<string, string>();
async function tokenOf(username: string, password: string): Promise<string> {
  let tk = tokens.get(username);
  if (tk === undefined) {
    const r = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    tk = ((await r.json()) as { token: string }).token;
    tokens.set(username, tk);
  }
  return tk;
}
const post = async (path: string, token: string, body: unknown = {}) => {
  const r = await fetch(`${hub.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() as { code?: string } };
};
const card = (id: string) => board.locator(`[data-testid=review-card][data-ticket-id="${id}"]`);

beforeAll(async () => {
  buildDashboard();
  cameras = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => { hooks.push(JSON.parse(body) as { event: string; ticketId: string }); res.writeHead(204).end(); });
  });
  for (const s of [cameras, receiver]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  snapBase = `http://127.0.0.1:${(cameras.address() as AddressInfo).port}`;
  const config = loadConfig({}, {
    httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', ingestBatchDelayMs: 5,
    snapshotAllow: ['127.0.0.1'], notifyWebhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, notifyWebhookSecret: 'review-secret', notifyPollMs: 100,
  });
  hub = await startHub(config, { log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' }), dashboardDir: DASHBOARD_DIST });
  camera = hub.registry.file.sites[0]!.devices.find((d) => d.family === 'camera' && d.secretHash)!;
  const username = `demo/${camera.id}`;
  client = await mqtt.connectAsync(hub.mqttUrl!, { username, clientId: username, password: deriveDemoSecret(SEED, username), reconnectPeriod: 0 });
  browser = await launchChromium();
  board = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  phone = await browser.newPage(PHONE);
  for (const p of [board, phone]) recordPageErrors(p, errors);
  phone.on('request', (r) => { if (new URL(r.url()).pathname === '/api/tickets') phoneListRequests.push(Date.now()); });
}, 180_000);

afterAll(async () => {
  client?.end(true);
  await browser?.close();
  await hub?.stop();
  for (const s of [cameras, receiver]) await new Promise((r) => s?.close(r));
}, 60_000);

describe('人工核准 on the board', () => {
  let ticket: Ticket;

  it('an unsure alert waits in 待核准 with its kept snapshot and confidence; nobody is told, the routed worker does not see it', async () => {
    await alert('ebike_in_elevator', 0.7, 1);
    ticket = await ticketOf('camera.ebike_in_elevator');
    expect(ticket).toMatchObject({ status: 'pending_review', review: { confidence: 0.7, below: 0.8 }, dispatchedAt: null });
    const worker = ticket.assigneeId!;
    expect(worker).toBeTruthy();

    await login(board, hub.httpUrl, 'dispatcher', 'dispatch123');
    await board.click('[data-testid=board-filter-review]');
    await card(ticket.id).waitFor();
    expect(await card(ticket.id).locator('[data-testid=review-confidence]').textContent()).toContain('70%');
    // The hub's own copy of the snapshot (the camera may overwrite it), served to the board.
    const img = card(ticket.id).locator('[data-testid=review-snapshot][data-kept=true]');
    await img.waitFor({ timeout: 15_000 });
    await eventually(async () => (await img.evaluate((el) => (el as HTMLImageElement).naturalWidth)) > 0, 10_000);
    await shot(board, 'board-review-queue');

    // Notifications only after confirmation: no outbox row at all for it.
    expect(await hub.db.query('SELECT 1 FROM notify_outbox WHERE ticket_id = $1', [ticket.id])).toHaveLength(0);
    // The worker routing would give it to: not on their list, not readable, cannot review it.
    const wt = await tokenOf(worker, 'worker123');
    const mine = await fetch(`${hub.httpUrl}/api/tickets`, { headers: { authorization: `Bearer ${wt}` } }).then((r) => r.json()) as { items: Ticket[] };
    expect(mine.items.map((x) => x.id)).not.toContain(ticket.id);
    expect((await fetch(`${hub.httpUrl}/api/tickets/${ticket.id}`, { headers: { authorization: `Bearer ${wt}` } })).status).toBe(404);
    expect((await post(`/api/tickets/${ticket.id}/confirm-review`, wt)).status).toBe(403);
    // Nothing but the review moves it.
    expect((await post(`/api/tickets/${ticket.id}/dispatch`, await tokenOf('dispatcher', 'dispatch123'), { assigneeId: worker })).body.code).toBe('HUB_ERR_AWAITING_REVIEW');
  }, 120_000);

  it('confirm dispatches it to the worker: SLA clock from the confirmation, the webhook hears of it, the phone shows it live', async () => {
    const worker = ticket.assigneeId!;
    await phone.goto(`${hub.httpUrl}/m/`);
    await phone.fill('[data-testid=m-user]', worker);
    await phone.fill('[data-testid=m-pass]', 'worker123');
    await phone.click('[data-testid=m-login]');
    await phone.waitForSelector('[data-testid=m-conn][data-status=live]');
    expect(await phone.locator(`[data-testid=m-ticket][data-id="${ticket.id}"]`).count()).toBe(0);

    await card(ticket.id).locator('[data-testid=review-confirm]').click();
    await card(ticket.id).waitFor({ state: 'detached' });
    const done = await current(ticket.id);
    expect(done).toMatchObject({ status: 'dispatched', assigneeId: worker, review: { verdict: 'confirmed', by: 'dispatcher' } });
    expect(Date.parse(done.slaStartedAt)).toBeGreaterThan(Date.parse(done.openedAt));
    expect(done.dispatchedAt).toBe(done.slaStartedAt);
    expect(await auditOf(ticket.id)).toContainEqual(expect.objectContaining({ actor: 'dispatcher', action: 'confirm_review', from: 'pending_review', to: 'dispatched' }));
    await eventually(async () => hooks.some((h) => h.ticketId === ticket.id && h.event === 'dispatched'), 15_000);
    await phone.waitForSelector(`[data-testid=m-ticket][data-id="${ticket.id}"][data-status=dispatched]`, { timeout: 15_000 });
    await shot(phone, 'phone-review-confirmed');
  }, 90_000);

  it('reassigned to another worker, it leaves the first one\'s phone live, without a reload', async () => {
    const site = hub.registry.file.sites[0]!;
    const other = site.workers.find((w) => w.id !== ticket.assigneeId && w.teams.includes(ticket.team))!;
    const since = Date.now();
    await hub.tickets.act(ticket.id, 'dispatch', { assigneeId: other.id }, { username: 'dispatcher', role: 'dispatcher', sites: null });
    await phone.waitForSelector(`[data-testid=m-ticket][data-id="${ticket.id}"]`, { state: 'detached', timeout: 15_000 });
    expect(phoneListRequests.filter((at) => at >= since)).toEqual([]);
    expect(await phone.getAttribute('[data-testid=m-conn]', 'data-status')).toBe('live');
  }, 60_000);

  it('reject dismisses another unsure alert as a false alarm (误报): snapshot kept, the reviewer audited, nobody notified', async () => {
    await alert('corridor_clutter', 0.65, 2);
    const t = await ticketOf('camera.corridor_clutter');
    expect(t.status).toBe('pending_review');
    await card(t.id).waitFor({ timeout: 15_000 });
    await card(t.id).locator('[data-testid=review-snapshot][data-kept=true]').waitFor({ timeout: 15_000 });
    await card(t.id).locator('[data-testid=review-reject]').click();
    await card(t.id).waitFor({ state: 'detached' });
    const done = await current(t.id);
    expect(done).toMatchObject({
      status: 'dismissed', review: { verdict: 'rejected', by: 'dispatcher' },
      dismissal: { reasonCategory: 'false_alarm', requestedBy: 'dispatcher', approvedBy: 'dispatcher' },
    });
    expect(await auditOf(t.id)).toContainEqual(expect.objectContaining({ actor: 'dispatcher', action: 'reject_review', from: 'pending_review', to: 'dismissed', reason: expect.objectContaining({ code: 'review_rejected' }) }));
    expect(await hub.db.query(`SELECT 1 FROM ticket_attachments WHERE ticket_id = $1 AND source = 'camera'`, [t.id])).toHaveLength(1);
    expect(await hub.db.query('SELECT 1 FROM notify_outbox WHERE ticket_id = $1', [t.id])).toHaveLength(0);
    // The board lists it with the finished ones, as 剔除.
    await board.click('[data-testid=board-filter-done]');
    await board.waitForSelector(`[data-testid=ticket-row][data-ticket-id="${t.id}"][data-status=dismissed]`);
    // Its detail says why it waited and who called it a false alarm; the timeline has the row.
    await board.click(`[data-testid=ticket-row][data-ticket-id="${t.id}"]`);
    const review = await board.waitForSelector('[data-testid=detail-review]');
    expect(await review.textContent()).toMatch(/置信度 65%（门槛 80%） · 误报 · dispatcher/);
    expect(await board.locator('[data-testid=audit-note]', { hasText: '人工核准：误报' }).count()).toBe(1);
    expect(errors).toEqual([]);
  }, 90_000);
});
