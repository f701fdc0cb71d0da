import { createHmac } from 'node:crypto';
import pino from 'pino';
import type { Browser, Page, WebSocket as PwSocket } from 'playwright-core';
import type { ComplaintInput, Ticket } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startHub, type HubHandle } from '../src/hub.ts';
import { buildDashboard, DASHBOARD_DIST, launchChromium, login, shot, recordPageErrors, PHONE } from './live-browser.ts';
import { eventually } from './support/test-hub.ts';
import { LiveClient } from './live-support.ts';

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');
/** An HS256 JWT signed with the hub's secret (for a login the site file does not have). */
function signJwt(claims: Record<string, unknown>, secret: string): string {
  const body = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${b64url(createHmac('sha256', secret).update(body).digest())}`;
}

/*
 * The control room's side of the field loop and the worker's live socket, in a real browser:
 * the board attaches a photo from the ticket detail (resolve waits for it, as the hub says),
 * the timeline shows it on board and phone; a ticket dispatched on the board reaches the phone
 * (390×844) over /ws without a reload, and another team's ticket never reaches it.
 */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');
const CLEANER = 'w-c01-y01-cleaning-1';
const SECRET = 'e2e-field-board-secret';
const OPS = { username: 'dispatcher', role: 'dispatcher' as const, sites: null };

let hub: HubHandle;
let browser: Browser;
let board: Page;
let phone: Page;
const errors: string[] = [];
const frames: string[] = [];
const listRequests: string[] = [];

const complaint = async (over: Partial<ComplaintInput>): Promise<Ticket> => (await hub.tickets.openComplaint({
  siteId: 'demo', cellId: 'c01-y01-b01-u1', category: 'sanitation', text: '楼道垃圾', source: 'hotline_12345', ...over,
}, OPS, Date.now())).ticket;
/** Dispatched to the cleaner and accepted (a person took it on): resolvable. */
async function accepted(t: Ticket): Promise<Ticket> {
  await hub.tickets.act(t.id, 'dispatch', { assigneeId: CLEANER }, OPS);
  return hub.tickets.act(t.id, 'accept', {}, OPS);
}
const current = async (id: string): Promise<Ticket> => (await hub.db.query<{ doc: Ticket }>('SELECT doc FROM tickets WHERE id = $1', [id]))[0]!.doc;

async function openOnBoard(id: string): Promise<void> {
  await board.fill('[data-testid=board-search]', id);
  await board.locator(`[data-testid=ticket-row][data-ticket-id="${id}"]`).click();
  await board.waitForSelector(`[data-testid=ticket-detail][data-ticket-id="${id}"] [data-testid=detail-status]`);
}
async function closeOnBoard(): Promise<void> {
  await board.click('[data-testid=detail-close]');
  await board.waitForSelector('[data-testid=ticket-detail]', { state: 'detached' });
}
async function dispatchOnBoard(id: string, to: string): Promise<void> {
  await openOnBoard(id);
  await board.click('[data-testid=action-dispatch]');
  await board.selectOption('[data-testid=action-assignee]', to);
  await board.click('[data-testid=action-submit]');
  await board.waitForSelector('[data-testid=detail-status][data-status=dispatched]');
  await closeOnBoard();
}

beforeAll(async () => {
  buildDashboard();
  const config = loadConfig({}, { httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', authSecret: SECRET });
  hub = await startHub(config, { log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' }), dashboardDir: DASHBOARD_DIST });
  browser = await launchChromium();
  board = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  phone = await browser.newPage(PHONE);
  for (const p of [board, phone]) recordPageErrors(p, errors);
  phone.on('websocket', (ws: PwSocket) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
  phone.on('request', (r) => { if (new URL(r.url()).pathname === '/api/tickets') listRequests.push(r.url()); });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
}, 60_000);

describe('photo evidence from the board', () => {
  let ticket: Ticket;

  it('resolve of a ticket its device cannot verify waits for a photo; the board uploads one and resolves', async () => {
    ticket = await accepted(await complaint({ text: '楼道堆放垃圾，请清理' }));
    expect(ticket.deviceVerifiable).toBe(false);
    await login(board, hub.httpUrl, 'dispatcher', 'dispatch123');
    await openOnBoard(ticket.id);
    await board.click('[data-testid=action-resolve]');
    await board.fill('[data-testid=action-note]', '已清理');
    // The hub says a photo is required (site default): the button waits for one.
    expect(await board.isDisabled('[data-testid=action-submit]')).toBe(true);
    await board.setInputFiles('[data-testid=action-file]', { name: 'stairs.png', mimeType: 'image/png', buffer: PNG });
    await board.waitForSelector('[data-testid=action-uploaded]');
    // The upload is on the timeline at once, with its picture.
    await board.waitForSelector('[data-testid=timeline-photo]');
    expect(await board.isDisabled('[data-testid=action-submit]')).toBe(false);
    await board.click('[data-testid=action-submit]');
    await board.waitForSelector('[data-testid=detail-status][data-status=resolved]');
    const done = await current(ticket.id);
    expect(done.resolution).toMatchObject({ by: 'operator', verification: 'photo', photos: [expect.stringMatching(/^A/)] });
    // The picture is served to the board (access-checked, token in the query).
    const src = await board.getAttribute('[data-testid=timeline-photo]', 'src');
    const img = await board.evaluate(async (u) => { const r = await fetch(u!); return { status: r.status, type: r.headers.get('content-type') }; }, src);
    expect(img).toEqual({ status: 200, type: 'image/png' });
    await shot(board, 'board-photo-resolve');
    await closeOnBoard();
  }, 90_000);

  it('a non-image is refused with the hub\'s message, and nothing is attached', async () => {
    const t = await accepted(await complaint({ text: '第二处垃圾' }));
    await openOnBoard(t.id);
    await board.click('[data-testid=action-resolve]');
    await board.setInputFiles('[data-testid=action-file]', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') });
    await board.waitForSelector('[data-testid=action-message]');
    expect(await board.textContent('[data-testid=action-message]')).toContain('HUB_ERR_BAD_ATTACHMENT');
    expect(await board.locator('[data-testid=timeline-photo]').count()).toBe(0);
    expect(await board.isDisabled('[data-testid=action-submit]')).toBe(true);
    // The browser logs the refused request itself; that one is expected, nothing else.
    expect(errors.splice(0)).toEqual([expect.stringContaining('415')]);
    await closeOnBoard();
  }, 60_000);

  it('the phone shows the same photo in the ticket\'s timeline', async () => {
    await phone.goto(`${hub.httpUrl}/m/`);
    await phone.fill('[data-testid=m-user]', CLEANER);
    await phone.fill('[data-testid=m-pass]', 'worker123');
    await phone.click('[data-testid=m-login]');
    await phone.waitForSelector('[data-testid=m-conn][data-status=live]');
    expect((await current(ticket.id)).assigneeId).toBe(CLEANER);
    await phone.click(`[data-testid=m-ticket][data-id="${ticket.id}"]`);
    await phone.waitForSelector('[data-testid=m-detail][data-status=resolved]');
    await phone.waitForSelector('[data-testid=m-timeline-photo]');
    await phone.click('[data-testid=m-detail] .back');
    await phone.waitForSelector('[data-testid=m-list]');
  }, 60_000);
});

describe('the worker\'s live socket', () => {
  it('a ticket dispatched on the board appears on the phone without a reload or a poll; another team\'s never arrives', async () => {
    await phone.waitForSelector('[data-testid=m-conn][data-status=live]');
    // Opened in another compound: not the cleaner's, so not on the phone yet.
    const mine = await complaint({ cellId: 'c01-y02-b01-u1', text: '二号院垃圾' });
    const security = await complaint({ cellId: 'c01-y01-b01-u1', category: 'security', text: '陌生人徘徊' });
    expect(mine.assigneeId).not.toBe(CLEANER);
    expect(security.team).toBe('security');
    const polls = listRequests.length;
    await dispatchOnBoard(security.id, 'w-c01-y01-security-1');
    await dispatchOnBoard(mine.id, CLEANER);
    const item = phone.locator(`[data-testid=m-ticket][data-id="${mine.id}"]`);
    await item.waitFor({ timeout: 15_000 });
    expect(await item.getAttribute('data-status')).toBe('dispatched');
    // It came over the socket: no list request since, and the frame named it.
    expect(listRequests.length).toBe(polls);
    expect(frames.some((f) => f.includes(mine.id))).toBe(true);
    // The security ticket was published before `mine` and never reached the phone.
    expect(frames.some((f) => f.includes(security.id))).toBe(false);
    expect(await phone.locator(`[data-testid=m-ticket][data-id="${security.id}"]`).count()).toBe(0);
    // Nor do the board's events, presence or KPIs.
    const kinds = new Set(frames.flatMap((f) => { const m = JSON.parse(f) as { kind: string; messages?: { kind: string }[] }; return m.kind === 'batch' ? m.messages!.map((x) => x.kind) : []; }));
    expect([...kinds]).toEqual(['ticket']);
    await eventually(async () => (await phone.evaluate(() => document.documentElement.scrollWidth)) <= 390, 2000);
    expect(errors).toEqual([]);
  }, 90_000);

  it('/ws takes a worker token only for a worker the site file still has', async () => {
    const res = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: CLEANER, password: 'worker123' }) });
    const { token } = await res.json() as { token: string };
    const ws = (tk: string) => `${hub.httpUrl.replace('http', 'ws')}/ws?token=${encodeURIComponent(tk)}`;
    const c = await LiveClient.connect(ws(token));
    await c.waitFor((x) => x.frames.length > 0);
    expect(c.hello().payload).toMatchObject({ username: CLEANER, sites: ['demo'] });
    await c.close();
    // Correctly signed, but no such worker: refused before the upgrade.
    const forged = signJwt({ sub: 'w-nobody', role: 'worker', sites: ['demo'], exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET);
    await expect(LiveClient.connect(ws(forged))).rejects.toMatchObject({ statusCode: 401 });
  });
});
