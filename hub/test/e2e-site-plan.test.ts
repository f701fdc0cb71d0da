import type { Browser, Page } from 'playwright-core';
import type { Category, HotspotsReply, Ticket } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { queryString } from '../../dashboard/src/lib/api.ts';
import { buildDashboard, launchChromium, login, ROOT, shot, recordPageErrors } from './live-browser.ts';
import { demoToken, seedDeviceTicket, startDemoHub } from './support/demo-hub.ts';

/*
 * 高频点位 on the site plan, API and real browser, over the demo site (every device located):
 * seeded tickets at a charging post (5 in the window, 1 older), a bin (3), and residents'
 * complaints at a unit (no device, 2). The plan ranks the post first and draws it largest;
 * clicking it pins the board to exactly its 5 tickets; the category filter re-ranks. The plan's
 * screenshot is kept in dashboard/docs/ for the README.
 */
let hub: HubHandle;
let browser: Browser;
let page: Page;
let token = '';
const errors: string[] = [];
const DAY = 24 * 3600_000;
const ids: Record<'charger' | 'bin' | 'unit' | 'old', string[]> = { charger: [], bin: [], unit: [], old: [] };
let charger = { id: '', cellId: '' };
let bin = { id: '', cellId: '' };
let unitId = '';

const api = async <T>(path: string, q: Record<string, string | number | boolean | readonly string[] | undefined> = {}): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${hub.httpUrl}${path}${queryString(q)}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as T };
};

beforeAll(async () => {
  buildDashboard();
  hub = await startDemoHub();
  const site = hub.registry.file.sites[0]!;
  charger = site.devices.find((d) => d.family === 'charger')!;
  bin = site.devices.find((d) => d.family === 'bin' && d.cellId !== charger.cellId) ?? site.devices.find((d) => d.family === 'bin')!;
  unitId = site.grid.find((c) => c.level === 'unit')!.id;
  const now = Date.now();
  const seed = (key: string, at: number, category: Category, cellId: string, deviceId: string) => seedDeviceTicket(hub, { key, at, category, cellId, deviceId });
  for (const d of [1, 2, 3, 5, 8]) ids.charger.push(await seed(`chg-${d}`, now - d * DAY, 'fire_safety', charger.cellId, charger.id));
  ids.old.push(await seed('chg-old', now - 45 * DAY, 'fire_safety', charger.cellId, charger.id)); // outside a 30-day window
  for (const d of [1, 2, 4]) ids.bin.push(await seed(`bin-${d}`, now - d * DAY, 'sanitation', bin.cellId, bin.id));
  const ops = { username: 'dispatcher', role: 'dispatcher' as const };
  for (const d of [1, 2]) ids.unit.push((await hub.tickets.openComplaint({ siteId: site.id, cellId: unitId, category: 'order', text: `楼道噪音 ${d}`, source: 'app' }, ops, now - d * 3600_000)).ticket.id);
  token = await demoToken(hub, 'supervisor');
  browser = await launchChromium();
  page = recordPageErrors(await browser.newPage({ viewport: { width: 1600, height: 1000 } }), errors);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
}, 60_000);

describe('hotspots API', () => {
  it('ranks the spots of the window; each spot\'s ticket query lists exactly its tickets', async () => {
    const { status, body } = await api<HotspotsReply>('/api/insights/hotspots', { siteId: 'demo' });
    expect(status).toBe(200);
    expect(body.total).toBe(10);
    expect(body.spots.slice(0, 3).map((s) => [s.kind, s.id, s.count])).toEqual([['device', charger.id, 5], ['device', bin.id, 3], ['cell', unitId, 2]]);
    expect(body.spots[0]!.lat).toBeTypeOf('number');
    expect(body.plan.devices.length).toBe(hub.registry.file.sites[0]!.devices.length);
    expect(body.plan.devices.every((d) => d.lat !== undefined && d.lng !== undefined)).toBe(true); // the demo site is located
    for (const [spot, expected] of [[body.spots[0]!, ids.charger], [body.spots[2]!, ids.unit]] as const) {
      const list = await api<{ items: Ticket[] }>('/api/tickets', { ...spot.tickets, limit: 500 });
      expect(list.status).toBe(200);
      expect(list.body.items.map((t) => t.id).sort()).toEqual([...expected].sort());
    }
    // Every block (社区, 楼院, 单元) lists exactly the tickets at or below it: its count, its cells.
    const grid = hub.registry.file.sites[0]!.grid;
    const parentOf = new Map(grid.map((c) => [c.id, c.parentId]));
    const within = (cellId: string, top: string) => { for (let c: string | undefined = cellId; c !== undefined; c = parentOf.get(c) ?? undefined) if (c === top) return true; return false; };
    expect(body.cells.length).toBeGreaterThan(2);
    for (const cell of body.cells) {
      const list = await api<{ items: Ticket[] }>('/api/tickets', { ...cell.tickets, limit: 500 });
      expect(list.status).toBe(200);
      expect(list.body.items.length, cell.cellId).toBe(cell.count);
      expect(list.body.items.every((t) => within(t.cellId, cell.cellId))).toBe(true);
    }
    expect(body.cells.find((c) => c.level === 'community')?.count).toBe(body.total);
    expect((await api('/api/tickets', { siteId: 'demo', within: 'no-such-cell' })).status).toBe(400);
    expect((await api('/api/tickets', { within: unitId })).status).toBe(400); // a cell id means something only in its site
    const sanitation = await api<HotspotsReply>('/api/insights/hotspots', { siteId: 'demo', category: 'sanitation' });
    expect(sanitation.body.spots.map((s) => [s.id, s.count])).toEqual([[bin.id, 3]]);
    const long = await api<HotspotsReply>('/api/insights/hotspots', { siteId: 'demo', from: new Date(Date.now() - 60 * DAY).toISOString() });
    expect(long.body.spots[0]).toMatchObject({ id: charger.id, count: 6 });
  });

  it('rejects a bad window and an unknown site', async () => {
    const t = new Date().toISOString();
    expect((await api('/api/insights/hotspots', { siteId: 'demo', from: t, to: t })).status).toBe(400);
    expect((await api('/api/insights/hotspots', { siteId: 'demo', from: new Date(Date.now() - 500 * DAY).toISOString() })).status).toBe(400);
    expect((await api('/api/insights/hotspots', { siteId: 'nope' })).status).toBe(404);
    expect((await api('/api/insights/hotspots', { siteId: 'demo', category: 'weather' })).status).toBe(400);
  });
});

describe('the site plan in a real browser', () => {
  it('draws the hottest spot first and largest; a click shows exactly its tickets on the board', async () => {
    await login(page, hub.httpUrl, 'supervisor', 'super123');
    await page.click('[data-testid=nav-plan]');
    await page.locator('[data-testid=plan-spot-row]').first().waitFor();
    expect(await page.getAttribute('[data-testid=plan-mode]', 'data-mode')).toBe('coordinates');
    expect(await page.textContent('[data-testid=plan-mode]')).toContain('按设备坐标绘制');
    expect(await page.getAttribute('[data-testid=plan-spot-row] >> nth=0', 'data-spot-id')).toBe(charger.id);
    const spots = await page.$$eval('[data-testid=plan-spot]', (gs) => gs.map((g) => ({ id: g.getAttribute('data-spot-id'), r: Number(g.getAttribute('data-r')), rank: Number(g.getAttribute('data-rank')) })));
    expect(spots).toHaveLength(3);
    const hottest = spots.reduce((a, b) => (b.r > a.r ? b : a));
    expect(hottest).toMatchObject({ id: charger.id, rank: 1 });
    expect(spots.at(-1)!.id).toBe(charger.id); // drawn last: on top
    // Blocks of the plan: the charger's compound is the hottest compound.
    expect(Number(await page.getAttribute(`[data-testid=plan-block][data-cell-id="${charger.cellId}"]`, 'data-count'))).toBeGreaterThanOrEqual(5);
    await page.screenshot({ path: `${ROOT}dashboard/docs/site-plan.png` }); // the README's picture

    await page.click(`[data-testid=plan-spot][data-spot-id="${charger.id}"]`);
    await page.waitForSelector('[data-testid=board-pinned]');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=ticket-row]').length === n && document.querySelector('[data-testid=board-pinned]')?.textContent?.includes(`${n} 张`), ids.charger.length);
    const shown = await page.$$eval('[data-testid=ticket-row]', (rows) => rows.map((r) => r.getAttribute('data-ticket-id')));
    expect(shown.sort()).toEqual([...ids.charger].sort()); // not the older one, not the bin's
    await shot(page, 'e2e-site-plan-drill');

    // Clearing the filter brings the live board back (the older ticket is still open there).
    await page.click('[data-testid=board-pinned]');
    await page.waitForFunction((id) => !!document.querySelector(`[data-testid=ticket-row][data-ticket-id="${id}"]`), ids.old[0]);
  }, 90_000);

  it('the category filter re-ranks; a cell spot drills to its complaints', async () => {
    await page.click('[data-testid=nav-plan]');
    await page.selectOption('[data-testid=plan-category]', 'order');
    await page.waitForFunction((id) => document.querySelector('[data-testid=plan-spot-row]')?.getAttribute('data-spot-id') === id, unitId);
    expect(await page.locator('[data-testid=plan-spot-row]').count()).toBe(1);
    await page.click('[data-testid=plan-spot-row] button');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=ticket-row]').length === n, ids.unit.length);
    const shown = await page.$$eval('[data-testid=ticket-row]', (rows) => rows.map((r) => r.getAttribute('data-ticket-id')));
    expect(shown.sort()).toEqual([...ids.unit].sort());

    // A block drills too: the unit's 楼院 holds the complaints of its 单元 (category kept).
    const compound = hub.registry.file.sites[0]!.grid.find((c) => c.id === unitId)!.parentId!;
    await page.click('[data-testid=nav-plan]');
    await page.selectOption('[data-testid=plan-category]', 'order');
    const block = page.locator(`[data-testid=plan-block][data-cell-id="${compound}"]`);
    await page.waitForFunction((id) => Number(document.querySelector(`[data-testid=plan-block][data-cell-id="${id}"]`)?.getAttribute('data-count')) === 2, compound);
    await block.dispatchEvent('click'); // its units and spots lie on top of it; the block's own handler is what is tested
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=ticket-row]').length === n && !!document.querySelector('[data-testid=board-pinned]'), ids.unit.length);
    const inBlock = await page.$$eval('[data-testid=ticket-row]', (rows) => rows.map((r) => r.getAttribute('data-ticket-id')));
    expect(inBlock.sort()).toEqual([...ids.unit].sort());
  }, 60_000);

  it('devices without coordinates: one missing keeps the map (listed below it); none located gives a schematic; each says so', async () => {
    // The same reply with coordinates taken out (as a site file without them): `strip` decides whose.
    let strip = (id: string) => id === charger.id;
    await page.route('**/api/insights/hotspots?*', async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as HotspotsReply;
      for (const d of body.plan.devices) if (strip(d.id)) { delete d.lat; delete d.lng; }
      await route.fulfill({ response: res, json: body });
    });
    await page.click('[data-testid=nav-plan]');
    await page.selectOption('[data-testid=plan-category]', 'all');
    await page.waitForSelector('[data-testid=plan-mode][data-mode=partial]');
    expect(await page.textContent('[data-testid=plan-mode]')).toContain('1 台设备缺少坐标');
    expect(await page.textContent('[data-testid=plan-unlocated-row]')).toContain('未定位设备');
    const drawn = () => page.$$eval('[data-testid=plan-spot]', (gs) => gs.map((g) => ({ id: g.getAttribute('data-spot-id'), r: Number(g.getAttribute('data-r')), y: Number(g.querySelector('circle')!.getAttribute('cy')) })));
    let spots = await drawn();
    const top = spots.reduce((a, b) => (b.r > a.r ? b : a));
    expect(top.id).toBe(charger.id); // still drawn, still the largest
    // …in the row below the plan: under every block of the located devices, which keep their map.
    const blocks = await page.$$eval('[data-testid=plan-block] rect', (rs) => rs.map((r) => Number(r.getAttribute('y')) + Number(r.getAttribute('height'))));
    expect(blocks.length).toBeGreaterThan(3);
    expect(top.y).toBeGreaterThan(Math.max(...blocks));

    strip = () => true;
    await page.click('[data-testid=nav-overview]'); // leave and come back: the plan is fetched again
    await page.click('[data-testid=nav-plan]');
    await page.waitForSelector('[data-testid=plan-mode][data-mode=schematic]');
    expect(await page.textContent('[data-testid=plan-mode]')).toMatch(/\d+ 台设备缺少坐标：按网格结构示意排布/);
    spots = await drawn();
    expect(spots.reduce((a, b) => (b.r > a.r ? b : a)).id).toBe(charger.id);
    expect(await page.locator(`[data-testid=plan-block][data-cell-id="${charger.cellId}"]`).count()).toBe(1);
    await page.unroute('**/api/insights/hotspots?*');
    expect(errors).toEqual([]);
  }, 60_000);
});
