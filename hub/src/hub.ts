import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Health } from '@shaobing/schemas';
import type { Logger } from 'pino';
import { DEMO_SITE_FILE, type HubConfig } from './config.ts';
import { authPlugin } from './api/auth.ts';
import { deadLetterRoutes } from './api/routes/dead-letters.ts';
import { complaintRoutes } from './api/routes/complaints.ts';
import { deviceRoutes } from './api/routes/devices.ts';
import { gridRoutes } from './api/routes/grid.ts';
import { aboutRoutes } from './api/routes/about.ts';
import { registryRoutes } from './api/routes/registry.ts';
import { kpiRoutes } from './api/routes/kpi.ts';
import { reportRoutes } from './api/routes/reports.ts';
import { followUpRoutes } from './api/routes/follow-ups.ts';
import { open311Routes } from './api/routes/open311.ts';
import { FollowUpService } from './follow-up/follow-up-service.ts';
import { insightRoutes } from './api/routes/insights.ts';
import { InsightsService } from './kpi/insights-service.ts';
import { ticketRoutes } from './api/routes/tickets.ts';
import { attachmentRoutes } from './api/routes/attachments.ts';
import { ticketDeviceRoutes } from './api/routes/ticket-device.ts';
import { eventsRoutes } from './api/routes/events.ts';
import { healthRoutes } from './api/routes/health.ts';
import { ruleRoutes } from './api/routes/rules.ts';
import { statsRoutes } from './api/routes/stats.ts';
import { LiveFeed, livePlugin } from './live/index.ts';
import { ClusterLiveSource } from './live/cluster-source.ts';
import { RuleEngine } from './rules/rule-engine.ts';
import { createHttpApp } from './api/server.ts';
import { createBroker, listenBroker } from './broker/broker.ts';
import { connectIngestPool } from './broker/external-source.ts';
import { emqxAuthRoutes } from './broker/external-auth.ts';
import { startCluster, type Cluster } from './cluster/start-cluster.ts';
import { learnOwnersOffline } from './cluster/presence-sync.ts';
import { HubBus } from './bus.ts';
import { Presence } from './devices/presence.ts';
import { Ingest } from './ingest/ingest.ts';
import { KpiService } from './kpi/kpi-service.ts';
import { KpiPush } from './kpi/kpi-push.ts';
import { startReportCron } from './kpi/report-cron.ts';
import { createMetrics } from './metrics.ts';
import { Registry } from './site/registry.ts';
import { DeadLetterWriter } from './store/dead-letter-writer.ts';
import { DeviceStateWriter } from './store/device-state-writer.ts';
import { EventWriter } from './store/event-writer.ts';
import { startMaintenance } from './store/maintenance.ts';
import { openRegistry } from './store/registry-store.ts';
import { RegistrySync } from './store/registry-sync.ts';
import { openDb, pgliteDir } from './store/open-db.ts';
import { startSlaCron } from './tickets/sla-cron.ts';
import { TicketService } from './tickets/ticket-service.ts';
import { slaPolicyWith } from './tickets/core/index.ts';
import { NotifyLoop } from './notify/delivery-loop.ts';
import { SnapshotKeeper } from './tickets/snapshot-keeper.ts';
import { directoryOf, outboxHook } from './notify/outbox.ts';
import { createTransport } from 'nodemailer';
import type { Db } from './store/db.ts';
import { Units } from './units.ts';
import { Gauge, type Registry as PromRegistry } from 'prom-client';

const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

export interface HubHandle {
  httpUrl: string;
  /** Embedded broker's TCP URL; null in external-broker mode. */
  mqttUrl: string | null;
  mqttWsUrl: string | null;
  /** MQTT over TLS and over secure WebSocket; null unless MQTT_TLS_PORT / MQTT_WSS_PORT are set. */
  mqttTlsUrl: string | null;
  mqttWssUrl: string | null;
  registry: Registry;
  /** Follows registry changes in the database; `registrySync.check()` applies one now. */
  registrySync: RegistrySync;
  db: Db;
  bus: HubBus;
  ingest: Ingest;
  /** Tickets (工单): the rule shell calls `tickets.applyDecisions(decisions, now)`. */
  tickets: TicketService;
  kpi: KpiService;
  /** Rule engine: `rules.idle()` waits for decisions of everything committed so far; `tickNow()` for tests. */
  rules: RuleEngine;
  /** Leases, site ownership and this hub's id (README "Scaling out"). */
  cluster: Cluster;
  /** The running parts in start order (units.ts); `stop` stops them in reverse. */
  units: Units;
  /** Stops listeners, flushes held writes, closes the store. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  log: Logger;
  now?: () => number;
  dashboardDir?: string | null;
  /** node-cron expression of the SLA sweep; default SLA_SWEEP_CRON (config.ts). */
  slaSweepCron?: string;
}

/**
 * Wires the hub: site registry → store → ingest → broker → HTTP API. Each unit gets its
 * dependencies here and nowhere else, and is started through `units`, which stops them in
 * reverse start order (units.ts): HTTP and the jobs first, then the broker, then the writers
 * it feeds (everything accepted is committed), then the rules, and the store last. A start
 * that fails stops what had started.
 */
export async function startHub(config: HubConfig, opts: StartOptions): Promise<HubHandle> {
  const units = new Units(opts.log);
  try {
    return await wire(config, opts, units);
  } catch (err) {
    await units.stopAll().catch(() => undefined); // each failure is logged by units
    throw err;
  }
}

async function wire(config: HubConfig, opts: StartOptions, units: Units): Promise<HubHandle> {
  const log = opts.log;
  const withNow = opts.now ? { now: opts.now } : {};
  const mailer = await units.start('mailer', () => (config.notifySmtpUrl ? createTransport(config.notifySmtpUrl) : null), (m) => m?.close());
  const db = await units.start('store', () => openDb({ databaseUrl: config.databaseUrl ?? undefined, dataDir: config.dataDir, log: log.child({ component: 'store' }) }), (d) => d.close());
  // The registry lives in the database; SITE_FILE is imported only into an empty one (README "Production").
  const registry = await openRegistry(db, config.siteFile, log.child({ component: 'registry' }));
  log.info({ sites: registry.sites.size, devices: registry.deviceCount, version: registry.version }, 'registry loaded');
  const metrics = createMetrics();
  const bus = new HubBus(log.child({ component: 'bus' }));
  const startedAt = Date.now();
  // Notifications: written by the ticket writer's transaction (outbox), sent by NotifyLoop.
  const globalChannels = config.notifyWebhookUrl
    ? [{ kind: 'webhook' as const, url: config.notifyWebhookUrl, ...(config.notifyWebhookSecret ? { secret: config.notifyWebhookSecret } : {}) }] : [];
  const notifyDir = directoryOf(registry, globalChannels, config.notifyPublicUrl ?? undefined);
  const tickets = new TicketService({ db, bus, registry, log: log.child({ component: 'tickets' }), policy: slaPolicyWith(config.slaPolicy), outbox: outboxHook(notifyDir) });
  const kpi = new KpiService({ db, bus, registry, tickets, log: log.child({ component: 'kpi' }), tz: config.tzReports });

  const deadLetters = await units.start('dead-letter writer', () => new DeadLetterWriter({ db, log: log.child({ component: 'dead-letters' }) }), (w) => w.close());
  // Offline after the running offline rules' silence (rules start before the sweep timer).
  // Clustered, only a site's owner marks its devices offline and writes their state (cluster/).
  let ownsSite = (_siteId: string): boolean => true;
  const presence = new Presence({ onChange: (c) => bus.emit('device.presence', c), offlineAfterMs: (site, family) => rules.offlineAfterMs(site, family), owns: (s) => ownsSite(s) });
  // Last-seen of every device is written on its way out.
  const deviceState = await units.start('device-state writer', () => new DeviceStateWriter({ db, log: log.child({ component: 'device-state' }), source: () => presence.takeDirty() }), (w) => w.close());
  presence.restore(await deviceState.load());

  // Clustered (external broker + database server): per-site engines run where the site's lease
  // is (cluster/); the hub's own engine covers no site and serves the rule routes.
  const clustered = config.mqttUrl !== null && config.databaseUrl !== null;
  // Clustered, the live feed reads every hub's commits from the database (live/cluster-source.ts).
  let liveSource: ClusterLiveSource | null = null;
  // Site engines drain and snapshot, then the leases are released (after the local engine).
  const cluster = await units.start('cluster', () => startCluster({
    config, db, registry, sink: tickets, log: log.child({ component: 'cluster' }), clustered,
    jobs: {
      sla: () => startSlaCron({ tickets, afterSweep: (at) => { cluster.ran('sla', at); return kpi.publishToday(at); }, log: log.child({ component: 'sla' }), expression: opts.slaSweepCron ?? config.slaSweepCron, ...withNow }),
      reports: () => startReportCron({ kpi, log: log.child({ component: 'reports' }), ...withNow }),
    },
    fencedSink: (check) => tickets.fenced(check),
    onEvents: (stored) => { for (const e of stored) presence.seen(e); liveSource?.events(stored); },
    ...withNow,
  }), (c) => c.stop());
  if (cluster.owners) { const owners = cluster.owners; ownsSite = (s) => owners.owns(s); }

  // Rules start before the broker: state is restored from the database, then every event
  // committed from here on flows through them. They stop after the event writer: they evaluate
  // what was committed, apply its decisions and snapshot their state.
  const rules = await units.start('rule engine', async () => {
    const engine = new RuleEngine({
      db, registry: clustered ? new Registry({ ...registry.file, sites: [] }) : registry, bus, sink: tickets, log: log.child({ component: 'rules' }), rulesFile: config.rulesFile, tickMs: config.ruleTickMs,
      ...withNow,
    });
    await engine.start();
    return engine;
  }, (e) => e.stop());
  // A manual resolve waits for its device as long as the rule's hold time (no fake closures).
  tickets.holdMsOf = (_siteId, ruleId) => {
    const rule = rules.compiled.rules.find((r) => r.id === ruleId);
    return rule !== undefined && 'forMs' in rule ? rule.forMs : undefined;
  };

  // Stops after the broker: held PUBACKs complete as their batches commit; everything accepted is committed.
  const events = await units.start('event writer', () => new EventWriter({
    db, log: log.child({ component: 'event-writer' }),
    // From an external broker, mqtt.js hands over one message at a time and waits for its ack:
    // waiting for batch company there would only add latency.
    maxBatch: config.ingestBatchMax, maxDelayMs: config.mqttUrl ? 0 : config.ingestBatchDelayMs, maxPending: config.ingestMaxPending,
    onCommit: (inserted, stats) => {
      metrics.batchSize.observe(stats.rows);
      metrics.commitSeconds.observe(stats.ms / 1000);
      metrics.stored.inc(inserted.length);
      metrics.duplicates.inc(stats.rows - inserted.length);
      if (inserted.length) bus.emit('events.stored', inserted);
    },
  }), async (w) => { await w.flush(); await w.close(); });

  exposeTotals(metrics.registry, events, rules);

  // Clustered, presence is fed by the event tail (every hub's events), not by this hub's share.
  const ingest = new Ingest({ registry, events, deadLetters, presence: clustered ? { seen: () => {} } : presence, metrics, log: log.child({ component: 'ingest' }), maxPayloadBytes: config.mqttMaxPayloadBytes, ...withNow });

  // One certificate for MQTT over TLS, secure WebSocket and HTTPS (read once, at start).
  const tls = config.tlsCertFile && config.tlsKeyFile ? { cert: await readFile(config.tlsCertFile), key: await readFile(config.tlsKeyFile) } : null;
  const startMqtt = () => units.start('broker', () => startBroker(config, { registry, ingest, metrics, log, cluster, tls }), (b) => b.close());
  // Behind EMQX the broker asks this hub's hooks who may connect — its own ingest connections
  // too — so those connect once HTTP is up (and so stop before it).
  let broker = config.mqttUrl ? null : await startMqtt();

  const maintenance = await units.start('store maintenance', () => startMaintenance({
    db, log: log.child({ component: 'maintenance' }), timezone: config.tzReports, configured: config.storeMaintenance,
    pgliteDir: config.databaseUrl ? null : pgliteDir(config.dataDir),
    retention: { eventsDays: config.retentionDays, deadLettersDays: config.deadLetterRetentionDays }, ...withNow,
    onStatus: (s) => {
      metrics.storeJobsFailing.reset();
      for (const j of s.jobs) metrics.storeJobsFailing.set({ job_id: String(j.jobId), proc: j.proc, problem: j.problem }, 1);
      if (s.diskBytes !== null) metrics.storeDiskBytes.set(s.diskBytes);
    },
  }), (m) => m.stop());

  // A send in flight finishes and is marked on stop; the rest wait in the outbox.
  await units.start('notify loop', () => {
    const loop = new NotifyLoop({
      db, log: log.child({ component: 'notify' }), pollMs: config.notifyPollMs, prom: metrics.registry,
      deps: { mailer, mailFrom: config.notifyMailFrom, timeoutMs: 10_000, now: Date.now },
    });
    loop.start();
    return loop;
  }, (l) => l.stop());
  // Camera snapshots kept as evidence (off unless SNAPSHOT_ALLOW names hosts or networks);
  // fetches in flight (time-bounded) are recorded on stop.
  await units.start('camera snapshots', () => {
    const keeper = new SnapshotKeeper({
      db, bus, log: log.child({ component: 'snapshots' }), prom: metrics.registry,
      policy: { allow: config.snapshotAllow ?? [], maxBytes: config.snapshotMaxBytes, timeoutMs: config.snapshotTimeoutMs },
    });
    keeper.start();
    return keeper;
  }, (k) => k.stop());

  const health = (): Health => {
    const ok = events.healthy;
    return {
      // Failing or late TimescaleDB jobs degrade too: compression or refresh silently stopped.
      status: ok && maintenance.status().jobs.length === 0 ? 'ok' : 'degraded',
      store: { kind: db.kind, connected: ok, timescale: db.timescale, pending: events.pending, lastError: events.lastError },
      broker: { mode: config.mqttUrl ? 'external' : 'embedded', clients: broker?.clients() ?? 0 },
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      maintenance: maintenance.status(),
    };
  };

  const liveBus = cluster.owners ? new HubBus(log.child({ component: 'live-bus' })) : bus;
  const live = await units.start('live feed', () => {
    const feed = new LiveFeed({ bus: liveBus, log: log.child({ component: 'live' }) });
    feed.start();
    return feed;
  }, (f) => f.stop());
  // On the live bus: clustered, it carries every hub's ticket changes (the cluster source).
  await units.start('kpi push', () => {
    const push = new KpiPush({ bus: liveBus, today: (s, at) => kpi.today(s, at), delayMs: 2000, log: log.child({ component: 'kpi-push' }), ...withNow });
    push.start();
    return push;
  }, (p) => p.stop());
  if (cluster.owners && config.databaseUrl) {
    const databaseUrl = config.databaseUrl;
    // The event tail first: the feed's database positions count what it has delivered.
    await cluster.startTail();
    liveSource = await units.start('live cluster source', async () => {
      const source = new ClusterLiveSource({ db, databaseUrl, log: log.child({ component: 'live-cluster' }), pollMs: 250, bus, liveBus, wakeEvents: () => cluster.wakeTail(), eventFloor: () => cluster.eventFloor(), feed: live });
      await source.start();
      return source;
    }, (src) => src.stop());
  }

  // Registry changes (LISTEN/NOTIFY + version poll) apply in place; stopped right after HTTP,
  // so no reload runs during the shutdown.
  const registrySync = await units.start('registry sync', async () => {
    const sync = new RegistrySync({ db, registry, log: log.child({ component: 'registry' }), pollMs: config.registryPollMs });
    await sync.start();
    return sync;
  }, (sync) => sync.stop());

  const app = await createHttpApp({
    log, dashboardDir: opts.dashboardDir === undefined ? DASHBOARD_DIR : opts.dashboardDir,
    https: config.httpTls && tls ? tls : null, trustProxy: config.trustProxy,
  });
  await app.register(authPlugin, { registry, secret: config.authSecret ?? randomBytes(32).toString('hex'), tokenTtlS: config.authTokenTtlS });
  await app.register(healthRoutes, { health, prom: metrics.registry, metricsPublic: config.metricsPublic });
  await app.register(eventsRoutes, { db });
  await app.register(deadLetterRoutes, { db });
  await app.register(deviceRoutes, { registry, presence, rejectedByDevice: ingest.rejectedByDevice });
  await app.register(ticketRoutes, { tickets, ...withNow });
  await app.register(attachmentRoutes, { db, tickets, ...withNow });
  await app.register(ticketDeviceRoutes, { db, tickets });
  await app.register(complaintRoutes, { tickets, ...withNow });
  await app.register(kpiRoutes, { kpi, registry, ...withNow });
  const insights = new InsightsService({ db, tickets, tz: config.tzReports });
  await app.register(reportRoutes, { kpi, registry, insights });
  // The street office's view (issue 10): 回访 and Open311 GeoReport v2.
  await app.register(followUpRoutes, { followUps: new FollowUpService({ db, bus, policy: () => tickets.policy }), registry, ...withNow });
  await app.register(insightRoutes, { insights, registry, ...withNow });
  await app.register(open311Routes, { prefix: '/open311', db, tickets, registry, apiKey: config.open311ApiKey, ...withNow });
  await app.register(gridRoutes, { registry });
  await app.register(aboutRoutes, { demo: resolvePath(config.siteFile) === DEMO_SITE_FILE });
  await app.register(registryRoutes, { db, sync: registrySync });
  await app.register(ruleRoutes, { engine: rules, db, registry });
  await app.register(statsRoutes, { db });
  // EMQX in front (README "Scaling out"): it asks the hub who may connect, publish, subscribe.
  if (config.brokerHookSecret) await app.register(emqxAuthRoutes, { registry, hookSecret: config.brokerHookSecret, operatorZone: config.brokerOperatorZone, log: log.child({ component: 'emqx-auth' }) });
  await app.register(livePlugin, { feed: live, registry, log: log.child({ component: 'live' }), workerScope: (u) => tickets.scopeOf({ username: u, role: 'worker' }) });
  // Stops first: no request starts against units that are stopping (requests in flight finish).
  await units.start('http', () => app.listen({ port: config.httpPort, host: config.httpHost }), () => app.close());
  const httpUrl = `${config.httpTls ? 'https' : 'http'}://${hostForUrl(config.httpHost)}:${(app.server.address() as AddressInfo).port}`;
  broker ??= await startMqtt();

  await units.start('presence sweep', () => {
    const timer = setInterval(() => {
      presence.sweep(opts.now?.() ?? Date.now());
      if (cluster.owners) {
        const notOwned = [...registry.sites.keys()].filter((s) => !ownsSite(s));
        learnOwnersOffline(db, presence, notOwned).catch((err: Error) => log.warn({ err: err.message }, 'reading other hubs\' offline verdicts failed'));
      }
      metrics.pending.set(events.pending);
      metrics.storeUp.set(events.healthy ? 1 : 0);
    }, config.deviceOfflineCheckMs);
    timer.unref();
    return timer;
  }, (t) => clearInterval(t));
  // SLA sweep, retention/aggregates and reports are cluster-once: they run where their lease is.
  // Stopped before anything else: no sweep, retention or report writes after (one in flight is awaited).
  await units.start('cluster jobs', () => cluster.startLeases(), () => cluster.stopJobs());

  const stop = async (): Promise<void> => {
    await units.stopAll();
    log.info('hub stopped');
  };
  return { ...broker.urls, httpUrl, registry, registrySync, db, bus, ingest, tickets, kpi, rules, cluster, units, stop };
}

/** The event writer's and the rule engine's own totals on /metrics, read at each scrape. */
function exposeTotals(prom: PromRegistry, events: EventWriter, rules: RuleEngine): void {
  const totals: [name: string, help: string, read: () => number][] = [
    ['shaobing_store_write_retries', 'failed event commits retried since start (database outages)', () => events.counters.retries],
    ['shaobing_store_refused_events', 'events the database refused as data since start (dead-lettered)', () => events.counters.rejected],
    ['shaobing_rule_decisions', 'rule decisions handed to the ticket engine since start', () => rules.stats.decisions],
    ['shaobing_rule_failures', 'rule evaluations that threw since start (that rule only; the others went on)', () => rules.stats.ruleFailures],
    ['shaobing_rule_reload_failures', 'rules files refused on reload since start', () => rules.stats.failedReloads],
  ];
  for (const [name, help, read] of totals) new Gauge({ name, help, registers: [prom], collect() { this.set(read()); } });
}

interface BrokerDeps {
  registry: Registry;
  ingest: Ingest;
  metrics: ReturnType<typeof createMetrics>;
  log: Logger;
  cluster: Cluster;
  tls: { cert: Buffer; key: Buffer } | null;
}

/** The MQTT side: the embedded aedes broker on its listeners, or the ingest pool of an external broker. */
async function startBroker(config: HubConfig, d: BrokerDeps): Promise<{
  urls: Pick<HubHandle, 'mqttUrl' | 'mqttWsUrl' | 'mqttTlsUrl' | 'mqttWssUrl'>; clients: () => number; close: () => Promise<void>;
}> {
  const { registry, ingest, metrics, log, cluster, tls } = d;
  if (config.mqttUrl) {
    const pool = await connectIngestPool({
      url: config.mqttUrl, hubId: cluster.hubId, persistent: cluster.stableId, group: config.mqttShareGroup,
      connections: config.mqttIngestConnections, siteIds: [...registry.sites.keys()], ingest, log: log.child({ component: 'external-broker' }),
    });
    return { urls: { mqttUrl: null, mqttWsUrl: null, mqttTlsUrl: null, mqttWssUrl: null }, clients: () => pool.connected(), close: () => pool.close() };
  }
  const broker = await createBroker({
    registry, ingest, metrics, log: log.child({ component: 'broker' }),
    rateLimitPerSec: config.mqttRateLimitPerSec, rateLimitGraceS: config.mqttRateLimitGraceS, rateLimitBanS: config.mqttRateLimitBanS,
    maxConnections: { device: config.mqttMaxConnectionsPerDevice, gateway: config.mqttMaxConnectionsPerGateway, operator: config.mqttMaxConnectionsPerOperator },
  });
  // Frames well past the payload limit are cut off at the socket; smaller oversize payloads
  // still reach ingest and are dead-lettered `too_large` with their topic.
  const listeners = await listenBroker(broker, config.mqttHost, config.mqttPort, config.mqttWsPort, {
    maxFrameBytes: config.mqttMaxPayloadBytes * 4 + 1024,
    onTooLarge: (announced, remote) => {
      metrics.rejected.inc({ reason: 'too_large' });
      log.warn({ remote, announced }, 'mqtt packet far over the size limit; connection closed before buffering it');
    },
    maxSendBytes: config.mqttMaxSendBufferBytes,
    onSendOverflow: (buffered, remote) => {
      metrics.sendOverflows.inc();
      log.warn({ remote, buffered, limit: config.mqttMaxSendBufferBytes }, 'mqtt client stopped reading; connection closed at its send-buffer limit');
    },
  }, tls && (config.mqttTlsPort !== null || config.mqttWssPort !== null) ? { tlsPort: config.mqttTlsPort, wssPort: config.mqttWssPort, ...tls } : undefined);
  const host = hostForUrl(config.mqttHost);
  return {
    urls: {
      mqttUrl: `mqtt://${host}:${listeners.tcpPort}`,
      mqttWsUrl: listeners.wsPort === null ? null : `ws://${host}:${listeners.wsPort}`,
      mqttTlsUrl: listeners.tlsPort === null ? null : `mqtts://${host}:${listeners.tlsPort}`,
      mqttWssUrl: listeners.wssPort === null ? null : `wss://${host}:${listeners.wssPort}`,
    },
    clients: () => broker.connectedClients,
    close: async () => {
      // Our own shutdown is not the devices going offline: aedes would publish every client's
      // Last Will as it closes them, marking the whole fleet offline in the store.
      for (const c of Object.values((broker as unknown as { clients: Record<string, { will?: unknown }> }).clients)) c.will = null;
      const closing = listeners.close();
      await new Promise<void>((r) => broker.close(() => r()));
      await closing;
    },
  };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
