import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import type { Category } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { periodOf } from '../src/kpi/periods.ts';
import { buildDashboard, launchChromium, login, shot, recordPageErrors } from './live-browser.ts';
import { seedDeviceTicket, startDemoHub } from './support/demo-hub.ts';

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
let bin = { id: '', cellId: '', location: { label: '' } };

beforeAll(async () => {
  buildDashboard();
  hub = await startDemoHub();
  const site = hub.registry.file.sites[0]!;
  charger = site.devices.find((d) => d.family === 'charger')!;
  bin = site.devices.find((d) => d.family === 'bin')!;
  const seed = (key: string, at: number, category: Category, cellId: string, deviceId: string) => seedDeviceTicket(hub, { key, at, category, cellId, deviceId });
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

  it('the report screen carries the warning with its reason, in print and in the Excel and CSV exports', async () => {
    await page.click('[data-testid=nav-reports]');
    const w = page.locator('[data-testid=report-warning][data-category=fire_safety]');
    await w.first().waitFor();
    const reason = /消防安全 · .+消防安全类工单往年同期 ×5\.0（5 件，对比此前 1 件）/;
    expect(await w.first().textContent()).toMatch(reason);
    await page.emulateMedia({ media: 'print' });
    expect(await w.first().isVisible()).toBe(true); // inside the printed sheet
    expect(await page.isVisible('[data-testid=seasonal-warnings]')).toBe(false); // the overview strip is not printed
    await page.emulateMedia({ media: 'screen' });

    const token = await page.evaluate(() => (JSON.parse(localStorage.getItem('shaobing.session') ?? '{}') as { token?: string }).token ?? '');
    const get = (path: string) => fetch(`${hub.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await (await get('/api/reports/daily.xlsx?siteId=demo')).arrayBuffer());
    const sheet = wb.getWorksheet('季节性预警')!;
    expect(sheet.getRow(1).values).toEqual([undefined, '站点', '类别', '地点', '依据', '倍数', '工单数', '原因']);
    const row = sheet.getRow(2).values as unknown[];
    expect(row.slice(2, 7)).toEqual(['消防安全', expect.any(String), '往年同期', 5, 5]);
    expect(String(row[7])).toMatch(/往年同期 ×5\.0/);

    // The CSV: the ranking, a blank line, then the warnings section. The stored daily report
    // of today is generated here (the cron would at 00:05 tomorrow).
    await hub.kpi.generate('daily', 'demo', periodOf('daily', Date.now(), hub.kpi.tz), Date.now());
    const csv = (await (await get('/api/reports/daily.csv?siteId=demo')).text()).replace(/^\uFEFF/, '').split('\r\n');
    const at = csv.indexOf('site,seasonal_warning_category,place,basis,ratio,tickets,reason');
    expect(at).toBeGreaterThan(1);
    expect(csv[at - 1]).toBe('');
    expect(csv[at + 1]).toMatch(/^朝霞街道,消防安全,.+,往年同期,5,5,.+往年同期 ×5\.0/);
  }, 60_000);

  it('a supervisor adopts a candidate as the month\'s problem; it is tracked', async () => {
    await page.click('[data-testid=nav-insights]');
    const row = page.locator(`[data-testid=problem-candidate][data-category=sanitation]`).first();
    await row.waitFor();
    expect(await row.textContent()).toContain(`${bin.location.label} ×3`); // the hotspot: the bin behind the repeats, by its place
    // The hotspot is a link: the board pinned to exactly that spot's tickets of the month.
    await row.locator(`[data-testid=candidate-hotspot][data-spot="${bin.id}"]`).click();
    await page.waitForFunction(() => !!document.querySelector('[data-testid=board-pinned]') && document.querySelectorAll('[data-testid=ticket-row]').length === 3);
    const shown = await page.$$eval('[data-testid=ticket-row]', (rs) => rs.map((r) => r.getAttribute('data-ticket-id')));
    const seeded = (await hub.db.query<{ id: string }>(`SELECT id FROM tickets WHERE device_id = $1 AND category = 'sanitation'`, [bin.id])).map((r) => r.id);
    expect(shown.sort()).toEqual(seeded.sort());
    await page.click('[data-testid=board-pinned]');
    await page.click('[data-testid=nav-insights]');
    await row.waitFor();
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
