/**
 * Scale-out ingest: msg/s stored with 1, 2 and 3 hub processes behind Mosquitto 2 (persistence
 * on, shared subscriptions), against one hub with its embedded broker into the same store
 * (a private PostgreSQL server), with CPU per message of the hub processes, then the takeover
 * time: SIGKILL one of two hubs and time until its sites' leases are held by the other.
 * Publishers run in their own process (bench/publish-qos1.ts), QoS 1, 4 sites.
 *   npx tsx bench/ingest-cluster.ts [messages=6000] [publisherConnections=8] [ingestConnections=32]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort, MOSQUITTO, multiSiteFile, siteOwners, spawnHub, startMosquitto, until, type HubProcess } from '../hub/test/support/cluster-rig.ts';
import { startPrivateCluster } from '../hub/test/support/global-setup.ts';

const N = Number(process.argv[2] ?? 6000);
const PUB_CONNS = Number(process.argv[3] ?? 8);
const INGEST_CONNS = process.argv[4] ?? '32';
if (!MOSQUITTO) {
  console.log('ingest-cluster: mosquitto not installed; skipped');
  process.exit(0);
}
const here = fileURLToPath(new URL('.', import.meta.url));
const cluster = await startPrivateCluster();
const { path: siteFile, siteIds } = await multiSiteFile(4);
let dbN = 0;

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function publish(url: string, tag: string, auth: boolean): Promise<number> {
  const p = spawn(process.execPath, ['--import', 'tsx', `${here}publish-qos1.ts`, url, String(N), String(PUB_CONNS), siteIds.join(','), tag, auth ? 'auth' : ''], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise((r) => p.once('exit', r));
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { ms: number }).ms;
}

async function freshDb(): Promise<{ url: string; client: pg.Client }> {
  const name = `bench_cluster_${process.pid}_${++dbN}`;
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = cluster.url.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return { url, client };
}

async function run(label: string, hubsN: number | 'embedded'): Promise<{ hubs: HubProcess[]; db: pg.Client; stopBroker: () => Promise<void> }> {
  const db = await freshDb();
  const broker = hubsN === 'embedded' ? null : await startMosquitto();
  const hubs: HubProcess[] = [];
  let mqttUrl: string;
  if (hubsN === 'embedded') {
    const port = await freePort();
    hubs.push(spawnHub('embedded', { SITE_FILE: siteFile, DATABASE_URL: db.url, MQTT_PORT: String(port), MQTT_RATE_LIMIT_PER_SEC: '1000000', LOG_LEVEL: 'warn' }));
    mqttUrl = `mqtt://127.0.0.1:${port}`;
  } else {
    for (let i = 0; i < hubsN; i++) hubs.push(spawnHub(`bench-h${i + 1}`, { SITE_FILE: siteFile, DATABASE_URL: db.url, MQTT_URL: broker!.url, MQTT_INGEST_CONNECTIONS: INGEST_CONNS, LEASE_POLL_MS: '500', LOG_LEVEL: 'warn' }));
    mqttUrl = broker!.url;
  }
  await Promise.all(hubs.map((h) => h.ready));
  await new Promise((r) => setTimeout(r, 1500)); // leases settle, start-up jobs finish
  const cpu0 = hubs.map((h) => cpuSeconds(h.proc.pid!));
  const t0 = Date.now();
  const pubMs = await publish(mqttUrl, label, hubsN === 'embedded');
  await until(async () => Number((await db.client.query('SELECT count(*)::int AS n FROM events')).rows[0].n) >= N, 300_000, 50);
  const s = (Date.now() - t0) / 1000;
  const cpu = hubs.reduce((a, h, i) => a + cpuSeconds(h.proc.pid!) - cpu0[i]!, 0);
  console.log(`ingest-cluster ${label.padEnd(22)} ${N} msgs stored in ${s.toFixed(1)} s = ${(N / s).toFixed(0).padStart(5)} msg/s (publishers done in ${(pubMs / 1000).toFixed(1)} s); hub CPU ${((cpu * 1e6) / N).toFixed(0)} µs/msg; machine load ${loadavg()[0]!.toFixed(1)} (1 min)`);
  return { hubs, db: db.client, stopBroker: () => broker?.stop() ?? Promise.resolve() };
}

try {
  // BENCH_HUBS=1,2 runs only those (embedded = the embedded-broker baseline).
  const only = process.env.BENCH_HUBS?.split(',');
  for (const k of (['embedded', 1, 2, 3] as const).filter((x) => !only || only.includes(String(x)))) {
    const label = k === 'embedded' ? 'embedded broker, 1 hub' : `Mosquitto, ${k} hub${k > 1 ? 's' : ''}`;
    const r = await run(label, k);
    if (k === 2) {
      // Takeover: kill the hub holding t1, time until every site of it is held by the other.
      const before = await siteOwners(r.db);
      const victim = r.hubs.find((h) => h.hubId === before.get('t1'))!;
      const theirs = [...before].filter(([, h]) => h === victim.hubId).map(([s]) => s);
      const t0 = Date.now();
      await victim.kill('SIGKILL');
      await until(async () => { const now = await siteOwners(r.db); return theirs.every((s) => now.get(s) && now.get(s) !== victim.hubId); }, 30_000, 20);
      console.log(`ingest-cluster takeover: ${theirs.length} site(s) of a SIGKILLed hub owned by the other ${Date.now() - t0} ms later (LEASE_POLL_MS=500); machine load ${loadavg()[0]!.toFixed(1)}`);
    }
    await Promise.all(r.hubs.map((h) => h.kill('SIGTERM')));
    await r.db.end();
    await r.stopBroker();
  }
} finally {
  await cluster.stop();
}
