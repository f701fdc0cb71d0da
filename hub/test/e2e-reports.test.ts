import { readFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import type { RuleDecision, Ticket } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { buildDashboard, launchChromium, login, ROOT, shot, recordPageErrors } from './live-browser.ts';
import { startDemoHub } from './support/demo-hub.ts';

/*
 * The street office's report screen in a real browser over the demo site: a day of tickets made
 * through the real ticket service, then 日监控排名 read, drilled, printed (print media, A4) and
 * exported. The print preview is kept in dashboard/docs/ for the README.
 */
let hub: HubHandle;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

beforeAll(async () => {
  buildDashboard();
  hub = await startDemoHub();
  const site = hub.registry.file.sites[0]!;
  const ops = { username: 'dispatcher', role: 'dispatcher' as const };
  const now = Date.now();
  const login = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dispatcher', password: 'dispatch123' }) });
  const { token } = (await login.json()) as { token: string };
  const units = site.grid.filter((c) => c.level === 'unit').slice(0, 6);
  for (const [i, u] of units.entries()) {
    const decision: RuleDecision = {
      kind: 'open', ruleId: 'camera.corridor_clutter', siteId: site.id, cellId: u.id, dedupKey: `e2e-report-${i}`, severity: 'normal', category: 'fire_safety',
      deviceVerifiable: false, title: { 'zh-CN': `楼道堆物：${u.name}`, en: 'Corridor clutter' }, description: { 'zh-CN': '', en: '' },
      evidence: { eventKey: `e2e-report-ev-${i}`, ts: new Date(now - 60_000).toISOString(), type: 'camera.alert', summary: 'corridor_clutter 0.9' },
    };
    await hub.tickets.applyDecisions([decision], now - 60_000);
    const t = (await hub.db.query('SELECT doc FROM tickets WHERE dedup_key = $1', [`e2e-report-${i}`]))[0]!.doc as Ticket;
    if (i % 2 === 0) {
      await hub.tickets.act(t.id, 'dispatch', {}, ops, now - 50_000);
      await hub.tickets.act(t.id, 'accept', {}, ops, now - 40_000);
      // A camera cannot verify a cleared corridor: the resolution carries the worker's photo.
      const form = new FormData();
      form.append('file', new Blob([PNG], { type: 'image/png' }), 'after.png');
      const up = await fetch(`${hub.httpUrl}/api/tickets/${t.id}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
      if (up.status !== 201) throw new Error(`photo upload: ${up.status} ${await up.text()}`);
      const photo = (await up.json()) as { id: string };
      await hub.tickets.act(t.id, 'resolve', { note: '已清理', photos: [photo.id] }, ops, now - 30_000);
    }
  }
  await hub.tickets.openComplaint({ siteId: site.id, cellId: units[1]!.id, category: 'fire_safety', text: '楼道里堆满了杂物', source: 'hotline_12345' }, ops, now - 20_000);
  browser = await launchChromium();
  page = recordPageErrors(await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true }), consoleErrors);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
}, 60_000);

describe('report screens in a real browser', () => {
  it('shows the daily ranking with names, drills a figure to its tickets, prints on A4 and exports Excel', async () => {
    await login(page, hub.httpUrl, 'supervisor', 'super123');
    await page.click('[data-testid=nav-reports]');
    await page.waitForSelector('[data-testid=report-sheet]');
    expect(await page.textContent('[data-testid=report-title]')).toContain('日监控排名');
    const site = hub.registry.file.sites[0]!;

    // Grid workers by name, never by id.
    const workerCells = await page.$$eval('[data-testid=report-workers] tbody td.name', (tds) => tds.map((td) => td.textContent?.trim() ?? ''));
    expect(workerCells.length).toBeGreaterThan(0);
    const names = new Set(site.workers.map((w) => w.name));
    const ids = new Set(site.workers.map((w) => w.id));
    for (const cell of workerCells) { expect(names.has(cell)).toBe(true); expect(ids.has(cell)).toBe(false); }
    const communities = await page.$$eval('[data-testid=report-communities] tbody td.name', (tds) => tds.map((td) => td.textContent?.trim() ?? ''));
    expect(communities.some((n) => site.grid.some((c) => c.level === 'community' && c.name === n))).toBe(true);
    // 楼院 and 物业公司 rankings too (the demo site names a company per compound).
    const compounds = await page.$$eval('[data-testid=report-compounds] tbody td.name', (tds) => tds.map((td) => td.textContent?.trim() ?? ''));
    expect(compounds.some((n) => site.grid.some((c) => c.level === 'compound' && c.name === n))).toBe(true);
    const companies = await page.$$eval('[data-testid=report-property-companies] tbody td.name', (tds) => tds.map((td) => td.textContent?.trim() ?? ''));
    expect(companies.length).toBeGreaterThan(0);
    expect(companies.every((n) => site.grid.some((c) => c.propertyCompany === n))).toBe(true);
    expect((await page.$$('[data-testid=report-tile]')).length).toBe(10);
    // The 解决率's proof: the three corridors resolved with a photo, none by device, none unverified.
    const proofTile = page.locator('[data-testid=report-tile]', { hasText: '设备核验 / 照片佐证 / 未核验' });
    expect((await proofTile.locator('.value').textContent())?.trim()).toBe('0 / 3 / 0');
    const perWorker = await page.$$eval('[data-testid=report-workers] [data-testid=report-proof]', (tds) => tds.map((td) => (td.textContent ?? '').split('/').map((x) => Number(x.trim()))));
    expect(perWorker.reduce((sum, [, photo]) => sum + photo!, 0)).toBe(3);

    // Drill: a community's overdue / response figure lists its ticket ids.
    await page.click('[data-testid=report-communities] tbody tr:first-child td:nth-child(4) button');
    await page.waitForSelector('[data-testid=report-drill]');
    expect(await page.textContent('[data-testid=report-drill]')).toMatch(/张工单/);
    // 失分溯源: every ticket behind a figure with its place and grid worker; the tiles drill too.
    await page.click('[data-testid=report-communities] tbody tr:first-child [data-testid=drill-tickets]');
    await page.waitForFunction(() => document.querySelector('[data-testid=report-drill]')?.textContent?.includes('全部工单'));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=drill-ticket-where]').length === 7);
    const where = await page.$$eval('[data-testid=drill-ticket-where]', (els) => els.map((e) => e.textContent ?? ''));
    expect(where.some((w) => w.includes('楼道堆物') && site.grid.some((c) => c.level === 'unit' && w.includes(c.name)))).toBe(true);
    expect(where.every((w) => !/\bw-[\w-]+/.test(w))).toBe(true); // workers by name
    await page.click('[data-testid=drill-total-complaints]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=drill-ticket]').length === 1 && document.querySelector('[data-testid=report-drill]')?.textContent?.includes('诉求工单'));
    // 万人诉求率 with the demo site's residents: 1 complaint.
    const residents = site.grid.reduce((n, c) => n + (c.population ?? 0), 0);
    expect(residents).toBeGreaterThan(0);
    const per10kTile = page.locator('[data-testid=report-tile]', { hasText: '万人诉求率' });
    expect(await per10kTile.textContent()).toContain(((1 / residents) * 10_000).toFixed(1));
    expect(await per10kTile.textContent()).toContain(`常住 ${residents} 人`);

    // Weekly analysis switches the period.
    await page.click('[data-testid=report-kind-weekly]');
    await page.waitForFunction(() => document.querySelector('[data-testid=report-title]')?.textContent?.includes('周调度分析'));
    await page.click('[data-testid=report-kind-daily]');
    await page.waitForFunction(() => document.querySelector('[data-testid=report-title]')?.textContent?.includes('日监控排名'));

    // Print preview: print media hides the control room around the sheet.
    await page.click('[data-testid=report-drill] button');
    await page.emulateMedia({ media: 'print' });
    expect(await page.isVisible('[data-testid=report-print]')).toBe(false);
    expect(await page.isVisible('[data-testid=kpi-header]')).toBe(false);
    expect(await page.isVisible('[data-testid=report-sheet]')).toBe(true);
    await page.setViewportSize({ width: 794, height: 1123 }); // A4 at 96 dpi
    await page.screenshot({ path: `${ROOT}dashboard/docs/report-print-preview.png`, fullPage: true });
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await page.emulateMedia({ media: 'screen' });
    await page.setViewportSize({ width: 1400, height: 1000 });
    await shot(page, 'e2e-reports-daily');

    // Excel export from the button: a workbook with names in it.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=report-excel]')]);
    expect(download.suggestedFilename()).toMatch(/^daily-.+\.xlsx$/);
    const wb = new ExcelJS.Workbook();
    const bytes = await readFile((await download.path())!);
    await wb.xlsx.load(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const sheet = wb.getWorksheet('网格员绩效')!;
    const col = (sheet.getColumn(2).values as unknown[]).filter((v): v is string => typeof v === 'string');
    expect(col.some((v) => names.has(v))).toBe(true);
    // CSV export: the same split per grid worker, in its last three columns.
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=report-csv]')]);
    const lines = (await readFile((await csvDownload.path())!, 'utf8')).replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]!.split(',').slice(-3)).toEqual(['resolved_device', 'resolved_photo', 'resolved_unverified']);
    // The ranking ends at the first blank line (the seasonal-warning section follows it).
    const blank = lines.indexOf('');
    const ranking = lines.slice(1, blank === -1 ? undefined : blank);
    expect(ranking.length).toBeGreaterThan(0);
    expect(ranking.reduce((sum, l) => sum + Number(l.split(',')[10]), 0)).toBe(3);
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
