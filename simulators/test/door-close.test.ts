import { afterEach, expect, it } from 'vitest';
import { parseTopic } from '@shaobing/schemas';
import { buildCommunity } from '../src/community.ts';
import { startSimulator } from '../src/simulator.ts';
import { startTestBroker, type TestBroker } from './support/broker.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let broker: TestBroker | undefined;
afterEach(async () => { await broker?.close(); broker = undefined; });

it('a door closes within seconds of real time even when the simulated clock runs slower than real time', async () => {
  // 2,000 doors at a fifth of their natural message rate: the simulated clock runs at ×0.2, so a
  // close scheduled 3–12 simulated seconds after the open would arrive 15–60 s later in real
  // time, and every one of them would look like a door held open past the 60 s rule.
  const { siteFile, credentials } = await buildCommunity({ seed: 'door-slow', size: 'street', counts: { doorUnits: 2000, cameras: 0, bins: 0, chargerPosts: 0 } });
  broker = await startTestBroker(credentials);
  const beijing8am = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const logs: string[] = [];
  const sim = await startSimulator({ url: broker.url, siteFile, credentials, seed: 'door-slow', ratePerSec: 8, qos: 1, mode: 'gateways', announceOffline: false, simStartMs: beijing8am, log: (l) => logs.push(l) });
  expect(logs.find((l) => l.startsWith('fleet'))).toMatch(/time ×0\.2/);
  await sleep(8000);
  const openedBy = Date.now();
  await sleep(13_000);
  await sim.stop();
  const events: { door: string; type: string; at: number }[] = [];
  for (const r of broker.received) {
    const t = parseTopic(r.topic);
    if (t?.kind !== 'gateway') continue;
    for (const item of JSON.parse(r.payload.toString()) as { deviceId: string; type: string; ts: number }[]) {
      if (item.type === 'door.opened' || item.type === 'door.closed') events.push({ door: item.deviceId, type: item.type, at: item.ts });
    }
  }
  const opens = events.filter((e) => e.type === 'door.opened' && e.at <= openedBy);
  expect(opens.length).toBeGreaterThan(0);
  for (const o of opens) {
    const close = events.find((e) => e.door === o.door && e.type === 'door.closed' && e.at >= o.at);
    expect(close, `${o.door} opened and not closed within 13 s`).toBeDefined();
    expect(close!.at - o.at).toBeLessThanOrEqual(12_500);
  }
}, 60_000);
