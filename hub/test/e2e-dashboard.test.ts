import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import type { Device, KpiSnapshot, Ticket, TicketDetail } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDemoSecret } from '@shaobing/schemas/credentials';
import { loadConfig } from '../src/config.ts';
import { startHub, type HubHandle } from '../src/hub.ts';
import { buildDashboard, dash, DASHBOARD_DIST, launchChromium, login, measureFrames, shot, recordPageErrors } from './live-browser.ts';

/*
 * The control-room dashboard end to end, all real: the hub on port 0 with the bundled demo
 * site, the built Svelte app served by it, Debian's chromium driven by playwright-core, and a
 * simulated bin publishing over MQTT. Screenshots go to test-artifacts/.
 */

const SEED = 'shaobing-demo';
const PASSWORDS = { admin: 'admin123', supervisor: 'super123', dispatcher: 'dispatch123', viewer: 'viewer123' } as const;
const FOR_MS = 1000; // bin.full's 2-minute duration, shortened by the RULES_FILE below

let hub: HubHandle;
let browser: Browser;
let page: Page;
let token: string;
let rulesDir: string;
let siteId: string;
let bin: Device;
let ticket: Ticket;
let streamFrom: string;
const clients: MqttClient[] = [];
const consoleErrors: string[] = [];
const figures: Record<string, unknown> = {};

async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${hub.httpUrl}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function device(d: Device): Promise<MqttClient> {
  const username = `${siteId}/${d.id}`;
  const c = await mqtt.connectAsync(hub.mqttUrl!, { username, password: deriveDemoSecret(SEED, username), clientId: username, reconnectPeriod: 0, connectTimeout: 5000 });
  clients.push(c);
  return c;
}

let msgN = 0;
function publish(c: MqttClient, d: Device, channel: string, type: string, data: Record<string, unknown>, qos: 0 | 1 = 1): Promise<string> {
  const id = `e2e-${Date.now()}-${++msgN}`;
  const topic = `shaobing/v1/${siteId}/${d.family}/${d.id}/${channel}`;
  return c.publishAsync(topic, JSON.stringify({ id, ts: new Date().toISOString(), type, data }), { qos }).then(() => id);
}

/** Fails with one clear list of what the hub doesn't serve yet, instead of a timeout later. */
async function requireEndpoints(): Promise<void> {
  const probes: [string, string][] = [
    ['GET /api/tickets', '/api/tickets?limit=1'],
    ['GET /api/kpi', `/api/kpi?siteId=${siteId}`],
    ['GET /api/grid', `/api/grid?siteId=${siteId}`],
    ['GET /api/stats/events', `/api/stats/events?siteId=${siteId}`],
    ['GET /api/readings', `/api/readings?siteId=${siteId}&deviceId=${bin.id}&metric=fill_pct`],
  ];
  const missing: string[] = [];
  for (const [name, path] of probes) {
    const r = await api('GET', path);
    if (r.status === 404 || r.status >= 500) missing.push(`${name} → ${r.status}`);
  }
  const ws = await fetch(`${hub.httpUrl}/ws`);
  if (ws.status === 404) missing.push('GET /ws (livePlugin) → 404');
  if (missing.length) throw new Error(`e2e-dashboard waits for these hub pieces (registered in startHub): ${missing.join('; ')}`);
}

beforeAll(async () => {
  buildDashboard();
  rulesDir = await mkdtemp(join(tmpdir(), 'shaobing-e2e-'));
  const rulesFile = join(rulesDir, 'rules.json');
  await writeFile(rulesFile, JSON.stringify({ version: 1, rules: [{ id: 'bin.full', forMs: FOR_MS }] }));
  const config = loadConfig({}, {
    httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: 'memory://', rulesFile, logLevel: 'warn', ingestBatchDelayMs: 5,
  });
  hub = await startHub(config, { log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' }), dashboardDir: DASHBOARD_DIST });
  const site = hub.registry.file.sites[0]!;
  siteId = site.id;
  bin = site.devices.find((d) => d.family === 'bin' && d.secretHash)!;
  const res = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORDS.admin }) });
  token = ((await res.json()) as { token: string }).token;
  await requireEndpoints();
  browser = await launchChromium();
  page = recordPageErrors(await browser.newPage({ viewport: { width: 1600, height: 900 } }), consoleErrors);
}, 180_000);

afterAll(async () => {
  console.log('e2e-dashboard figures:', JSON.stringify(figures));
  for (const c of clients) c.end(true);
  await browser?.close();
  await hub?.stop();
  if (rulesDir) await rm(rulesDir, { recursive: true, force: true });
}, 60_000);

describe('control-room dashboard in a real browser', () => {
  it('shows a proactive ticket from a bin crossing the fill threshold, live, without a reload', async () => {
    await login(page, hub.httpUrl, 'dispatcher', PASSWORDS.dispatcher);
    streamFrom = new Date().toISOString();
    await page.evaluate(() => { (window as unknown as { e2eMarker: boolean }).e2eMarker = true; });
    await shot(page, 'e2e-01-board');

    // The board is virtualised and sorted by urgency (the demo hub starts with offline tickets
    // for every silent device): search for the bin so its row is rendered when it comes.
    await page.fill('[data-testid=board-search]', bin.id);
    const c = await device(bin);
    const row = page.locator(`[data-testid=ticket-row][data-device-id="${bin.id}"][data-rule-id="bin.full"]`);
    await publish(c, bin, 'telemetry', 'bin.telemetry', { fillPct: 85 });
    const due = Date.now() + FOR_MS; // the rule's clock tick may open it from here on
    await row.first().waitFor({ timeout: FOR_MS + 1500 }).catch(async () => {
      await publish(c, bin, 'telemetry', 'bin.telemetry', { fillPct: 90 }); // still full: a later reading
      await row.first().waitFor({ timeout: 15_000 });
    });
    figures.durationRuleDueToScreenMs = Date.now() - due;

    expect(await page.evaluate(() => (window as unknown as { e2eMarker?: boolean }).e2eMarker)).toBe(true); // same page: no reload
    const open = await api<{ items: Ticket[] }>('GET', `/api/tickets?siteId=${siteId}&status=open&limit=500`);
    ticket = open.body.items.find((x) => x.deviceId === bin.id && x.ruleId === 'bin.full')!;
    expect(ticket).toMatchObject({ ruleId: 'bin.full', status: 'open', category: 'sanitation' });
    expect(await row.first().getAttribute('data-ticket-id')).toBe(ticket.id);
    await shot(page, 'e2e-02-ticket-live');
  }, 60_000);

  it('a critical fire risk raises the banner, the alarm sound and the title count; publish → screen', async () => {
    const hot = hub.registry.file.sites[0]!.devices.filter((d) => d.family === 'bin' && d.secretHash)[1]!;
    const c = await device(hot);
    await page.fill('[data-testid=board-search]', hot.id);
    const beeps = await dash.beeps(page);
    const t0 = Date.now();
    await publish(c, hot, 'telemetry', 'bin.telemetry', { fillPct: 40, temperatureC: 72 });
    await page.locator(`[data-testid=ticket-row][data-device-id="${hot.id}"][data-rule-id="bin.hot"]`).waitFor({ timeout: 10_000 });
    figures.publishToScreenMs = Date.now() - t0;
    await page.waitForSelector('[data-testid=alarm-banner]');
    expect(await page.title()).toMatch(/紧急/);
    await page.waitForFunction((n) => (window as unknown as { __shaobing: { beeps(): number } }).__shaobing.beeps() > n, beeps);
    await shot(page, 'e2e-03-critical-alarm');
    await page.click('[data-testid=mute-toggle]');
    expect(await page.evaluate(() => localStorage.getItem('shaobing.muted'))).toBe('1');
    await page.click('[data-testid=alarm-ack]');
    await page.click('[data-testid=mute-toggle]');
    await page.fill('[data-testid=board-search]', bin.id);
  }, 60_000);

  it('dispatches, accepts and resolves it from the UI; the API agrees', async () => {
    // The KPI header follows the live stream: no GET of its own while tickets change.
    const kpiGets: string[] = [];
    const detailGets: string[] = [];
    const onRequest = (r: { url(): string }) => {
      const path = new URL(r.url()).pathname;
      if (path === '/api/kpi') kpiGets.push(r.url());
      if (path === `/api/tickets/${ticket.id}`) detailGets.push(r.url());
    };
    page.on('request', onRequest);
    const responseTile = () => page.textContent('[data-testid=kpi-response] .sub');
    const responseBefore = await responseTile();
    await page.click(`[data-testid=ticket-row][data-ticket-id="${ticket.id}"]`);
    await page.waitForSelector('[data-testid=detail-status][data-status=open]');
    await page.waitForSelector('[data-testid=readings-chart] canvas'); // the bin's fill readings around the event
    await shot(page, 'e2e-04-detail');
    const step = async (action: string, expected: string, note?: string) => {
      await page.click(`[data-testid=action-${action}]`);
      if (note) await page.fill('[data-testid=action-note]', note);
      await page.click('[data-testid=action-submit]');
      await page.waitForSelector(`[data-testid=detail-status][data-status=${expected}]`, { timeout: 10_000 });
    };
    await step('dispatch', 'dispatched');
    await step('accept', 'accepted');
    await step('resolve', 'resolved', '已清运 / emptied by the cleaner');
    // Each reply carries the timeline: it shows the three steps without reloading the ticket.
    await page.locator('[data-testid=audit-note]', { hasText: '已清运 / emptied by the cleaner' }).waitFor();
    expect(await page.locator('[data-testid=audit-entry]').count()).toBe(4); // opened + the three steps
    expect(detailGets).toHaveLength(1); // the one load when the drawer opened
    await shot(page, 'e2e-05-resolved');

    const d = await api<TicketDetail>('GET', `/api/tickets/${ticket.id}`);
    expect(d.body.ticket.status).toBe('resolved');
    expect(d.body.ticket.assigneeId).toBeTruthy();
    const steps = d.body.audit.filter((a) => a.actor === 'dispatcher').map((a) => [a.action.replaceAll('-', '_'), a.to]);
    expect(steps).toEqual([['dispatch', 'dispatched'], ['accept', 'accepted'], ['resolve', 'resolved']]);
    // Dispatching answered the ticket: the 响应率 tile moves to what the API says, by push.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const k = (await api<KpiSnapshot>('GET', `/api/kpi?siteId=${siteId}`)).body.responseRate;
      const shown = await responseTile();
      if (shown === `${k.numerator}/${k.denominator}`) break;
      if (Date.now() > deadline) throw new Error(`KPI header shows ${shown}, the API ${k.numerator}/${k.denominator}`);
      await page.waitForTimeout(100);
    }
    expect(await responseTile()).not.toBe(responseBefore);
    page.off('request', onRequest);
    expect(kpiGets).toEqual([]);
    await page.click('[data-testid=detail-close]');
    // Resolved leaves the "active" board.
    await page.locator(`[data-testid=ticket-row][data-ticket-id="${ticket.id}"]`).waitFor({ state: 'detached' });
    await page.fill('[data-testid=board-search]', '');
  }, 60_000);

  it('shows a viewer the ticket without any action', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const p = await ctx.newPage();
    await login(p, hub.httpUrl, 'viewer', PASSWORDS.viewer);
    await p.click('[data-testid=board-filter-done]');
    await p.fill('[data-testid=board-search]', ticket.id);
    await p.click(`[data-testid=ticket-row][data-ticket-id="${ticket.id}"]`);
    await p.waitForSelector('[data-testid=detail-status][data-status=resolved]');
    expect(await p.locator('[data-testid=ticket-detail] .actions button').count()).toBe(0);
    await ctx.close();
  }, 60_000);

  it('switches language: every view in English, and back', async () => {
    await page.click('[data-testid=lang-switch]');
    expect(await page.textContent('[data-testid=nav-overview]')).toBe('Overview');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await shot(page, 'e2e-06-english');
    await page.click('[data-testid=nav-devices]');
    await page.waitForSelector('[data-testid=grid-node][data-level=street]');
    await shot(page, 'e2e-07-devices');
    await page.click('[data-testid=nav-charts]');
    await page.waitForSelector('[data-testid=chart-events]');
    await shot(page, 'e2e-08-charts');
    await page.click('[data-testid=lang-switch]');
    expect(await page.textContent('[data-testid=nav-overview]')).toBe('总览');
    await page.click('[data-testid=nav-overview]');
  }, 60_000);

  it('drops and restores the WebSocket without missing or repeating an event', async () => {
    const before = await dash.liveStats(page);
    await dash.dropLive(page);
    await page.waitForSelector('[data-testid=conn-status][data-state=offline]');
    const doors = hub.registry.file.sites[0]!.devices.filter((d) => d.family === 'door' && d.secretHash).slice(0, 3);
    const expected: string[] = [];
    for (const d of doors) {
      const c = await device(d);
      for (let i = 0; i < 10; i++) expected.push(`${siteId}/${d.id}/${await publish(c, d, 'telemetry', 'door.heartbeat', { batteryPct: 90 - i })}`);
    }
    // QoS 1: each publish resolved after its batch committed, so all 30 are already on the bus.
    await dash.restoreLive(page);
    await page.waitForSelector('[data-testid=conn-status][data-state=live]');
    await page.waitForFunction((keys) => {
      const seen = new Set((window as unknown as { __shaobing: { seenEvents(): string[] } }).__shaobing.seenEvents());
      return keys.every((k) => seen.has(k));
    }, expected, { timeout: 10_000 });
    const after = await dash.liveStats(page);
    expect(after).toMatchObject({ epoch: before!.epoch, resets: before!.resets, gaps: 0, duplicates: 0 });
    expect(after!.lastSeq!).toBeGreaterThan(before!.lastSeq!);

    // Everything the hub stored since the page connected reached the page exactly once.
    const stored = await api<{ items: { siteId: string; deviceId: string; msgId: string }[] }>('GET', `/api/events?siteId=${siteId}&from=${encodeURIComponent(streamFrom)}&limit=1000`);
    const seen = new Set(await dash.seenEvents(page));
    expect(stored.body.items.length).toBeGreaterThanOrEqual(expected.length + 2);
    expect(stored.body.items.map((e) => `${e.siteId}/${e.deviceId}/${e.msgId}`).filter((k) => !seen.has(k))).toEqual([]);
  }, 60_000);

  it('stays responsive with 1,000 open tickets and 200 events/s', async () => {
    const units = hub.registry.grid(siteId).filter((c) => c.level === 'unit');
    const categories = ['sanitation', 'security', 'order', 'care', 'equipment'] as const;
    const t0 = Date.now();
    for (let i = 0; i < 1000; i += 20) {
      const batch = Array.from({ length: 20 }, (_, j) => api('POST', '/api/complaints', {
        siteId, cellId: units[(i + j) % units.length]!.id, category: categories[(i + j) % categories.length], text: `e2e load complaint ${i + j}`, source: 'hotline_12345',
      }));
      const results = await Promise.all(batch);
      const bad = results.find((r) => r.status >= 300);
      if (bad) throw new Error(`POST /api/complaints → ${bad.status} ${JSON.stringify(bad.body)} (needed to put 1,000 open tickets on the board)`);
    }
    figures.complaintsCreateMs = Date.now() - t0;
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=board-count]')?.textContent?.replace(/\D/g, '')) >= 1000, undefined, { timeout: 30_000 });

    // 10 bins × 20 msg/s (under the per-client MQTT rate limit), for 6 s, while measuring frames.
    const bins = hub.registry.file.sites[0]!.devices.filter((d) => d.family === 'bin' && d.secretHash && d.id !== bin.id).slice(0, 10);
    const conns = await Promise.all(bins.map((d) => device(d)));
    let sent = 0;
    const load = setInterval(() => {
      conns.forEach((c, i) => { for (let k = 0; k < 2; k++) { void publish(c, bins[i]!, 'telemetry', 'bin.telemetry', { fillPct: 20 + ((sent++) % 40) }, 0); } });
    }, 100);
    await new Promise((r) => setTimeout(r, 1000));
    const frames = await measureFrames(page, 5000);
    clearInterval(load);
    figures.frames = frames;
    figures.loadMessagesSent = sent;
    figures.ticketRowsInDom = await page.locator('[data-testid=ticket-row]').count();
    await shot(page, 'e2e-09-load');
    expect(figures.ticketRowsInDom).toBeLessThan(60); // virtualised
    expect(frames.p95).toBeLessThan(50);
    expect(consoleErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  }, 180_000);
});
