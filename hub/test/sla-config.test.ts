import type { RuleDecision, Ticket } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import type { HubHandle } from '../src/hub.ts';
import { startTestHub } from './support/test-hub.ts';

/* SLA_POLICY reaches the tickets a running hub opens (not only an object in a unit test). */
describe('SLA_POLICY in a running hub', () => {
  let hub: HubHandle;
  beforeAll(async () => {
    const { slaPolicy } = loadConfig({ SLA_POLICY: '{"windows":{"critical":{"respondMs":60000,"resolveMs":600000}}}' });
    hub = await startTestHub({ slaPolicy });
  });
  afterAll(async () => { await hub?.stop(); });

  it('a critical ticket gets the configured deadlines', async () => {
    const now = Date.parse('2026-03-02T08:00:00.000Z');
    const d: RuleDecision = {
      kind: 'open', ruleId: 'charger.smoke', siteId: 't1', deviceId: 'bin-1', cellId: 'yard-1', dedupKey: 'sla-config:t1',
      severity: 'critical', category: 'fire_safety', deviceVerifiable: false, title: { 'zh-CN': '烟雾', en: 'smoke' }, description: { 'zh-CN': '', en: '' },
      evidence: { eventKey: 't1/bin-1/sla', ts: new Date(now).toISOString(), type: 'bin.telemetry', deviceId: 'bin-1', summary: 'smoke' },
    };
    expect(await hub.tickets.applyDecisions([d], now)).toMatchObject({ opened: 1 });
    const [row] = await hub.db.query(`SELECT doc FROM tickets WHERE dedup_key = 'sla-config:t1'`);
    const t = row!.doc as Ticket;
    expect(t.respondBy).toBe(new Date(now + 60_000).toISOString());
    expect(t.resolveBy).toBe(new Date(now + 600_000).toISOString());
  });
});
