import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SiteFile, Ticket } from '@shaobing/schemas';
import { complaintTopics, explainComplaintMatch } from '../src/tickets/core/complaint.ts';
import { applyAction, buildGridIndex, newTicket, routeTicket, ticketFromComplaint } from '../src/tickets/core/index.ts';
import { iso, MIN, SYSTEM } from './tickets-fixtures.ts';

// The demo site as shipped: 绿谷北里 (c01-y04) with unit 1-3 (c01-y04-b01-u3), its lift camera and
// the compound's charging shed. The case from the field: a resident calls 12345 because someone
// pushed an e-bike into the lift of unit 1-3, three minutes after the lift camera's ticket was
// resolved; the compound's charging shed has a live smoke ticket of the same category.
const file = JSON.parse(readFileSync(new URL('../sites/demo-site.json', import.meta.url), 'utf8')) as SiteFile;
const site = file.sites[0]!;
const index = buildGridIndex(site.grid, site.workers);
const T = Date.parse('2026-07-14T19:00:00.000Z');
const UNIT = 'c01-y04-b01-u3';

function proactive(id: string, ruleId: string, cellId: string, deviceId: string, at: number): Ticket {
  return newTicket({
    id, siteId: site.id, origin: 'proactive', severity: 'high', category: 'fire_safety', title: { 'zh-CN': ruleId, en: ruleId },
    description: { 'zh-CN': '', en: '' }, cellId, locationLabel: cellId, deviceVerifiable: true, evidence: [], deviceId, ruleId, dedupKey: `${ruleId}:${deviceId}`,
  }, routeTicket({ cellId, category: 'fire_safety' }, index), at);
}
const ok = (r: ReturnType<typeof applyAction>): Ticket => { if (!r.ok) throw new Error(r.error.message); return r.ticket; };

const smoke = proactive('t-smoke', 'charger.smoke', 'c01-y04', 'chg-c01-y04-01', T - 20 * MIN);
const lift = ok(applyAction(proactive('t-lift', 'camera.ebike_in_elevator', UNIT, 'cam-c01-y04-lift-b01-u3', T - 15 * MIN),
  { kind: 'resolve_by_device', evidence: { eventKey: 'k', ts: iso(T - 3 * MIN), type: 'camera.alert_cleared', summary: 'cleared' } }, SYSTEM, T - 3 * MIN));
const complaint = (text: string): Ticket => ticketFromComplaint({ siteId: site.id, cellId: UNIT, category: 'fire_safety', text, source: 'hotline_12345' }, { newId: 'c-1', index }, T);

describe('complaint matcher on the demo site', () => {
  it('links "e-bike pushed into the lift" at unit 1-3 to that unit\'s ebike_in_elevator ticket resolved 3 min earlier, not the shed\'s smoke ticket', () => {
    for (const text of ['Someone pushed an e-bike into the lift again', '又有人把电动车推进电梯了']) {
      const { match, candidates } = explainComplaintMatch(complaint(text), [smoke, lift], index, T);
      expect(match?.proactive.id).toBe('t-lift');
      expect(match?.preempted).toBe(true);
      expect(match?.reason['zh-CN']).toContain('3 分钟前办结');
      expect(match?.reason.en).toMatch(/same topic, the same cell, resolved 3 min ago/);
      const shed = candidates.find((c) => c.ticketId === 't-smoke')!;
      expect(shed.verdict).toBe('ruled_out');
      expect(shed.reason.en).toContain('charger.smoke');
    }
  });

  it('without a recognisable topic, the most specific place still wins over the live compound-wide ticket', () => {
    const { match, candidates } = explainComplaintMatch(complaint('楼里有消防隐患'), [smoke, lift], index, T);
    expect(match?.proactive.id).toBe('t-lift');
    expect(candidates.find((c) => c.ticketId === 't-smoke')?.verdict).toBe('eligible');
  });

  it('a complaint about the charging shed smoke links to the smoke ticket', () => {
    const c = ticketFromComplaint({ siteId: site.id, cellId: 'c01-y04', category: 'fire_safety', text: '充电棚冒烟了', source: 'app' }, { newId: 'c-2', index }, T);
    expect(explainComplaintMatch(c, [smoke, lift], index, T).match?.proactive.id).toBe('t-smoke');
  });

  it('recognises topics in both languages', () => {
    expect(complaintTopics('e-bike in the elevator')).toEqual(['ebike_in_elevator']);
    expect(complaintTopics('垃圾桶满溢')).toEqual(['garbage']);
    expect(complaintTopics('今天天气不错')).toEqual([]);
  });
});
