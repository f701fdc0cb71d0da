/**
 * Publisher process for the cluster benchmark: N QoS 1 messages over C connections, spread
 * over the given sites' bin-1, as fast as PUBACKs return. Prints one JSON line when done.
 *   npx tsx bench/publish-qos1.ts <url> <messages> <connections> <sites,comma> [tag] [user:pass-template]
 * Credentials (embedded broker): the site's gateway `site/gw-1` (several connections, client ids
 * `site/gw-1#<c>` as the client-id rule wants) publishing for its bin-2, with the test secret of
 * `t1/gw-1` (copied sites share it). Without: bin-1 of each site, anonymous (Mosquitto).
 */
import mqtt from 'mqtt';
import { secretOf } from '../hub/test/support/test-site.ts';

const [url, nArg, cArg, sitesArg, tag = 'b', auth = ''] = process.argv.slice(2);
const N = Number(nArg);
const C = Number(cArg);
const sites = sitesArg!.split(',');
const t0 = Date.now();
await Promise.all(Array.from({ length: C }, async (_, c) => {
  const site = sites[c % sites.length]!;
  const client = await mqtt.connectAsync(url!, {
    reconnectPeriod: 0, ...(auth ? { username: `${site}/gw-1`, password: secretOf('t1/gw-1'), clientId: `${site}/gw-1#${c}` } : {}),
  });
  const bin = auth ? 'bin-2' : 'bin-1';
  const share = Math.floor(N / C) + (c < N % C ? 1 : 0);
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < share; i++) {
    inflight.push(client.publishAsync(`shaobing/v1/${site}/bin/${bin}/telemetry`, JSON.stringify({ id: `${tag}-${c}-${i}`, ts: new Date().toISOString(), type: 'bin.telemetry', data: { fillPct: i % 90 } }), { qos: 1 }));
    if (inflight.length >= 50) await Promise.all(inflight.splice(0));
  }
  await Promise.all(inflight);
  await client.endAsync();
}));
console.log(JSON.stringify({ published: N, ms: Date.now() - t0 }));
