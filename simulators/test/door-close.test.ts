import { afterEach, expect, it } from 'vitest';
import { parseTopic } from '@shaobing/schemas';
import { buildCommunity, buildSite } from '../src/community.ts';
import { FleetScheduler, TICK_MS, type LinkState, type Speaker } from '../src/fleet-scheduler.ts';
import { PROFILES } from '../src/profiles/index.ts';
import { Rng } from '../src/random.ts';
import { startSimulator } from '../src/simulator.ts';
import { startTestBroker, type TestBroker } from './support/broker.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let broker: TestBroker | undefined;
afterEach(async () => { await broker?.close(); broker = undefined; });

const onlyDoors = (doorUnits: number) => ({ doorUnits, cameras: 0, bins: 0, chargerPosts: 0 });

it('a door closes within seconds of real time even when the simulated clock runs slower than real time', () => {
  // 2,000 doors at a fifth of their natural message rate: the simulated clock runs at ×0.2, so a
  // close scheduled 3–12 simulated seconds after the open would arrive 15–60 s later in real
  // time, and every one of them would look like a door held open past the 60 s rule.
  const site = buildSite('door-slow', 'street', 'demo', onlyDoors(2000));
  const beijing8am = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  let now = 0;
  const link: LinkState = { ready: true, connected: true };
  const doors = site.devices.map((device) => ({ id: device.id, link, key: 0, takenOver: false, model: PROFILES.door.create(device, new Rng(`door-slow/device/${site.id}/${device.id}`), beijing8am) }));
  const natural = site.devices.reduce((n, d) => n + PROFILES.door.meanRatePerSec(d), 0);
  const scheduler = new FleetScheduler<Speaker & { id: string }>({ ratePerSec: 8, naturalRatePerSec: natural, simStartMs: beijing8am, clock: () => now });
  expect(scheduler.timeScale.toFixed(1)).toBe('0.2');
  for (const d of doors) scheduler.add(d);
  scheduler.linkReady(link);
  const events: { door: string; type: string; at: number }[] = [];
  // 21 s of real time, ticked as the driver does.
  for (; now <= 21_000; now += TICK_MS) {
    for (const s of scheduler.tick().said) if (s.kind === 'emit') events.push({ door: s.device.id, type: s.emit.type, at: now });
  }
  const opens = events.filter((e) => e.type === 'door.opened' && e.at <= 8000);
  expect(opens.length).toBeGreaterThan(0);
  for (const o of opens) {
    const close = events.find((e) => e.door === o.door && e.type === 'door.closed' && e.at >= o.at);
    expect(close, `${o.door} opened and not closed within 13 s`).toBeDefined();
    expect(close!.at - o.at).toBeLessThanOrEqual(12_500);
  }
});

it('over real MQTT, stopping sends the close of every door still open', async () => {
  // The closes come 3–12 s after the opens; stopping after one second leaves them all pending.
  const { siteFile, credentials } = await buildCommunity({ seed: 'door-stop', size: 'demo', counts: onlyDoors(20) });
  broker = await startTestBroker(credentials);
  const sim = await startSimulator({ url: broker.url, siteFile, credentials, seed: 'door-stop', ratePerSec: 200, qos: 1, mode: 'gateways', announceOffline: false });
  await sleep(1000);
  await sim.stop();
  const events: { door: string; type: string; seq: number }[] = [];
  for (const r of broker.received) {
    if (parseTopic(r.topic)?.kind !== 'gateway') continue;
    for (const item of JSON.parse(r.payload.toString()) as { deviceId: string; type: string }[]) events.push({ door: item.deviceId, type: item.type, seq: events.length });
  }
  const opens = events.filter((e) => e.type === 'door.opened');
  expect(opens.length).toBeGreaterThan(0);
  for (const o of opens) {
    expect(events.some((e) => e.door === o.door && e.type === 'door.closed' && e.seq > o.seq), `${o.door} left open`).toBe(true);
  }
  expect(sim.stats().acked).toBe(sim.stats().sent);
});
