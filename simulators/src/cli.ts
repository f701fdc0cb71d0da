/*
 * npm run sim -- --url mqtt://127.0.0.1:1883 --size demo --rate 50 --scenario bin-overflow
 * Builds (or loads) a community, connects it over MQTT and publishes until stopped.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SiteFile, Validator, formatIssues, type SiteFile as SiteFileT } from '@shaobing/schemas';
import { parse as parseYaml } from 'yaml';
import { SIZES, buildCommunity, buildSite, deriveCredentials, type CommunitySize } from './community.ts';
import type { DeviceCounts } from './fit-counts.ts';
import { SCENARIO_NAMES, planScenario } from './scenarios.ts';
import { startSimulator, type Simulator } from './simulator.ts';

const HELP = `Shaobing device simulator — a seeded community publishing over MQTT.

Usage: npm run sim -- [options]

  --url <url>              broker (default mqtt://127.0.0.1:1883)
  --seed <text>            community and behaviour seed (default shaobing-demo)
  --size <size>            small | demo | street | seeds (~25 / ~150 / ~10k devices; seeds: the
                           source articles' street: 847 cameras, door access in 72 units,
                           7,300 charging ports; default demo)
  --cameras <n>            exact counts on top of --size (a spread subset, or extra devices):
  --door-units <n>           cameras, units with door access, bins, charging posts,
  --bins <n>                 and charging ports over all posts
  --charger-posts <n>
  --charger-ports <n>
  --site-id <id>           site id of a generated community (default demo)
  --site-file <path>       simulate an existing site file (.json/.yaml); device passwords are
                           derived from --seed, devices with other secrets are skipped
  --rate <msg/s>           messages per second across the fleet (default 50)
  --qos <0|1>              (default 1)
  --mode <mode>            devices (one client per device) | gateways (JSON batches; default devices)
  --scenario <name>        play a scenario; repeatable. --list-scenarios to see them
  --scenario-time-scale <f> multiply scenario durations (0.01: 2 min → 1.2 s; default 1)
  --scenario-param <s.k=v> override a scenario parameter, e.g. bin-overflow.sustainMs=60000
  --scenario-repeat <s>    replay scenarios this many seconds after they end (default: once)
  --malformed <share>      extra share 0..0.9 of malformed/hostile messages (default 0)
  --duration <s>           stop after this many seconds (default: until Ctrl-C)
  --max-messages <n>       stop after this many messages
  --connect-concurrency <n> CONNECTs in flight at once (default 50)
  --clock <HH:MM>          simulated time of day to start at, Beijing time (default now)
  --list-scenarios         print the scenarios and exit
  -h, --help               this text

Demo operators in generated site files: admin/admin123, supervisor/super123,
dispatcher/dispatch123, viewer/viewer123.`;

class UsageError extends Error {}

function num(name: string, v: string | undefined, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number in [${min}, ${max}], got "${v}"`);
  return n;
}

function clockToMs(hhmm: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new UsageError(`--clock must be HH:MM, got "${hhmm}"`);
  const day = 86_400_000;
  const beijingMidnight = Math.floor((Date.now() + 8 * 3_600_000) / day) * day - 8 * 3_600_000;
  return beijingMidnight + Number(m[1]) * 3_600_000 + Number(m[2]) * 60_000;
}

/**
 * The simulator's own limit, so a benchmark knows when the load generator is the bottleneck:
 * this process's CPU (share of one core; Node publishes from one thread) and the rate it could
 * reach at a full core. Near 100 %, the figures measure the simulator, not the broker.
 */
function capacity(coreShare: number, msgPerS: number): string {
  const pct = Math.round(coreShare * 100);
  const cap = coreShare > 0.01 ? Math.round(msgPerS / coreShare) : NaN;
  return `sim CPU ${pct} %${Number.isFinite(cap) && msgPerS > 0 ? `, capacity ≈ ${cap.toLocaleString('en')} msg/s` : ''}${pct >= 90 ? ' (simulator-bound!)' : ''}`;
}

async function loadSiteFile(path: string): Promise<SiteFileT> {
  const text = await readFile(path, 'utf8');
  const data: unknown = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  const result = new Validator(SiteFile).validate(data);
  if (!result.ok) throw new UsageError(`${path} is not a valid site file: ${formatIssues(result.issues)}`);
  return result.value;
}

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    options: {
      url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      seed: { type: 'string', default: 'shaobing-demo' },
      size: { type: 'string', default: 'demo' },
      'site-id': { type: 'string', default: 'demo' },
      'site-file': { type: 'string' },
      rate: { type: 'string' },
      qos: { type: 'string', default: '1' },
      mode: { type: 'string', default: 'devices' },
      scenario: { type: 'string', multiple: true, default: [] },
      'scenario-time-scale': { type: 'string' },
      'scenario-param': { type: 'string', multiple: true, default: [] },
      'scenario-repeat': { type: 'string' },
      malformed: { type: 'string' },
      duration: { type: 'string' },
      'max-messages': { type: 'string' },
      'connect-concurrency': { type: 'string' },
      clock: { type: 'string' },
      cameras: { type: 'string' },
      'door-units': { type: 'string' },
      bins: { type: 'string' },
      'charger-posts': { type: 'string' },
      'charger-ports': { type: 'string' },
      'list-scenarios': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (a.help) { console.log(HELP); return 0; }
  if (a['list-scenarios']) {
    const site = buildSite('list', 'small', 'list');
    for (const name of SCENARIO_NAMES) {
      console.log(`${name.padEnd(28)} ${planScenario(name, { site, seed: 'list', timeScale: 1 }).description}`);
    }
    return 0;
  }
  if (!/^mqtts?:\/\/|^wss?:\/\//.test(a.url)) throw new UsageError(`--url must be mqtt://, mqtts://, ws:// or wss://, got "${a.url}"`);
  if (!(SIZES as readonly string[]).includes(a.size)) throw new UsageError(`--size must be one of ${SIZES.join(', ')}`);
  if (a.mode !== 'devices' && a.mode !== 'gateways') throw new UsageError('--mode must be devices or gateways');
  if (a.qos !== '0' && a.qos !== '1') throw new UsageError('--qos must be 0 or 1');
  for (const s of a.scenario) if (!(SCENARIO_NAMES as readonly string[]).includes(s)) throw new UsageError(`unknown scenario "${s}"; known: ${SCENARIO_NAMES.join(', ')}`);
  const scenarioParams: Record<string, Record<string, number>> = {};
  for (const p of a['scenario-param']) {
    const m = /^([a-z-]+)\.([A-Za-z]+)=(-?[\d.]+)$/.exec(p);
    if (!m) throw new UsageError(`--scenario-param must look like bin-overflow.sustainMs=60000, got "${p}"`);
    (scenarioParams[m[1]!] ??= {})[m[2]!] = Number(m[3]);
  }
  const durationS = a.duration === undefined ? undefined : num('duration', a.duration, 0.1, 1e7, 0);

  const count = (name: 'cameras' | 'door-units' | 'bins' | 'charger-posts' | 'charger-ports'): number | undefined =>
    a[name] === undefined ? undefined : Math.round(num(name, a[name], 0, 1e6, 0));
  const counts: DeviceCounts = { cameras: count('cameras'), doorUnits: count('door-units'), bins: count('bins'), chargerPosts: count('charger-posts'), chargerPorts: count('charger-ports') };
  const anyCount = Object.values(counts).some((v) => v !== undefined);
  if (anyCount && a['site-file']) throw new UsageError('device counts apply to a generated community, not to --site-file');
  let built;
  try {
    built = a['site-file']
      ? await loadSiteFile(a['site-file']).then((sf) => ({ siteFile: sf, credentials: deriveCredentials(sf, a.seed) }))
      : await buildCommunity({ seed: a.seed, size: a.size as CommunitySize, siteId: a['site-id'], ...(anyCount ? { counts } : {}) });
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
  const { siteFile, credentials } = built;
  const fleet = siteFile.sites[0]!.devices;
  const n = (f: string) => fleet.filter((d) => d.family === f).length;
  console.log(`[sim] community: ${n('camera')} cameras, ${n('door')} units with door access, ${n('bin')} bins, ${n('charger')} charging posts with ${fleet.reduce((p, d) => p + (d.ports ?? 0), 0)} ports`);
  if (credentials.size === 0) throw new UsageError(`no device or gateway secret in the site file derives from seed "${a.seed}"`);

  const started = Date.now();
  const cpuAtStart = process.cpuUsage();
  const sim: Simulator = await startSimulator({
    url: a.url, siteFile, credentials, seed: a.seed,
    ratePerSec: num('rate', a.rate, 0.01, 1e7, 50),
    qos: Number(a.qos) as 0 | 1,
    mode: a.mode,
    scenarios: a.scenario,
    scenarioTimeScale: num('scenario-time-scale', a['scenario-time-scale'], 1e-6, 1000, 1),
    scenarioParams,
    ...(a['scenario-repeat'] ? { scenarioRepeatMs: num('scenario-repeat', a['scenario-repeat'], 0, 1e7, 0) * 1000 } : {}),
    malformedShare: num('malformed', a.malformed, 0, 0.9, 0),
    ...(durationS !== undefined ? { durationMs: durationS * 1000 } : {}),
    ...(a['max-messages'] ? { maxMessages: num('max-messages', a['max-messages'], 1, 1e12, 0) } : {}),
    connectConcurrency: num('connect-concurrency', a['connect-concurrency'], 1, 10_000, 50),
    ...(a.clock ? { simStartMs: clockToMs(a.clock) } : {}),
    log: (line) => console.log(`\r[sim] ${line}`),
  });

  const first = sim.stats();
  // Nothing connected and nothing sent (a --duration shorter than the connect phase is not fatal).
  if (first.connected === 0 && first.sent === 0) {
    await sim.stop();
    console.error(first.rejectedConnects > 0
      ? `fatal: the broker at ${a.url} refused all ${first.rejectedConnects} clients (wrong --seed or site file?)`
      : `fatal: cannot connect to ${a.url}`);
    return 1;
  }

  let lastSent = first.sent;
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  const tty = process.stdout.isTTY;
  const progress = setInterval(() => {
    const s = sim.stats();
    const clock = new Date(s.simTime + 8 * 3_600_000).toISOString().slice(11, 16);
    const cpu = process.cpuUsage(lastCpu);
    const now = performance.now();
    const share = (cpu.user + cpu.system) / 1000 / (now - lastAt); // of one core
    const perS = ((s.sent - lastSent) * 1000) / (now - lastAt);
    lastCpu = process.cpuUsage();
    lastAt = now;
    const line = `connected ${s.connected}/${s.links} | sent ${s.sent} (${s.sent - lastSent}/s) | acked ${s.acked} | failed ${s.failed} | refused ${s.rejectedConnects} | malformed ${s.malformed} | sim ${clock} ×${s.timeScale.toFixed(0)} | ${capacity(share, perS)}`;
    lastSent = s.sent;
    process.stdout.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
  }, 1000);

  const onSignal = (sig: string): void => { console.log(`\n[sim] ${sig}: disconnecting…`); void sim.stop(); };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  await sim.finished;
  clearInterval(progress);
  const s = sim.stats();
  const secs = (Date.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  console.log(`\ntotals: sent ${s.sent}, acked ${s.acked}, failed ${s.failed}, refused connects ${s.rejectedConnects}, malformed ${s.malformed}; ${secs.toFixed(1)} s, ${(s.sent / secs).toFixed(0)} msg/s; ${capacity((cpu.user + cpu.system) / 1000 / (secs * 1000), s.sent / secs)}`);
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  if (err instanceof UsageError || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
    console.error(`error: ${err.message}\nTry --help.`);
    process.exitCode = 2;
  } else {
    console.error('fatal:', err);
    process.exitCode = 1;
  }
});
