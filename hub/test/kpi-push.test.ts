import { afterAll, beforeAll, expect, it } from 'vitest';
import type { KpiSnapshot, RuleDecision } from '@shaobing/schemas';
import type { HubHandle } from '../src/hub.ts';
import { LiveClient } from './live-support.ts';
import { apiGet, login, startTestHub } from './support/test-hub.ts';

let hub: HubHandle;
let token: string;
beforeAll(async () => {
  // No SLA sweep during the test (the sweep pushes KPIs too): the pushes seen here follow ticket changes.
  hub = await startTestHub({ slaSweepCron: '0 0 0 1 1 *' });
  token = await login(hub, 'admin');
});
afterAll(async () => { await hub?.stop(); });

function opened(n: number): RuleDecision {
  return {
    kind: 'open', ruleId: 'bin-overflow', siteId: 't1', deviceId: 'bin-1', cellId: 'yard-1', dedupKey: `bin-overflow:t1:push-${n}`,
    severity: 'normal', category: 'sanitation', deviceVerifiable: true,
    title: { 'zh-CN': '垃圾满溢', en: 'Bin overflow' }, description: { 'zh-CN': '满溢', en: 'overflow' },
    evidence: { eventKey: `t1/bin-1/push-${n}`, ts: new Date().toISOString(), type: 'bin.telemetry', deviceId: 'bin-1', summary: 'fill 88%' },
  };
}

it("pushes a site's KPIs on the live stream soon after its tickets change, one snapshot for a burst", async () => {
  const before = await apiGet<KpiSnapshot>(hub, '/api/kpi?siteId=t1', token);
  const live = await LiveClient.connect(`${hub.httpUrl.replace('http', 'ws')}/ws?token=${encodeURIComponent(token)}`);
  await live.waitFor((c) => c.frames.some((f) => f.kind === 'hello'));
  live.send({ kind: 'resume', lastSeq: live.hello().seq });
  await hub.tickets.applyDecisions([1, 2, 3, 4, 5, 6].map(opened));
  const kpis = () => live.messages().flatMap((m) => (m.kind === 'kpi' && m.payload.siteId === 't1' ? [m.payload] : []));
  await live.waitFor(() => kpis().some((k) => k.open === before.open + 6), 10_000);
  const tickets = live.messages().filter((m) => m.kind === 'ticket');
  expect(tickets.length).toBeGreaterThanOrEqual(6);
  expect(kpis().length).toBeLessThan(tickets.length); // gathered, not one computation per change
  // The pushed figures are the ones the API serves.
  const after = await apiGet<KpiSnapshot>(hub, '/api/kpi?siteId=t1', token);
  const { generatedAt: _a, ...pushed } = kpis().at(-1)!;
  const { generatedAt: _b, ...served } = after;
  expect(pushed).toEqual(served);
  await live.close();
});
