import { createServer, type AddressInfo } from 'node:net';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startHub } from '../src/hub.ts';
import { Units } from '../src/units.ts';

const silent = pino({ level: 'silent' });
const config = (over: Parameters<typeof loadConfig>[1] = {}) =>
  loadConfig({}, { httpPort: 0, mqttPort: 0, dataDir: 'memory://', logLevel: 'silent', ...over });

/** What keeps the event loop alive (unref'd timers are not listed): sockets, servers, timers. */
function aliveCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) if (r !== 'FSReqPromise' && r !== 'FSReqCallback') out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** Waits until nothing is alive beyond what was before (a leaked timer or socket never goes). */
async function leftOver(before: Record<string, number>): Promise<Record<string, number>> {
  const extra = () => Object.fromEntries(Object.entries(aliveCounts()).filter(([k, n]) => n > (before[k] ?? 0)));
  const deadline = Date.now() + 5_000;
  let now = extra();
  while (Object.keys(now).length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    now = extra();
  }
  return now;
}

describe('Units', () => {
  it('stops in reverse start order, goes on past a unit that fails to stop, and refuses to start while stopping', async () => {
    const units = new Units(silent);
    const stopped: string[] = [];
    await units.start('a', () => 1, () => { stopped.push('a'); });
    await units.start('b', async () => 2, () => { stopped.push('b'); throw new Error('b is stuck'); });
    await units.start('c', () => 3, async () => { stopped.push('c'); });
    expect(units.running).toEqual(['a', 'b', 'c']);
    await expect(units.stopAll()).rejects.toThrow('units failed to stop: b');
    expect(stopped).toEqual(['c', 'b', 'a']);
    expect(units.running).toEqual([]);
    await expect(units.start('d', () => 4, () => undefined)).rejects.toThrow('stopping');
  });
});

describe('hub lifecycle', () => {
  it('stops every unit it started, last started first, and leaves nothing keeping the process alive', async () => {
    const before = aliveCounts();
    const hub = await startHub(config(), { log: silent, dashboardDir: null });
    expect(hub.units.running).toEqual([
      'mailer', 'store', 'dead-letter writer', 'device-state writer', 'cluster', 'rule engine', 'event writer',
      'broker', 'store maintenance', 'notify loop', 'camera snapshots', 'live feed', 'kpi push', 'registry sync', 'http', 'presence sweep', 'cluster jobs',
    ]);
    // The writer's and the rule engine's totals are served, not only kept for tests.
    const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    for (const name of ['shaobing_store_write_retries', 'shaobing_store_refused_events', 'shaobing_rule_decisions', 'shaobing_rule_failures', 'shaobing_rule_reload_failures']) {
      expect(metrics).toMatch(new RegExp(`^${name} \\d+$`, 'm'));
    }
    await hub.stop();
    expect(hub.units.running).toEqual([]);
    expect(await leftOver(before)).toEqual({});
    await hub.stop(); // idempotent
  }, 120_000);

  it('stops what had started when a later unit fails to start (HTTP port taken)', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    const before = aliveCounts();
    await expect(startHub(config({ httpPort: port }), { log: silent, dashboardDir: null })).rejects.toThrow(/EADDRINUSE/);
    expect(await leftOver(before)).toEqual({});
    await new Promise<void>((r) => blocker.close(() => r()));
  }, 120_000);
});
