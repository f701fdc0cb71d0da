import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import type { Device, Ticket } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDemoSecret } from '@shaobing/schemas/credentials';
import { loadConfig } from '../src/config.ts';
import { startHub, type HubHandle } from '../src/hub.ts';
import { buildDashboard, DASHBOARD_DIST, launchChromium, login, ROOT, shot, recordPageErrors, PHONE } from './live-browser.ts';
import { eventually } from './support/test-hub.ts';

/*
 * The field loop end to end, all real (DESIGN §6): a bin overflows over MQTT, the dispatcher
 * dispatches it on the board, the local webhook receives the signed notification, the grid
 * worker opens the phone page at 390×844, accepts, arrives, uploads a photo and resolves,
 * and the bin's next reading confirms it: closed, device-verified.
 */
const SEED = 'shaobing-demo';
const FOR_MS = 1000;
const SECRET = 'field-loop-secret';
// A real 2×2 PNG, so the phone shows the picture.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

let hub: HubHandle;
let browser: Browser;
let board: Page;
let phone: Page;
let receiver: Server;
let rulesDir: string;
let bin: Device;
let client: MqttClient;
let ticket: Ticket;
const hooks: { body: string; signature: string | undefined }[] = [];
const errors: string[] = [];

const publish = (fillPct: number) => client.publishAsync(`shaobing/v1/demo/bin/${bin.id}/telemetry`,
  JSON.stringify({ id: `field-${Date.now()}-${Math.random()}`, ts: new Date().toISOString(), type: 'bin.telemetry', data: { fillPct } }), { qos: 1 });
const current = async (): Promise<Ticket> => (await hub.db.query<{ doc: Ticket }>('SELECT doc FROM tickets WHERE id = $1', [ticket.id]))[0]!.doc;

beforeAll(async () => {
  buildDashboard();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => { hooks.push({ body, signature: req.headers['x-shaobing-signature'] as string | undefined }); res.writeHead(204).end(); });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  rulesDir = await mkdtemp(join(tmpdir(), 'shaobing-field-'));
  const rulesFile = join(rulesDir, 'rules.json');
  await writeFile(rulesFile, JSON.stringify({ version: 1, rules: [{ id: 'bin.full', forMs: FOR_MS }] }));
  const config = loadConfig({}, {
    httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: 'memory://', rulesFile, logLevel: 'warn', ingestBatchDelayMs: 5,
    notifyWebhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, notifyWebhookSecret: SECRET, notifyPollMs: 100,
  });
  hub = await startHub(config, { log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' }), dashboardDir: DASHBOARD_DIST });
  bin = hub.registry.file.sites[0]!.devices.find((d) => d.family === 'bin' && d.secretHash)!;
  const username = `demo/${bin.id}`;
  client = await mqtt.connectAsync(hub.mqttUrl!, { username, clientId: username, password: deriveDemoSecret(SEED, username), reconnectPeriod: 0 });
  browser = await launchChromium();
  board = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  phone = await browser.newPage(PHONE);
  for (const p of [board, phone]) recordPageErrors(p, errors);
}, 180_000);

afterAll(async () => {
  client?.end(true);
  await browser?.close();
  await hub?.stop();
  await new Promise((r) => receiver?.close(r));
  if (rulesDir) await rm(rulesDir, { recursive: true, force: true });
}, 60_000);

describe('the field loop on a phone', () => {
  it('the bin overflows; the dispatcher dispatches it on the board; the webhook hears of it, signed', async () => {
    await login(board, hub.httpUrl, 'dispatcher', 'dispatch123');
    await board.fill('[data-testid=board-search]', bin.id);
    await publish(85);
    const row = board.locator(`[data-testid=ticket-row][data-device-id="${bin.id}"][data-rule-id="bin.full"]`);
    await row.first().waitFor({ timeout: FOR_MS + 1500 }).catch(async () => { await publish(90); await row.first().waitFor({ timeout: 15_000 }); });
    const id = await row.first().getAttribute('data-ticket-id');
    ticket = (await hub.db.query<{ doc: Ticket }>('SELECT doc FROM tickets WHERE id = $1', [id]))[0]!.doc;
    expect(ticket.assigneeId).toBeDefined();
    await row.first().click();
    await board.click('[data-testid=action-dispatch]');
    await board.click('[data-testid=action-submit]');
    await board.waitForSelector('[data-testid=detail-status][data-status=dispatched]');
    const hook = await eventually(async () => hooks.find((h) => JSON.parse(h.body).ticketId === ticket.id && JSON.parse(h.body).event === 'dispatched'), 10_000);
    expect(hook.signature).toBe(createHmac('sha256', SECRET).update(hook.body).digest('hex'));
  }, 60_000);

  it('the worker logs in on the phone page and sees the ticket with the time left', async () => {
    await phone.goto(`${hub.httpUrl}/m/`);
    await phone.fill('[data-testid=m-user]', ticket.assigneeId!);
    await phone.fill('[data-testid=m-pass]', 'worker123');
    await phone.click('[data-testid=m-login]');
    const item = phone.locator(`[data-testid=m-ticket][data-id="${ticket.id}"]`);
    await item.waitFor();
    expect(await item.textContent()).toMatch(/剩 \d/);
    // One-handed at 390 px: nothing wider than the screen.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await mkdir(`${ROOT}dashboard/docs`, { recursive: true });
    await phone.screenshot({ path: `${ROOT}dashboard/docs/phone-my-tickets.png` });
    await item.click();
    await phone.waitForSelector('[data-testid=m-detail][data-status=dispatched]');
    expect(await phone.textContent('[data-testid=m-location]')).toBe(ticket.locationLabel);
    await phone.waitForSelector('[data-testid=m-reading]');
    expect(await phone.textContent('[data-testid=m-reading]')).toMatch(/满溢度 (85|90)/);
  }, 60_000);

  it('accepts, arrives, uploads a photo and resolves: awaiting the bin; the bin reports 12 % → closed', async () => {
    await phone.click('[data-testid=m-accept]');
    await phone.waitForSelector('[data-testid=m-detail][data-status=accepted]');
    await phone.click('[data-testid=m-arrive]');
    await phone.waitForSelector('[data-testid=m-arrived]');
    await phone.click('[data-testid=m-resolve]');
    await phone.fill('[data-testid=m-note]', '已清运');
    await phone.setInputFiles('[data-testid=m-file]', { name: 'bin.png', mimeType: 'image/png', buffer: PNG });
    await phone.waitForSelector('[data-testid=m-uploaded]');
    await phone.waitForSelector('[data-testid=m-photo]');
    await phone.screenshot({ path: `${ROOT}dashboard/docs/phone-ticket.png`, fullPage: true });
    await phone.click('[data-testid=m-submit]');
    await phone.waitForSelector('[data-testid=m-detail][data-status=resolved]');
    const resolved = await current();
    expect(resolved.resolution).toMatchObject({ awaitingDevice: true, photos: [expect.any(String)] });
    expect(resolved.arrivedAt).not.toBeNull();
    await publish(12);
    await eventually(async () => (await current()).status === 'closed', 10_000);
    expect((await current()).resolution).toMatchObject({ verification: 'device', awaitingDevice: false });
    await phone.waitForSelector('[data-testid=m-detail][data-status=closed]', { timeout: 10_000 });
    await shot(phone, 'field-loop-closed');
    // The board's open detail followed live: closed, with the worker's photo and the notification's delivery.
    await board.waitForSelector('[data-testid=detail-status][data-status=closed]', { timeout: 10_000 });
    await board.waitForSelector('[data-testid=detail-photo]');
    expect(await board.textContent('[data-testid=detail-deliveries]')).toContain('已送达'); // deliveryStatus.sent in zh-CN
    expect(errors).toEqual([]);
  }, 60_000);
});
