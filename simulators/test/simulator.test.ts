import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { parseTopic, type Site } from '@shaobing/schemas';
import { buildCommunity } from '../src/community.ts';
import { startSimulator } from '../src/simulator.ts';
import { checkPublish, type Accepted } from './support/contract.ts';
import { startTestBroker, type Received, type TestBroker } from './support/broker.ts';

const handles = (): string[] => process.getActiveResourcesInfo().filter((r) => r !== 'PipeWrap').sort();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let broker: TestBroker | undefined;
afterEach(async () => { await broker?.close(); broker = undefined; });

/** Contract verdicts of everything a client (not the broker) published. */
function verdicts(site: Site, received: Received[]) {
  return received.filter((r) => r.username !== 'broker').map((r) => {
    const t = parseTopic(r.topic);
    const id = r.username.split('/')[1]!;
    return { r, v: checkPublish(site, { kind: t?.kind === 'gateway' || id.startsWith('gw-') ? 'gateway' : 'device', id }, r.topic, r.payload) };
  });
}

describe('simulator against a real broker', () => {
  it('devices mode, QoS 1: valid messages on the right topics, retained status, Last Will, scenarios, clean stop', async () => {
    const { siteFile, credentials } = await buildCommunity({ seed: 'sim-test', size: 'small' });
    const site = siteFile.sites[0]!;
    broker = await startTestBroker(credentials);
    const baseline = handles();
    const logs: string[] = [];
    const sim = await startSimulator({
      url: broker.url, siteFile, credentials, seed: 'sim-test', ratePerSec: 300, qos: 1, mode: 'devices',
      scenarios: ['camera-burst', 'device-offline', 'malformed'],
      scenarioTimeScale: 0.002, scenarioDelayMs: 100,
      scenarioParams: { 'device-offline': { drop: 1, silentMs: 300_000 } },
      malformedShare: 0.02, log: (l) => logs.push(l),
    });
    const links = sim.stats().links;
    expect(sim.stats().connected).toBe(links);
    await sleep(1500);
    const running = sim.stats();
    expect(running.sent).toBeGreaterThan(200);
    await sim.stop();
    const s = sim.stats();
    expect(s.connected).toBe(0);
    expect(s.rejectedConnects).toBe(0);
    expect(s.acked + s.failed).toBe(s.sent);
    expect(s.failed).toBeLessThanOrEqual(s.malformed);
    await sleep(50);
    expect(broker.broker.connectedClients).toBe(0);
    // No simulator timer or socket survives stop(): only the broker's own handles remain.
    expect(handles()).toEqual(baseline);

    const all = verdicts(site, broker.received);
    const rejected = all.filter((x) => !x.v.ok);
    // Only the deliberately malformed messages break the contract.
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.length).toBeLessThanOrEqual(s.malformed);
    const accepted: Accepted[] = all.flatMap((x) => (x.v.ok ? x.v.messages : []));
    expect(new Set(accepted.map((m) => m.type.split('.')[0]))).toEqual(new Set(['door', 'camera', 'bin', 'charger']));
    // Charging posts have no own credentials: they arrive as gateway batches.
    expect(all.some((x) => x.r.topic.endsWith('/gw-c01-chg/batch') && x.v.ok)).toBe(true);
    // Message ids are unique per device.
    const ids = accepted.filter((m) => !m.type.endsWith('.status')).map((m) => `${m.deviceId}/${m.id}`);
    expect(new Set(ids).size).toBe(ids.length);
    // camera-burst: ≥ 5 high-confidence alerts at one camera.
    const burst = accepted.filter((m) => m.type === 'camera.alert' && String(m.data.trackId).startsWith('burst-'));
    expect(burst.length).toBeGreaterThanOrEqual(5);
    // Status retained on connect; the dropped device's Last Will {online:false} came from the broker.
    const statuses = broker.received.filter((r) => r.topic.endsWith('/status') && r.retain);
    expect(statuses.some((r) => JSON.parse(r.payload.toString()).data.online === true)).toBe(true);
    const dropped = logs.find((l) => l.startsWith('scenario device-offline#0 starts'))!.match(/\((\S+),/)![1]!;
    const will = broker.received.find((r) => r.topic.endsWith(`/${dropped}/status`) && String(JSON.parse(r.payload.toString()).id).endsWith('-will'));
    expect(will, 'last will of the dropped device').toBeDefined();
    expect(JSON.parse(will!.payload.toString()).data).toEqual({ online: false });
    expect(will!.retain).toBe(true);

    // After a clean stop every device's retained status says offline.
    const probe = await mqtt.connectAsync(broker.url, { username: [...credentials.keys()][0]!, password: [...credentials.values()][0]! });
    const retained = new Map<string, boolean>();
    probe.on('message', (topic, payload) => retained.set(topic, JSON.parse(payload.toString()).data.online));
    await probe.subscribeAsync(`shaobing/v1/${site.id}/+/+/status`);
    await sleep(200);
    await probe.endAsync();
    const own = site.devices.filter((d) => d.secretHash);
    expect(retained.size).toBe(own.length);
    expect([...retained.values()].every((v) => v === false)).toBe(true);
  });

  it('gateways mode, QoS 0: JSON-array batches of valid items for every device', async () => {
    const { siteFile, credentials } = await buildCommunity({ seed: 'sim-test', size: 'small' });
    const site = siteFile.sites[0]!;
    broker = await startTestBroker(credentials);
    const sim = await startSimulator({ url: broker.url, siteFile, credentials, seed: 'sim-test', ratePerSec: 500, qos: 0, mode: 'gateways', durationMs: 1000 });
    expect(sim.stats().links).toBe(site.gateways.length);
    await sim.finished;
    const s = sim.stats();
    expect(s.sent).toBeGreaterThan(300);
    expect(s.acked).toBe(s.sent);
    const all = verdicts(site, broker.received);
    expect(all.every((x) => x.r.topic.endsWith('/batch') && x.v.ok)).toBe(true);
    const devices = new Set(all.flatMap((x) => (x.v.ok ? x.v.messages.map((m) => m.deviceId) : [])));
    expect(devices.size).toBe(site.devices.length); // at least the status of every device
  });

  it('counts refused connections and never publishes without credentials', async () => {
    const { siteFile, credentials } = await buildCommunity({ seed: 'sim-test', size: 'small' });
    broker = await startTestBroker(credentials);
    const wrong = new Map([...credentials].map(([u]) => [u, 'not-the-secret']));
    const sim = await startSimulator({ url: broker.url, siteFile, credentials: wrong, ratePerSec: 100, qos: 1 });
    const s = sim.stats();
    expect(s.rejectedConnects).toBe(s.links);
    expect(s.connected).toBe(0);
    await sleep(200);
    await sim.stop();
    expect(broker.received).toHaveLength(0);
  });

  it('rate and maxMessages are respected', async () => {
    const { siteFile, credentials } = await buildCommunity({ seed: 'sim-test', size: 'small' });
    broker = await startTestBroker(credentials);
    const started = Date.now();
    const sim = await startSimulator({ url: broker.url, siteFile, credentials, ratePerSec: 200, qos: 1, maxMessages: 150, announceOffline: false });
    await sim.finished;
    // ~17 retained statuses go out on connect; the other ~133 are paced at 200/s.
    expect(Date.now() - started).toBeGreaterThan(500);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(sim.stats().sent).toBeGreaterThanOrEqual(150);
    // The limit is checked per device step (a step may emit several messages: up to 10 over), and
    // at stop the doors it opened are closed (never left to look held open): one close per door.
    const doors = siteFile.sites.flatMap((site) => site.devices).filter((d) => d.family === 'door').length;
    expect(sim.stats().sent).toBeLessThan(160 + doors);
  });
});
