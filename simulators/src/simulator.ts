/*
 * The simulator as a library (tests, benchmarks, the hub's --with-simulator demo): the thin I/O
 * driver around the pure FleetScheduler (fleet-scheduler.ts). It builds the fleet, connects it,
 * ticks the scheduler on a timer and publishes what it says; scenarios run on real time.
 */
import type { SiteFile } from '@shaobing/schemas';
import { buildFleet, statusEmit, type SimDevice } from './fleet-build.ts';
import { connectAll, type FleetCounters, type Link } from './fleet.ts';
import { FleetScheduler, TICK_MS, type Said } from './fleet-scheduler.ts';
import type { Emit } from './profiles/index.ts';
import { Publisher } from './publisher.ts';
import { Rng } from './random.ts';
import { ScenarioRunner } from './scenario-runner.ts';

export type { SimDevice } from './fleet-build.ts';

export interface SimulatorOptions {
  url: string;
  siteFile: SiteFile;
  credentials: Map<string, string>;
  /** Total messages per second across the fleet (scenario traffic comes on top). */
  ratePerSec: number;
  qos?: 0 | 1;
  mode?: 'devices' | 'gateways';
  scenarios?: string[];
  /** Share (0..1) of extra malformed/hostile messages mixed into the stream. */
  malformedShare?: number;
  durationMs?: number;
  maxMessages?: number;
  log?: (line: string) => void;
  connectConcurrency?: number;
  /** Seed of device behaviour (and scenario targets); default 'shaobing-demo'. */
  seed?: string;
  /** Simulated start time (epoch ms); default now. Sets the hour of day of the rhythms. */
  simStartMs?: number;
  /** Multiplies every scenario duration; default 1 (real rule timings). */
  scenarioTimeScale?: number;
  scenarioParams?: Record<string, Record<string, number>>;
  scenarioDelayMs?: number;
  /** Replay every scenario this long after it finished (on another device); default never. */
  scenarioRepeatMs?: number;
  /** Publish a retained {online:false} before a clean stop; default true. */
  announceOffline?: boolean;
  /** Stops the fleet when aborted, also while it is still connecting (a signal at start-up). */
  signal?: AbortSignal;
}

export interface SimulatorStats extends FleetCounters { links: number; simTime: number; timeScale: number }
export interface Simulator {
  stop(): Promise<void>;
  stats(): SimulatorStats;
  /** Resolves once stopped (by stop(), durationMs or maxMessages). */
  finished: Promise<void>;
}

const clock = (): number => performance.now();

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  if (!(opts.ratePerSec > 0)) throw new Error('ratePerSec must be > 0');
  const log = opts.log ?? (() => {});
  const mode = opts.mode ?? 'devices';
  const seed = opts.seed ?? 'shaobing-demo';
  const counters: FleetCounters = { sent: 0, acked: 0, failed: 0, rejectedConnects: 0, malformed: 0, connected: 0 };
  const nonce = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  const simStartMs = opts.simStartMs ?? Date.now();
  const fleet = buildFleet({
    url: opts.url, siteFile: opts.siteFile, credentials: opts.credentials, qos: opts.qos ?? 0, mode, seed, nonce, simStartMs, counters, log,
    onConnect: (link) => announce(link),
    onReady: (link) => scheduler.linkReady(link),
  });
  const { devices, links, served } = fleet;
  const mixRng = new Rng(`${seed}/malformed`);
  const scheduler = new FleetScheduler<SimDevice>({ ratePerSec: opts.ratePerSec, naturalRatePerSec: fleet.naturalRatePerSec, simStartMs, clock, malformedShare: opts.malformedShare, rng: mixRng });
  const publisher = new Publisher({ nonce, links, rng: mixRng, clock, log });
  for (const d of devices.values()) scheduler.add(d);
  log(`fleet: ${devices.size} devices over ${links.size} MQTT clients (${mode} mode)${fleet.skipped ? `, ${fleet.skipped} without credentials skipped` : ''}; natural rate ${fleet.naturalRatePerSec.toFixed(1)} msg/s → time ×${scheduler.timeScale.toFixed(1)}`);

  const publish = (said: Said<SimDevice>[]): void => {
    for (const s of said) if (s.kind === 'emit') publisher.emit(s.device, s.emit); else publisher.malformed(s.device);
  };
  /** A message the scheduler did not decide (status, scenario step). */
  const sendOwn = (d: SimDevice, e: Emit): void => { scheduler.sent(d, e); publisher.emit(d, e); };
  // Retained {online:true} on every (re)connect; a gateway sends its devices' statuses as a batch.
  function announce(link: Link): void {
    for (const d of served.get(link) ?? []) if (!d.takenOver) sendOwn(d, statusEmit(d, true));
    publisher.flush(link);
  }

  const scenarios = new ScenarioRunner({
    names: opts.scenarios ?? [], site: opts.siteFile.sites[0]!, seed, mode, log,
    timeScale: opts.scenarioTimeScale ?? 1, params: opts.scenarioParams ?? {},
    delayMs: opts.scenarioDelayMs ?? 1000, repeatMs: opts.scenarioRepeatMs,
    device: (site, id) => devices.get(`${site.id}/${id}`),
    emit: sendOwn,
    raw: (raw, site) => publisher.raw(raw, site),
  });

  const limit = opts.maxMessages ?? Number.POSITIVE_INFINITY;
  let stopped = false;
  // More work than one slice: continue right after pending I/O instead of waiting a full tick.
  let immediate: NodeJS.Immediate | undefined;
  const tick = (): void => {
    if (stopped) return;
    scenarios.run(clock());
    const slice = scheduler.tick(limit - counters.sent);
    publish(slice.said);
    if (slice.more) immediate ??= setImmediate(() => { immediate = undefined; tick(); });
    publisher.flushDue();
    if (counters.sent >= limit) void stop();
  };

  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => { resolveFinished = r; });
  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      stopped = true;
      clearInterval(timer);
      clearTimeout(durationTimer);
      if (immediate) clearImmediate(immediate);
      publish(scheduler.drain());
      if (opts.announceOffline ?? true) for (const d of devices.values()) if (d.link.connected && !d.link.suspended) publisher.emit(d, statusEmit(d, false));
      publisher.flushDue(true);
      await Promise.all([...links.values()].map((l) => l.end()));
      log(`stopped: sent ${counters.sent}, acked ${counters.acked}, failed ${counters.failed}`);
      resolveFinished();
    })();
    return stopping;
  }

  const timer = setInterval(tick, TICK_MS);
  const durationTimer = opts.durationMs === undefined ? undefined : setTimeout(() => void stop(), opts.durationMs);
  if (opts.signal?.aborted) void stop();
  else opts.signal?.addEventListener('abort', () => void stop(), { once: true });
  await connectAll([...links.values()], opts.connectConcurrency ?? 50, () => stopped);
  log(`connected ${counters.connected}/${links.size} clients${counters.rejectedConnects ? `, ${counters.rejectedConnects} refused` : ''}`);
  if (!stopped) scenarios.start(clock());

  return {
    stop,
    finished,
    stats: () => ({ ...counters, links: links.size, simTime: scheduler.simTime, timeScale: scheduler.timeScale }),
  };
}
