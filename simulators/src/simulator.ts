/*
 * The simulator as a library (tests, benchmarks, the hub's --with-simulator demo).
 * Devices live in simulated time; a scheduler pops the device that speaks next and advances
 * the simulated clock only as fast as the requested message rate allows, so `ratePerSec` is
 * met exactly and daily rhythms stay intact at any speed. Scenarios run on real time.
 */
import { MAX_BATCH_ITEMS, channelOfType, deviceTopic, gatewayBatchTopic, type BatchItem, type Device, type Site, type SiteFile } from '@shaobing/schemas';
import { principal } from './community.ts';
import { Link, connectAll, type FleetCounters } from './fleet.ts';
import { MinHeap } from './heap.ts';
import { MIXED_WEIGHTS, kindFitsSender, malformedMessage, type MalformedKind, type RawMessage } from './malformed.ts';
import { PROFILES, type DeviceModel, type Emit, type Profile } from './profiles/index.ts';
import { Rng } from './random.ts';
import { ScenarioRunner } from './scenario-runner.ts';

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
}

export interface SimulatorStats extends FleetCounters { links: number; simTime: number; timeScale: number }
export interface Simulator {
  stop(): Promise<void>;
  stats(): SimulatorStats;
  /** Resolves once stopped (by stop(), durationMs or maxMessages). */
  finished: Promise<void>;
}

export interface SimDevice {
  site: Site;
  device: Device;
  profile: Profile;
  model: DeviceModel;
  link: Link;
  counter: number;
  takenOver: boolean;
  key: number;
}

const TICK_MS = 10;
const BATCH_FLUSH_MS = 100;
const BATCH_MAX = 200;

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  if (!(opts.ratePerSec > 0)) throw new Error('ratePerSec must be > 0');
  const log = opts.log ?? (() => {});
  const qos = opts.qos ?? 0;
  const mode = opts.mode ?? 'devices';
  const seed = opts.seed ?? 'shaobing-demo';
  const share = Math.min(0.9, Math.max(0, opts.malformedShare ?? 0));
  const counters: FleetCounters = { sent: 0, acked: 0, failed: 0, rejectedConnects: 0, malformed: 0, connected: 0 };
  const nonce = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  const mixRng = new Rng(`${seed}/malformed`);
  const heap = new MinHeap<SimDevice>();
  /** Follow-ups (Emit.then) due at a real time (performance.now()). */
  const followUps = new MinHeap<{ d: SimDevice; emit: Emit }>();
  const parked = new Map<Link, SimDevice[]>();
  const links = new Map<string, Link>();
  const devices = new Map<string, SimDevice>();
  const batches = new Map<Link, { items: BatchItem[]; since: number }>();
  const served = new Map<Link, SimDevice[]>();
  let simNow = opts.simStartMs ?? Date.now();
  let stopped = false;
  let naturalRate = 0;

  const linkFor = (kind: 'device' | 'gateway', site: Site, id: string, will?: { topic: string; payload: string }): Link | undefined => {
    const key = `${kind}:${site.id}/${id}`;
    const existing = links.get(key);
    if (existing) return existing;
    const password = opts.credentials.get(principal(site.id, id));
    if (password === undefined) return undefined;
    const link = new Link({
      url: opts.url, kind, siteId: site.id, id, username: principal(site.id, id), password, qos,
      maxInflight: qos === 1 ? 64 : 256, counters, log, will, onConnect: announce, onReady: unpark,
    });
    links.set(key, link);
    return link;
  };
  const envelope = (d: SimDevice, e: Emit): { id: string; ts: string; type: string; data: Record<string, unknown> } =>
    ({ id: `${nonce}-${++d.counter}`, ts: new Date().toISOString(), type: e.type, data: e.data });
  const statusEmit = (d: SimDevice, online: boolean): Emit =>
    ({ type: `${d.device.family}.status` as Emit['type'], data: online ? { online, firmware: d.profile.firmware } : { online } });

  // Build the fleet: own link for devices with credentials (devices mode), else a gateway.
  for (const site of opts.siteFile.sites) {
    const rest = site.gateways.find((g) => !site.devices.some((d) => d.gatewayId === g.id)) ?? site.gateways[0];
    for (const device of site.devices) {
      const profile = PROFILES[device.family];
      const sd = { site, device, profile, counter: 0, takenOver: false, key: 0 } as SimDevice;
      const willTopic = deviceTopic(site.id, device.family, device.id, 'status');
      const own = mode === 'devices' && device.secretHash && !device.gatewayId
        ? linkFor('device', site, device.id, { topic: willTopic, payload: JSON.stringify({ id: `${nonce}-will`, ts: new Date().toISOString(), ...statusEmit(sd, false) }) })
        : undefined;
      const gwId = device.gatewayId ?? rest?.id;
      const link = own ?? (gwId ? linkFor('gateway', site, gwId) : undefined);
      if (!link) continue;
      sd.link = link;
      sd.model = profile.create(device, new Rng(`${seed}/device/${site.id}/${device.id}`), simNow);
      sd.key = sd.model.nextAt;
      devices.set(`${site.id}/${device.id}`, sd);
      if (!served.has(link)) served.set(link, []);
      served.get(link)!.push(sd);
      naturalRate += profile.meanRatePerSec(device);
      park(sd);
    }
    for (const g of site.gateways) linkFor('gateway', site, g.id); // idle gateways still connect (malformed traffic uses them)
  }
  // A gateway's Last Will marks the devices behind it offline (the topic grammar has no gateway status).
  for (const [link, list] of served) {
    if (link.kind !== 'gateway' || list.length > MAX_BATCH_ITEMS) continue;
    const items = list.filter((d) => d.device.gatewayId === link.id).map((d) => ({ deviceId: d.device.id, id: `${nonce}-will`, ts: Date.now(), ...statusEmit(d, false) }));
    if (items.length > 0) link.opts.will = { topic: gatewayBatchTopic(link.opts.siteId, link.id), payload: JSON.stringify(items) };
  }
  const skipped = opts.siteFile.sites.reduce((n, s) => n + s.devices.length, 0) - devices.size;
  log(`fleet: ${devices.size} devices over ${links.size} MQTT clients (${mode} mode)${skipped ? `, ${skipped} without credentials skipped` : ''}; natural rate ${naturalRate.toFixed(1)} msg/s → time ×${(opts.ratePerSec / Math.max(naturalRate, 1e-9)).toFixed(1)}`);

  function park(d: SimDevice): void {
    const list = parked.get(d.link) ?? [];
    list.push(d);
    parked.set(d.link, list);
  }
  function unpark(link: Link): void {
    const list = parked.get(link);
    if (!list || !link.ready) return;
    parked.delete(link);
    for (const d of list) {
      // What a disconnected device "said" long ago is lost, as it would be on a real device.
      if (d.key < simNow - 60_000) { d.model.step(simNow); d.key = d.model.nextAt; }
      heap.push(d.key, d);
    }
  }
  // Retained {online:true} on every (re)connect; a gateway sends its devices' statuses as a batch.
  function announce(link: Link): void {
    for (const d of served.get(link) ?? []) if (!d.takenOver) publishEmit(d, statusEmit(d, true));
    flush(link);
  }

  function publishEmit(d: SimDevice, e: Emit): void {
    if (e.then) followUps.push(performance.now() + e.then.afterMs, { d, emit: e.then.emit });
    const env = envelope(d, e);
    if (d.link.kind === 'device') {
      const channel = channelOfType(e.type);
      d.link.publish(deviceTopic(d.site.id, d.device.family, d.device.id, channel), JSON.stringify(env), 1, channel === 'status' ? { retain: true, qos: 1 } : {});
      return;
    }
    let batch = batches.get(d.link);
    if (!batch) { batch = { items: [], since: performance.now() }; batches.set(d.link, batch); }
    batch.items.push({ deviceId: d.device.id, id: env.id, ts: Date.now(), type: env.type, data: env.data });
    if (batch.items.length >= BATCH_MAX) flush(d.link);
  }
  function flush(link: Link): void {
    const batch = batches.get(link);
    if (!batch || batch.items.length === 0) return;
    batches.delete(link);
    for (let i = 0; i < batch.items.length; i += MAX_BATCH_ITEMS) {
      const chunk = batch.items.slice(i, i + MAX_BATCH_ITEMS);
      link.publish(gatewayBatchTopic(link.opts.siteId, link.id), JSON.stringify(chunk), chunk.length);
    }
  }
  function publishRaw(raw: RawMessage, site: Site): void {
    const link = links.get(`${raw.via.kind}:${site.id}/${raw.via.id}`);
    if (!link) { log(`no client for ${raw.via.kind} ${raw.via.id}: ${raw.kind} not sent`); return; }
    // QoS 0 always: a QoS 1 publish the hub answers by closing the connection would be
    // redelivered by mqtt.js on every reconnect, forever.
    link.publish(raw.topic, raw.payload, 1, { malformed: true, qos: 0 });
  }
  function mixMalformed(d: SimDevice): void {
    const senderKind = d.link.kind;
    const kind: MalformedKind = mixRng.weighted(MIXED_WEIGHTS.filter(([k]) => kindFitsSender(k, senderKind)));
    const other = d.site.devices[mixRng.int(0, d.site.devices.length - 1)]!;
    const sender = senderKind === 'device' ? { kind: 'device' as const, siteId: d.site.id, device: d.device } : { kind: 'gateway' as const, siteId: d.site.id, gatewayId: d.link.id, device: d.device };
    publishRaw(malformedMessage(kind, sender, other, `${nonce}-x${++d.counter}`, mixRng), d.site);
  }

  const scenarios = new ScenarioRunner({
    names: opts.scenarios ?? [], site: opts.siteFile.sites[0]!, seed, mode, log,
    timeScale: opts.scenarioTimeScale ?? 1, params: opts.scenarioParams ?? {},
    delayMs: opts.scenarioDelayMs ?? 1000, repeatMs: opts.scenarioRepeatMs,
    device: (site, id) => devices.get(`${site.id}/${id}`),
    emit: (d, e) => publishEmit(d, e),
    raw: publishRaw,
  });

  let budget = 0;
  let last = performance.now();
  // The clock fills the rate budget, but may not outrun the mean time scale by more than this:
  // otherwise the few devices connected first would race through the day while the rest connect.
  const MAX_CLOCK_LEAD = 4;
  const timeScale = opts.ratePerSec / Math.max(naturalRate, 1e-9);
  const simStart = simNow;
  const realStart = last;
  const limit = opts.maxMessages ?? Number.POSITIVE_INFINITY;
  // More work than one slice: continue right after pending I/O instead of waiting a full tick.
  let immediate: NodeJS.Immediate | undefined;
  const again = (): void => { immediate ??= setImmediate(() => { immediate = undefined; tick(); }); };
  const tick = (): void => {
    if (stopped) return;
    const now = performance.now();
    budget = Math.min(budget + (opts.ratePerSec * (now - last)) / 1000, Math.max(opts.ratePerSec * 0.25, 2));
    last = now;
    scenarios.run(now);
    runFollowUps(now, false);
    // Pops that say nothing (silenced devices, quiet agenda items) still end; busy ones loop freely.
    let guard = 4 * (heap.size + Math.ceil(budget)) + 16;
    const simLimit = simStart + (now - realStart) * timeScale * MAX_CLOCK_LEAD;
    let n = 0;
    while (budget >= 1 && heap.peekKey() <= simLimit && guard-- > 0 && counters.sent < limit) {
      // Yield to I/O after a few ms, so acks, connects and timers keep flowing at any rate.
      if ((++n & 63) === 0 && performance.now() - now > TICK_MS) { again(); break; }
      const d = heap.pop()!;
      if (!d.link.ready) { park(d); continue; }
      simNow = Math.max(simNow, d.key);
      const emits = d.model.step(simNow);
      d.key = d.model.nextAt;
      heap.push(d.key, d);
      if (d.takenOver) continue;
      for (const e of emits) {
        publishEmit(d, e);
        budget--;
        if (share > 0 && mixRng.chance(share / (1 - share))) { mixMalformed(d); budget--; }
      }
    }
    for (const [link, batch] of batches) if (now - batch.since >= BATCH_FLUSH_MS) flush(link);
    if (counters.sent >= limit) void stop();
  };

  /**
   * Sends follow-ups that are due (all of them at stop: no door is left open). A device a
   * scenario took over in the meantime says nothing: the scenario decides (it may hold the
   * door open). A link that is not ready delays the follow-up, it never drops it.
   */
  function runFollowUps(now: number, all: boolean): void {
    const later: { d: SimDevice; emit: Emit }[] = [];
    while (followUps.size > 0 && (all || followUps.peekKey() <= now)) {
      const f = followUps.pop()!;
      if (f.d.takenOver) continue;
      if (!all && !f.d.link.ready) { later.push(f); continue; }
      if (f.d.link.connected) { publishEmit(f.d, f.emit); budget--; }
    }
    for (const f of later) followUps.push(now + 250, f);
  }

  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => { resolveFinished = r; });
  let timer: NodeJS.Timeout | undefined;
  let durationTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      stopped = true;
      clearInterval(timer);
      clearTimeout(durationTimer);
      if (immediate) clearImmediate(immediate);
      runFollowUps(performance.now(), true);
      if (opts.announceOffline ?? true) for (const d of devices.values()) if (d.link.connected && !d.link.suspended) publishEmit(d, statusEmit(d, false));
      for (const link of [...batches.keys()]) flush(link);
      await Promise.all([...links.values()].map((l) => l.end()));
      log(`stopped: sent ${counters.sent}, acked ${counters.acked}, failed ${counters.failed}`);
      resolveFinished();
    })();
    return stopping;
  }

  timer = setInterval(tick, TICK_MS);
  if (opts.durationMs !== undefined) durationTimer = setTimeout(() => void stop(), opts.durationMs);
  await connectAll([...links.values()], opts.connectConcurrency ?? 50, () => stopped);
  log(`connected ${counters.connected}/${links.size} clients${counters.rejectedConnects ? `, ${counters.rejectedConnects} refused` : ''}`);
  if (!stopped) scenarios.start(performance.now());

  return {
    stop,
    finished,
    stats: () => ({ ...counters, links: links.size, simTime: simNow, timeScale }),
  };
}
