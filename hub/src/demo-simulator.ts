import type { SiteFile } from '@shaobing/schemas';
import type { Logger } from 'pino';
import { startSimulator } from '../../simulators/src/simulator.ts';
import { deriveDemoSecret } from '@shaobing/schemas/credentials';

/** Seed the bundled demo site was generated with; its device secrets derive from it. */
export const DEMO_SEED = 'shaobing-demo';

/**
 * `npm run demo`: the simulated community publishes over real MQTT to the embedded broker,
 * with scenarios mixed in so every family produces proactive tickets within a minute.
 */
export async function startDemoSimulator(opts: { mqttUrl: string; siteFile: SiteFile; ratePerSec: number; log: Logger }): Promise<() => Promise<void>> {
  const credentials = new Map<string, string>();
  for (const site of opts.siteFile.sites) {
    for (const p of [...site.devices.filter((d) => d.secretHash), ...site.gateways]) {
      credentials.set(`${site.id}/${p.id}`, deriveDemoSecret(DEMO_SEED, `${site.id}/${p.id}`));
    }
  }
  const log = opts.log.child({ component: 'simulator' });
  const sim = await startSimulator({
    url: opts.mqttUrl,
    siteFile: opts.siteFile,
    credentials,
    ratePerSec: opts.ratePerSec,
    qos: 1,
    mode: 'devices',
    // Instant ones first (a ticket of every family within the first minute), then the ones
    // that need held durations and clear themselves (device-verified closure to watch).
    scenarios: ['door-forced', 'camera-burst', 'charger-smoke', 'bin-fire', 'charger-overheat', 'door-held-open', 'door-denied-burst', 'bin-overflow', 'camera-smoke', 'charger-overload'],
    scenarioRepeatMs: 10 * 60_000,
    log: (line) => log.debug(line),
  });
  return () => sim.stop();
}
