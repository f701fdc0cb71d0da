import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import type { Category } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startHub, type HubHandle } from '../src/hub.ts';
import { buildDashboard, DASHBOARD_DIST, launchChromium, login, shot, recordPageErrors } from './live-browser.ts';

/*
 * 每月一题 and the seasonal warning in a real browser, on seeded history of the demo site: last
 * year's summer at a charging shed (1 ticket in the 4 weeks before today's date, 5 in the 4
 * after) warns on the overview with its reason; this month's repeated bin tickets rank as a
 * candidate a supervisor adopts (a dispatcher cannot).
 */
let hub: HubHandle;
let browser: Browser;
let page: Page;
const errors: string[] = [];
const DAY = 24 * 3600_000;
let charger = { id: '', cellId: '' };
let bin = { id: '', cellId: '' };

beforeAll(async () => {
  buildDashboard();
  const config = loadConfig({}, { httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn' });
  hub = await startHub(config, { log: pino({ level: 'warn' }), dashboardDir: DASHBOARD_DIST });
  const site = hub.registry.file.sites[0]!;
  charger = site.devices.find((d) => d.family === 'charger')!;
  bin = site.devices.find((d) => d.family === 'bin')!;
  const seed = (key: string, at: number, category: Category, cellId: string, deviceId: string) => hub.tickets.applyDecisions([{
    kind: 'open', ruleId: category === 'fire_safety' ? 'charger.overheat' : 'bin.full', siteId: site.id, cellId, deviceId, dedupKey: key, severity: 'normal', category,
    deviceVerifiable: false, title: { 'zh-CN': key, en: key }, description: { 'zh-CN': '', en: '' },
    evidence: { eventKey: `ev-${key}`, ts: new Date(at).toISOString(), type: 'x', summary: key },
  }], at);
  const now = Date.now();
  await seed('season-0', now - 364 * DAY - 10 * DAY, 'fire_safety', charger.cellId, charger.id);
  for (const d of [1, 5, 9, 14, 20]) await seed(`season-${d}`, now - 364 * DAY + d * DAY, 'fire_safety', charger.cellId, charger.id);
  for (const i of [1, 2, 3]) await seed(`month-${i}`, now - i * 60_000, 'sanitation', bin.cellId, bin.id);
  browser = await launchChromium();
  page = recordPageErrors(await browser.newPage({ viewport: { width: 1600, height: 1000 } }), errors, (t) => t.includes('403'));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
}, 60_000);

describe('每月一题 and seasonal warnings in a real browser', () => {
  it('the overview warns ahead of the season with the reason', async () => {
    await login(page, hub.httpUrl, 'supervisor', 'super123');
    const w = page.locator(`[data-testid=seasonal-warning][data-category=fire_safety]`);
    await w.first().waitFor();
    expect(await w.first().textContent()).toMatch(/消防安全 · .+消防安全类工单往年同期 ×5\.0（5 件，对比此前 1 件）/);
    await shot(page, 'e2e-insights-warning');
  }, 60_000);

  it('a supervisor adopts a candidate as the month\'s problem; it is tracked', async () => {
    await page.click('[data-testid=nav-insights]');
    const row = page.locator(`[data-testid=problem-candidate][data-category=sanitation]`).first();
    await row.waitFor();
    expect(await row.textContent()).toContain(bin.id); // the hotspot: the bin behind the repeats
    const place = await row.getAttribute('data-place');
    await page.fill('[data-testid=adopt-note]', '垃圾桶加密清运');
    await row.locator('[data-testid=adopt]').click();
    const adopted = page.locator(`[data-testid=adopted-problem][data-category=sanitation][data-place="${place}"]`);
    await adopted.waitFor();
    expect(await adopted.textContent()).toContain('次月数据待出');
    expect(await adopted.textContent()).toContain('垃圾桶加密清运');
    const rows = await hub.db.query<{ category: string; place_id: string; adopted_by: string }>('SELECT category, place_id, adopted_by FROM monthly_problems');
    expect(rows).toEqual([{ category: 'sanitation', place_id: place, adopted_by: 'supervisor' }]);
    await shot(page, 'e2e-insights-adopted');
  }, 60_000);

  it('a dispatcher sees the candidates but cannot adopt', async () => {
    await page.click('[data-testid=logout]');
    await login(page, hub.httpUrl, 'dispatcher', 'dispatch123');
    await page.click('[data-testid=nav-insights]');
    await page.locator('[data-testid=problem-candidate]').first().waitFor();
    expect(await page.locator('[data-testid=adopt]').count()).toBe(0);
    expect(errors).toEqual([]);
  }, 60_000);
});
