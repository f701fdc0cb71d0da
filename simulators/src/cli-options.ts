/*
 * The simulator's command line as data: parses and checks argv into a command, without I/O, so
 * a bad flag fails before anything is built or connected.
 */
import { parseArgs } from 'node:util';
import { SIZES, type CommunitySize } from './community.ts';
import type { DeviceCounts } from './fit-counts.ts';
import { SCENARIO_NAMES } from './scenarios.ts';
import type { SimulatorOptions } from './simulator.ts';

export const HELP = `Shaobing device simulator — a seeded community publishing over MQTT.

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

/** A flag the user got wrong: printed with a hint, exit code 2. */
export class UsageError extends Error {}

/** What to simulate: a generated community or an existing site file. */
export type CommunitySource =
  | { kind: 'generated'; seed: string; size: CommunitySize; siteId: string; counts?: DeviceCounts }
  | { kind: 'file'; path: string; seed: string };

export type RunOptions = Omit<SimulatorOptions, 'siteFile' | 'credentials' | 'log'>;
export type CliCommand = { kind: 'help' } | { kind: 'list-scenarios' } | { kind: 'run'; community: CommunitySource; sim: RunOptions };

function num(name: string, v: string | undefined, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number in [${min}, ${max}], got "${v}"`);
  return n;
}

/** Epoch ms of today's HH:MM in Beijing. */
export function clockToMs(hhmm: string, now = Date.now()): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new UsageError(`--clock must be HH:MM, got "${hhmm}"`);
  const day = 86_400_000;
  const beijingMidnight = Math.floor((now + 8 * 3_600_000) / day) * day - 8 * 3_600_000;
  return beijingMidnight + Number(m[1]) * 3_600_000 + Number(m[2]) * 60_000;
}

const COUNT_FLAGS = ['cameras', 'door-units', 'bins', 'charger-posts', 'charger-ports'] as const;

export function parseCli(args: string[]): CliCommand {
  const { values: a } = parseArgs({
    args,
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
  if (a.help) return { kind: 'help' };
  if (a['list-scenarios']) return { kind: 'list-scenarios' };
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
  const count = (name: (typeof COUNT_FLAGS)[number]): number | undefined =>
    a[name] === undefined ? undefined : Math.round(num(name, a[name], 0, 1e6, 0));
  const counts: DeviceCounts = { cameras: count('cameras'), doorUnits: count('door-units'), bins: count('bins'), chargerPosts: count('charger-posts'), chargerPorts: count('charger-ports') };
  const anyCount = Object.values(counts).some((v) => v !== undefined);
  if (anyCount && a['site-file']) throw new UsageError('device counts apply to a generated community, not to --site-file');
  const community: CommunitySource = a['site-file']
    ? { kind: 'file', path: a['site-file'], seed: a.seed }
    : { kind: 'generated', seed: a.seed, size: a.size as CommunitySize, siteId: a['site-id'], ...(anyCount ? { counts } : {}) };
  return {
    kind: 'run',
    community,
    sim: {
      url: a.url, seed: a.seed,
      ratePerSec: num('rate', a.rate, 0.01, 1e7, 50),
      qos: a.qos === '0' ? 0 : 1,
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
    },
  };
}
