/*
 * npm run sim -- --url mqtt://127.0.0.1:1883 --size demo --rate 50 --scenario bin-overflow
 * Builds (or loads) a community, connects it over MQTT and publishes until stopped.
 * The flags are parsed in cli-options.ts; this file only runs the command.
 */
import { readFile } from 'node:fs/promises';
import { SiteFile, Validator, formatIssues, type SiteFile as SiteFileT } from '@shaobing/schemas';
import { parse as parseYaml } from 'yaml';
import { HELP, UsageError, parseCli, type CommunitySource, type RunOptions } from './cli-options.ts';
import { buildCommunity, buildSite, deriveCredentials, type BuiltCommunity } from './community.ts';
import { SCENARIO_NAMES, planScenario } from './scenarios.ts';
import { startSimulator, type Simulator } from './simulator.ts';

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

async function loadCommunity(source: CommunitySource): Promise<BuiltCommunity> {
  try {
    if (source.kind === 'file') {
      const siteFile = await loadSiteFile(source.path);
      return { siteFile, credentials: deriveCredentials(siteFile, source.seed) };
    }
    return await buildCommunity(source);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
}

function listScenarios(): void {
  const site = buildSite('list', 'small', 'list');
  for (const name of SCENARIO_NAMES) console.log(`${name.padEnd(28)} ${planScenario(name, { site, seed: 'list', timeScale: 1 }).description}`);
}

/** One status line a second: connections, traffic, simulated clock and the simulator's own CPU. */
function showProgress(sim: Simulator): () => void {
  let lastSent = sim.stats().sent;
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  const tty = process.stdout.isTTY;
  const timer = setInterval(() => {
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
  return () => clearInterval(timer);
}

async function run(community: CommunitySource, options: RunOptions): Promise<number> {
  const { siteFile, credentials } = await loadCommunity(community);
  const fleet = siteFile.sites[0]!.devices;
  const n = (f: string) => fleet.filter((d) => d.family === f).length;
  console.log(`[sim] community: ${n('camera')} cameras, ${n('door')} units with door access, ${n('bin')} bins, ${n('charger')} charging posts with ${fleet.reduce((p, d) => p + (d.ports ?? 0), 0)} ports`);
  if (credentials.size === 0) throw new UsageError(`no device or gateway secret in the site file derives from seed "${community.seed}"`);

  const started = Date.now();
  const cpuAtStart = process.cpuUsage();
  // Listening before the connect phase (minutes for a street's fleet): a signal then disconnects
  // what has connected instead of killing the process with its sockets open.
  const abort = new AbortController();
  const onSignal = (sig: string): void => { console.log(`\n[sim] ${sig}: disconnecting…`); abort.abort(); };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  const sim = await startSimulator({ ...options, siteFile, credentials, signal: abort.signal, log: (line) => console.log(`\r[sim] ${line}`) });
  const first = sim.stats();
  // Nothing connected and nothing sent (a --duration shorter than the connect phase is not fatal).
  if (first.connected === 0 && first.sent === 0 && !abort.signal.aborted) {
    await sim.stop();
    console.error(first.rejectedConnects > 0
      ? `fatal: the broker at ${options.url} refused all ${first.rejectedConnects} clients (wrong --seed or site file?)`
      : `fatal: cannot connect to ${options.url}`);
    return 1;
  }
  const stopProgress = showProgress(sim);
  await sim.finished;
  stopProgress();
  const s = sim.stats();
  const secs = (Date.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  console.log(`\ntotals: sent ${s.sent}, acked ${s.acked}, failed ${s.failed}, refused connects ${s.rejectedConnects}, malformed ${s.malformed}; ${secs.toFixed(1)} s, ${(s.sent / secs).toFixed(0)} msg/s; ${capacity((cpu.user + cpu.system) / 1000 / (secs * 1000), s.sent / secs)}`);
  return 0;
}

async function main(): Promise<number> {
  const command = parseCli(process.argv.slice(2));
  if (command.kind === 'help') { console.log(HELP); return 0; }
  if (command.kind === 'list-scenarios') { listScenarios(); return 0; }
  return run(command.community, command.sim);
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
