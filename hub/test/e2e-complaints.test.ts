import type { Browser, Page } from 'playwright-core';
import type { RuleDecision, Ticket } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { buildDashboard, launchChromium, login, shot, recordPageErrors } from './live-browser.ts';
import { demoToken, startDemoHub } from './support/demo-hub.ts';

/*
 * 接诉即办 in a real browser: the dispatcher records "e-bike pushed into the lift" at unit
 * c01-y04-b01-u3, sees the matcher prefer that unit's ebike_in_elevator ticket (resolved minutes
 * ago) over the charging shed's smoke ticket with the reasons, confirms the link; later the 回访
 * answers "solved, not satisfied" (非双是) and the ticket shows on today's 二次办理 list.
 */
let hub: HubHandle;
let browser: Browser;
let page: Page;
let token: string;
const errors: string[] = [];
const UNIT = 'c01-y04-b01-u3';
const ids = { lift: '', smoke: '' };
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

beforeAll(async () => {
  buildDashboard();
  hub = await startDemoHub();
  const site = hub.registry.file.sites[0]!;
  const now = Date.now();
  const decision = (key: string, ruleId: string, deviceId: string, cellId: string, title: string): RuleDecision => ({
    kind: 'open', ruleId, siteId: site.id, deviceId, cellId, dedupKey: key, severity: 'high', category: 'fire_safety', deviceVerifiable: true,
    title: { 'zh-CN': title, en: title }, description: { 'zh-CN': '', en: '' },
    evidence: { eventKey: `${site.id}/${deviceId}/${key}`, ts: new Date(now - 20 * 60_000).toISOString(), type: 'camera.alert', deviceId, summary: ruleId },
  });
  await hub.tickets.applyDecisions([
    decision('e2e-smoke', 'charger.smoke', 'chg-c01-y04-01', 'c01-y04', '充电棚烟雾'),
    decision('e2e-lift', 'camera.ebike_in_elevator', 'cam-c01-y04-lift-b01-u3', UNIT, '电动车进电梯'),
  ], now - 20 * 60_000);
  const byKey = async (k: string) => (await hub.db.query<{ doc: Ticket }>('SELECT doc FROM tickets WHERE dedup_key = $1', [k]))[0]!.doc;
  const lift = await byKey('e2e-lift');
  ids.lift = lift.id; ids.smoke = (await byKey('e2e-smoke')).id;
  // The lift camera saw the bike leave: resolved by the device 3 minutes before the call.
  await hub.tickets.applyDecisions([{
    kind: 'resolve_by_device', ruleId: 'camera.ebike_in_elevator', siteId: site.id, dedupKey: 'e2e-lift',
    evidence: { eventKey: `${site.id}/cam-c01-y04-lift-b01-u3/clear`, ts: new Date(now - 3 * 60_000).toISOString(), type: 'camera.alert_cleared', deviceId: 'cam-c01-y04-lift-b01-u3', summary: 'cleared' },
  }], now - 3 * 60_000);
  token = await demoToken(hub, 'dispatcher');
  browser = await launchChromium();
  page = recordPageErrors(await browser.newPage({ viewport: { width: 1600, height: 1000 } }), errors);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
}, 60_000);

describe('complaint intake (接诉即办) in a real browser', () => {
  let complaintId = '';

  it('records a complaint at a unit, shows the matches with the reasons and confirms the right link', async () => {
    await login(page, hub.httpUrl, 'dispatcher', 'dispatch123');
    await page.click('[data-testid=nav-complaints]');
    await page.waitForSelector('[data-testid=complaint-form]');
    await page.selectOption('[data-testid=complaint-source]', 'hotline_12345');
    await page.selectOption('[data-testid=complaint-category]', 'fire_safety');
    await page.selectOption('[data-testid=complaint-place]', UNIT);
    await page.fill('[data-testid=complaint-text]', '有人把电动车推进电梯');
    await page.fill('[data-testid=complaint-contact-name]', '王女士');
    await page.fill('[data-testid=complaint-contact-phone]', '13900000001');
    await page.click('[data-testid=complaint-match]');
    await page.waitForSelector('[data-testid=complaint-matches]');

    const lift = page.locator(`[data-testid=complaint-candidate][data-ticket-id="${ids.lift}"]`);
    expect(await lift.getAttribute('data-verdict')).toBe('chosen');
    expect(await lift.locator('[data-testid=complaint-reason]').textContent()).toContain('3 分钟前办结');
    const smoke = page.locator(`[data-testid=complaint-candidate][data-ticket-id="${ids.smoke}"]`);
    expect(await smoke.getAttribute('data-verdict')).toBe('ruled_out');
    expect(await smoke.locator('[data-testid=complaint-reason]').textContent()).toContain('不符');
    // The matcher's pick is preselected; nothing is stored before the dispatcher confirms.
    expect(await page.isChecked(`[data-testid=complaint-link-${ids.lift}]`)).toBe(true);
    expect((await hub.db.query("SELECT 1 FROM tickets WHERE origin = 'complaint'")).length).toBe(0);
    await shot(page, 'e2e-complaint-matches');

    await page.click('[data-testid=complaint-record]');
    await page.waitForFunction(() => document.querySelector('[data-testid=complaint-message]')?.textContent?.includes('关联主动发现工单'));
    const rows = await hub.db.query<{ doc: Ticket }>("SELECT doc FROM tickets WHERE origin = 'complaint'");
    expect(rows).toHaveLength(1);
    const complaint = rows[0]!.doc;
    complaintId = complaint.id;
    expect(complaint.linkedTicketIds).toEqual([ids.lift]);
    expect(complaint.complaint).toMatchObject({ source: 'hotline_12345', contact: { name: '王女士', phone: '13900000001' } });
    expect((await hub.tickets.get(ids.smoke))!.linkedTicketIds).toEqual([]);
  }, 90_000);

  it('rejecting the link records the complaint on its own', async () => {
    await page.selectOption('[data-testid=complaint-place]', UNIT);
    await page.fill('[data-testid=complaint-text]', '电梯里又有电动车');
    await page.click('[data-testid=complaint-match]');
    await page.waitForSelector('[data-testid=complaint-matches]');
    await page.check('[data-testid=complaint-link-none]');
    await page.click('[data-testid=complaint-record]');
    await page.waitForFunction(() => document.querySelector('[data-testid=complaint-message]') !== null);
    expect(await page.textContent('[data-testid=complaint-message]')).toMatch(/^已登记诉求工单 \S+$/);
    const rows = await hub.db.query<{ doc: Ticket }>("SELECT doc FROM tickets WHERE origin = 'complaint' AND id <> $1", [complaintId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.doc.linkedTicketIds).toEqual([]);
  }, 60_000);

  it('回访: solved but not satisfied (非双是) puts it on today\'s 二次办理 list', async () => {
    const ops = { username: 'dispatcher', role: 'dispatcher' as const };
    await hub.tickets.act(complaintId, 'dispatch', {}, ops);
    await hub.tickets.act(complaintId, 'accept', {}, ops);
    const form = new FormData();
    form.append('file', new Blob([PNG], { type: 'image/png' }), 'after.png');
    const up = await fetch(`${hub.httpUrl}/api/tickets/${complaintId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    expect(up.status).toBe(201);
    await hub.tickets.act(complaintId, 'resolve', { note: '已劝离', photos: [((await up.json()) as { id: string }).id] }, ops);

    const item = page.locator(`[data-testid=follow-up-item][data-ticket-id="${complaintId}"]`);
    await item.waitFor();
    expect(await item.locator('[data-testid=follow-up-contact]').textContent()).toBe('王女士 13900000001');
    await item.locator('[data-testid=follow-up-solved]').selectOption('true');
    await item.locator('[data-testid=follow-up-satisfied]').selectOption('false');
    await item.locator('[data-testid=follow-up-submit]').click();
    const row = page.locator(`[data-testid=second-handling-row][data-ticket-id="${complaintId}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-outcome')).toBe('not_double_yes');
    expect(await row.textContent()).toContain('非双是');
    expect((await hub.tickets.get(complaintId))!.status).toBe('reopened');
    await shot(page, 'e2e-complaint-follow-up');
    expect(errors).toEqual([]);
  }, 60_000);
});
