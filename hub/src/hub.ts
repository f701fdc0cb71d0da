import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Health } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { HubConfig } from './config.ts';
import { authPlugin } from './api/auth.ts';
import { deadLetterRoutes } from './api/routes/dead-letters.ts';
import { complaintRoutes } from './api/routes/complaints.ts';
import { deviceRoutes } from './api/routes/devices.ts';
import { gridRoutes } from './api/routes/grid.ts';
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
import { RuleEngine } from './rules/rule-engine.ts';
import { createHttpApp } from './api/server.ts';
import { createBroker, listenBroker } from './broker/broker.ts';
import { connectIngestPool } from './broker/external-source.ts';
import { startCluster, type Cluster } from './cluster/start-cluster.ts';
import { HubBus } from './bus.ts';
import { Presence } from './devices/presence.ts';
import { Ingest } from './ingest/ingest.ts';
import { KpiService } from './kpi/kpi-service.ts';
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
import { directoryOf, outboxHook } from './notify/outbox.ts';
import { createTransport } from 'nodemailer';
import type { Db } from './store/db.ts';

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
  /** Stops listeners, flushes held writes, closes the store. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  log: Logger;
  now?: () => number;
  dashboardDir?: string | null;
  /** node-cron expression of the SLA sweep; default every 30 s (tickets/sla-cron.ts). */
  slaSweepCron?: string;
}

/**
 * Wires the hub: site registry → store → ingest → broker → HTTP API. Each unit gets its
 * dependencies here and nowhere else; the order of `stop` is the reverse of the data flow
 * so nothing accepted is dropped (listeners close, then writers flush, then the store closes).
 */
export async function startHub(config: HubConfig, opts: StartOptions): Promise<HubHandle> {
  const log = opts.log;
  const db = await openDb({ databaseUrl: config.databaseUrl ?? undefined, dataDir: config.dataDir, log: log.child({ component: 'store' }) });
  // The registry lives in the database; SITE_FILE is imported only into an empty one (README "Production").
  const registry = await openRegistry(db, config.siteFile, log.child({ component: 'registry' })).catch(async (err: unknown) => { await db.close(); throw err; });
  log.info({ sites: registry.sites.size, devices: registry.deviceCount, version: registry.version }, 'registry loaded');
  const registrySync = new RegistrySync({ db, registry, log: log.child({ component: 'registry' }), pollMs: config.registryPollMs });
  await registrySync.start();
  const metrics = createMetrics();
  const bus = new HubBus(log.child({ component: 'bus' }));
  const startedAt = Date.now();
  // Notifications: written by the ticket writer's transaction (outbox), sent by NotifyLoop.
  const globalChannels = config.notifyWebhookUrl
    ? [{ kind: 'webhook' as const, url: config.notifyWebhookUrl, ...(config.notifyWebhookSecret ? { secret: config.notifyWebhookSecret } : {}) }] : [];
  const notifyDir = directoryOf(registry, globalChannels, config.notifyPublicUrl ?? undefined);
  const tickets = new TicketService({ db, bus, registry, log: log.child({ component: 'tickets' }), policy: slaPolicyWith(config.slaPolicy), outbox: outboxHook(notifyDir) });
  const kpi = new KpiService({ db, bus, registry, tickets, log: log.child({ component: 'kpi' }), tz: config.tzReports });

  const events = new EventWriter({
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
  });
  const deadLetters = new DeadLetterWriter({ db, log: log.child({ component: 'dead-letters' }) });
  // Offline after the running offline rules' silence (rules start before the sweep timer).
  const presence = new Presence({ onChange: (c) => bus.emit('device.presence', c), offlineAfterMs: (site, family) => rules.offlineAfterMs(site, family) });
  const deviceState = new DeviceStateWriter({ db, log: log.child({ component: 'device-state' }), source: () => presence.takeDirty() });
  presence.restore(await deviceState.load());

  const ingest = new Ingest({ registry, events, deadLetters, presence, metrics, log: log.child({ component: 'ingest' }), maxPayloadBytes: config.mqttMaxPayloadBytes, ...(opts.now ? { now: opts.now } : {}) });

  // Rules start before the broker: state is restored from the database, then every event
  // committed from here on flows through them.
  // Clustered (external broker + database server): per-site engines run where the site's lease
  // is (cluster/); this one covers no site and serves the rule routes (compiled rules, reload).
  const clustered = config.mqttUrl !== null && config.databaseUrl !== null;
  const rules = new RuleEngine({
    db, registry: clustered ? new Registry({ ...registry.file, sites: [] }) : registry, bus, sink: tickets, log: log.child({ component: 'rules' }), rulesFile: config.rulesFile, tickMs: config.ruleTickMs,
    ...(opts.now ? { now: opts.now } : {}),
  });
  await rules.start();
  // A manual resolve waits for its device as long as the rule's hold time (no fake closures).
  tickets.holdMsOf = (_siteId, ruleId) => {
    const rule = rules.compiled.rules.find((r) => r.id === ruleId);
    return rule !== undefined && 'forMs' in rule ? rule.forMs : undefined;
  };

  // Broker: embedded aedes, or a client of an external cluster.
  const cluster = await startCluster({
    config, db, registry, sink: tickets, log: log.child({ component: 'cluster' }), clustered,
    jobs: {
      sla: () => startSlaCron({ tickets, afterSweep: (at) => kpi.publishToday(at), log: log.child({ component: 'sla' }), expression: opts.slaSweepCron ?? config.slaSweepCron, ...(opts.now ? { now: opts.now } : {}) }),
      reports: () => startReportCron({ kpi, log: log.child({ component: 'reports' }), ...(opts.now ? { now: opts.now } : {}) }),
    },
    ...(opts.now ? { now: opts.now } : {}),
  });
  let mqttUrl: string | null = null;
  let mqttWsUrl: string | null = null;
  let mqttTlsUrl: string | null = null;
  let mqttWssUrl: string | null = null;
  // One certificate for MQTT over TLS, secure WebSocket and HTTPS (read once, at start).
  const tls = config.tlsCertFile && config.tlsKeyFile ? { cert: await readFile(config.tlsCertFile), key: await readFile(config.tlsKeyFile) } : null;
  let closeBroker: () => Promise<void>;
  const brokerClients = { count: () => 0 };
  if (config.mqttUrl) {
    const pool = await connectIngestPool({
      url: config.mqttUrl, hubId: cluster.hubId, persistent: cluster.stableId, group: config.mqttShareGroup,
      connections: config.mqttIngestConnections, siteIds: [...registry.sites.keys()], ingest, log: log.child({ component: 'external-broker' }),
    });
    brokerClients.count = () => pool.connected();
    closeBroker = () => pool.close();
  } else {
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
    }, tls && (config.mqttTlsPort !== null || config.mqttWssPort !== null) ? { tlsPort: config.mqttTlsPort, wssPort: config.mqttWssPort, ...tls } : undefined);
    mqttTlsUrl = listeners.tlsPort === null ? null : `mqtts://${hostForUrl(config.mqttHost)}:${listeners.tlsPort}`;
    mqttWssUrl = listeners.wssPort === null ? null : `wss://${hostForUrl(config.mqttHost)}:${listeners.wssPort}`;
    mqttUrl = `mqtt://${hostForUrl(config.mqttHost)}:${listeners.tcpPort}`;
    mqttWsUrl = listeners.wsPort === null ? null : `ws://${hostForUrl(config.mqttHost)}:${listeners.wsPort}`;
    brokerClients.count = () => broker.connectedClients;
    closeBroker = async () => {
      // Our own shutdown is not the devices going offline: aedes would publish every client's
      // Last Will as it closes them, marking the whole fleet offline in the store.
      for (const c of Object.values((broker as unknown as { clients: Record<string, { will?: unknown }> }).clients)) c.will = null;
      const closing = listeners.close();
      await new Promise<void>((r) => broker.close(() => r()));
      await closing;
    };
  }

  const maintenance = await startMaintenance({
    db, log: log.child({ component: 'maintenance' }), timezone: config.tzReports, configured: config.storeMaintenance,
    pgliteDir: config.databaseUrl ? null : pgliteDir(config.dataDir),
    retention: { eventsDays: config.retentionDays, deadLettersDays: config.deadLetterRetentionDays }, ...(opts.now ? { now: opts.now } : {}),
    onStatus: (s) => {
      metrics.storeJobsFailing.reset();
      for (const j of s.jobs) metrics.storeJobsFailing.set({ job_id: String(j.jobId), proc: j.proc, problem: j.problem }, 1);
      if (s.diskBytes !== null) metrics.storeDiskBytes.set(s.diskBytes);
    },
  });

  const health = (): Health => {
    const ok = events.healthy;
    return {
      // Failing or late TimescaleDB jobs degrade too: compression or refresh silently stopped.
      status: ok && maintenance.status().jobs.length === 0 ? 'ok' : 'degraded',
      store: { kind: db.kind, connected: ok, timescale: db.timescale, pending: events.pending, lastError: events.lastError },
      broker: { mode: config.mqttUrl ? 'external' : 'embedded', clients: brokerClients.count() },
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      maintenance: maintenance.status(),
    };
  };

  const app = await createHttpApp({
    log, dashboardDir: opts.dashboardDir === undefined ? DASHBOARD_DIR : opts.dashboardDir,
    https: config.httpTls && tls ? tls : null, trustProxy: config.trustProxy,
  });
  await app.register(authPlugin, { registry, secret: config.authSecret ?? randomBytes(32).toString('hex'), tokenTtlS: config.authTokenTtlS });
  await app.register(healthRoutes, { health, prom: metrics.registry, metricsPublic: config.metricsPublic });
  await app.register(eventsRoutes, { db });
  await app.register(deadLetterRoutes, { db });
  await app.register(deviceRoutes, { registry, presence, rejectedByDevice: ingest.rejectedByDevice });
  await app.register(ticketRoutes, { tickets, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(attachmentRoutes, { db, tickets, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(ticketDeviceRoutes, { db, tickets });
  await app.register(complaintRoutes, { tickets, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(kpiRoutes, { kpi, registry, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(reportRoutes, { kpi, registry });
  // The street office's view (issue 10): 回访 and Open311 GeoReport v2.
  await app.register(followUpRoutes, { followUps: new FollowUpService({ db, bus, policy: () => tickets.policy }), registry, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(insightRoutes, { insights: new InsightsService({ db, tickets, tz: config.tzReports }), registry, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(open311Routes, { prefix: '/open311', db, tickets, registry, apiKey: config.open311ApiKey, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(gridRoutes, { registry });
  await app.register(registryRoutes, { db, sync: registrySync });
  await app.register(ruleRoutes, { engine: rules, db, registry });
  await app.register(statsRoutes, { db });
  const live = new LiveFeed({ bus, log: log.child({ component: 'live' }) });
  live.start();
  await app.register(livePlugin, { feed: live, registry, log: log.child({ component: 'live' }) });
  await app.listen({ port: config.httpPort, host: config.httpHost });
  const httpUrl = `${config.httpTls ? 'https' : 'http'}://${hostForUrl(config.httpHost)}:${(app.server.address() as AddressInfo).port}`;

  const timers = [
    setInterval(() => {
      presence.sweep(opts.now?.() ?? Date.now());
      metrics.pending.set(events.pending);
      metrics.storeUp.set(events.healthy ? 1 : 0);
    }, config.deviceOfflineCheckMs),
  ];
  for (const t of timers) t.unref();
  const mailer = config.notifySmtpUrl ? createTransport(config.notifySmtpUrl) : null;
  const notify = new NotifyLoop({
    db, log: log.child({ component: 'notify' }), pollMs: config.notifyPollMs, prom: metrics.registry,
    deps: { mailer, mailFrom: config.notifyMailFrom, timeoutMs: 10_000, now: Date.now },
  });
  notify.start();
  // SLA sweep, retention/aggregates and reports are cluster-once: they run where their lease is.
  await cluster.startLeases();

  let stopped: Promise<void> | null = null;
  const stop = () => (stopped ??= (async () => {
    for (const t of timers) clearInterval(t);
    await cluster.stopJobs();         // no sweep, retention or report writes after this (waits for one in flight)
    await maintenance.stop();         // store housekeeping and job-health reads (each hub runs its own)
    await registrySync.stop();        // no registry reloads during the shutdown
    await notify.stop();              // a send in flight finishes and is marked; the rest wait in the outbox
    await closeBroker();              // no new messages; held PUBACKs complete as batches commit
    await events.flush();             // everything accepted is committed
    await events.close();
    await rules.stop();               // evaluates what was committed, applies its decisions, snapshots state
    await cluster.stop();             // site engines drain and snapshot, then the leases are released
    await deadLetters.close();
    await deviceState.close();        // last-seen of every device
    await app.close();
    live.stop();
    await db.close();
    mailer?.close();
    log.info('hub stopped');
  })());

  return { httpUrl, mqttUrl, mqttWsUrl, mqttTlsUrl, mqttWssUrl, registry, registrySync, db, bus, ingest, tickets, kpi, rules, cluster, stop };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
