import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { FAMILIES, type Health } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { HubConfig } from './config.ts';
import { authPlugin } from './api/auth.ts';
import { deadLetterRoutes } from './api/routes/dead-letters.ts';
import { complaintRoutes } from './api/routes/complaints.ts';
import { deviceRoutes } from './api/routes/devices.ts';
import { gridRoutes } from './api/routes/grid.ts';
import { kpiRoutes } from './api/routes/kpi.ts';
import { reportRoutes } from './api/routes/reports.ts';
import { followUpRoutes } from './api/routes/follow-ups.ts';
import { open311Routes } from './api/routes/open311.ts';
import { FollowUpService } from './follow-up/follow-up-service.ts';
import { insightRoutes } from './api/routes/insights.ts';
import { InsightsService } from './kpi/insights-service.ts';
import { ticketRoutes } from './api/routes/tickets.ts';
import { eventsRoutes } from './api/routes/events.ts';
import { healthRoutes } from './api/routes/health.ts';
import { ruleRoutes } from './api/routes/rules.ts';
import { statsRoutes } from './api/routes/stats.ts';
import { livePlugin } from './live/index.ts';
import { RuleEngine } from './rules/rule-engine.ts';
import { createHttpApp } from './api/server.ts';
import { createBroker, listenBroker } from './broker/broker.ts';
import { connectExternalBroker } from './broker/external-source.ts';
import { HubBus } from './bus.ts';
import { Presence } from './devices/presence.ts';
import { Ingest } from './ingest/ingest.ts';
import { KpiService } from './kpi/kpi-service.ts';
import { startReportCron } from './kpi/report-cron.ts';
import { createMetrics } from './metrics.ts';
import { loadSiteFile } from './site/load-site-file.ts';
import { Registry } from './site/registry.ts';
import { DeadLetterWriter } from './store/dead-letter-writer.ts';
import { DeviceStateWriter } from './store/device-state-writer.ts';
import { EventWriter } from './store/event-writer.ts';
import { startMaintenanceCron } from './store/maintenance.ts';
import { openDb } from './store/open-db.ts';
import { startSlaCron } from './tickets/sla-cron.ts';
import { TicketService } from './tickets/ticket-service.ts';
import type { Db } from './store/db.ts';

const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

export interface HubHandle {
  httpUrl: string;
  /** Embedded broker's TCP URL; null in external-broker mode. */
  mqttUrl: string | null;
  mqttWsUrl: string | null;
  registry: Registry;
  db: Db;
  bus: HubBus;
  ingest: Ingest;
  /** Tickets (工单): the rule shell calls `tickets.applyDecisions(decisions, now)`. */
  tickets: TicketService;
  kpi: KpiService;
  /** Rule engine: `rules.idle()` waits for decisions of everything committed so far; `tickNow()` for tests. */
  rules: RuleEngine;
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
  const registry = new Registry(await loadSiteFile(config.siteFile));
  log.info({ siteFile: config.siteFile, sites: registry.sites.size, devices: registry.deviceCount }, 'site file loaded');

  const db = await openDb({ databaseUrl: config.databaseUrl ?? undefined, dataDir: config.dataDir, log: log.child({ component: 'store' }) });
  const metrics = createMetrics();
  const bus = new HubBus();
  const startedAt = Date.now();
  const tickets = new TicketService({ db, bus, registry, log: log.child({ component: 'tickets' }) });
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
  const presence = new Presence({ onChange: (c) => bus.emit('device.presence', c) });
  const deviceState = new DeviceStateWriter({ db, log: log.child({ component: 'device-state' }), source: () => presence.takeDirty() });
  presence.restore(await deviceState.load());

  const ingest = new Ingest({ registry, events, deadLetters, presence, metrics, log: log.child({ component: 'ingest' }), maxPayloadBytes: config.mqttMaxPayloadBytes, ...(opts.now ? { now: opts.now } : {}) });

  // Rules start before the broker: state is restored from the database, then every event
  // committed from here on flows through them.
  const rules = new RuleEngine({
    db, registry, bus, sink: tickets, log: log.child({ component: 'rules' }), rulesFile: config.rulesFile, tickMs: config.ruleTickMs,
    ...(opts.now ? { now: opts.now } : {}),
  });
  await rules.start();

  // Broker: embedded aedes, or a client of an external cluster.
  let mqttUrl: string | null = null;
  let mqttWsUrl: string | null = null;
  let closeBroker: () => Promise<void>;
  const brokerClients = { count: () => 0 };
  if (config.mqttUrl) {
    // mqtt.js acknowledges one message at a time per connection, so each site is read over one
    // persistent session per topic family (a device's messages stay on one connection, in order).
    const base = `shaobing-hub-${createHash('sha256').update([...registry.sites.keys()].sort().join(',')).digest('hex').slice(0, 16)}`;
    const lanes = [...registry.sites.keys()].flatMap((site) => [...FAMILIES, 'gateway'].map((f) => `shaobing/v1/${site}/${f}/#`));
    const clients = await Promise.all(lanes.map((topic, i) => connectExternalBroker({
      url: config.mqttUrl!, clientId: `${base}-${i}`, topics: [topic], ingest, log: log.child({ component: 'external-broker', lane: topic }),
    })));
    closeBroker = async () => { await Promise.all(clients.map((c) => new Promise<void>((r) => c.end(false, {}, () => r())))); };
  } else {
    const broker = await createBroker({ registry, ingest, metrics, log: log.child({ component: 'broker' }), rateLimitPerSec: config.mqttRateLimitPerSec });
    // Frames well past the payload limit are cut off at the socket; smaller oversize payloads
    // still reach ingest and are dead-lettered `too_large` with their topic.
    const listeners = await listenBroker(broker, config.mqttHost, config.mqttPort, config.mqttWsPort, {
      maxFrameBytes: config.mqttMaxPayloadBytes * 4 + 1024,
      onTooLarge: (announced, remote) => {
        metrics.rejected.inc({ reason: 'too_large' });
        log.warn({ remote, announced }, 'mqtt packet far over the size limit; connection closed before buffering it');
      },
    });
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

  const health = (): Health => {
    const ok = events.healthy;
    return {
      status: ok ? 'ok' : 'degraded',
      store: { kind: db.kind, connected: ok, timescale: db.timescale, pending: events.pending, lastError: events.lastError },
      broker: { mode: config.mqttUrl ? 'external' : 'embedded', clients: brokerClients.count() },
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
    };
  };

  const app = await createHttpApp({ log, dashboardDir: opts.dashboardDir === undefined ? DASHBOARD_DIR : opts.dashboardDir });
  await app.register(authPlugin, { registry, secret: config.authSecret ?? randomBytes(32).toString('hex'), tokenTtlS: config.authTokenTtlS });
  await app.register(healthRoutes, { health, prom: metrics.registry, metricsPublic: config.metricsPublic });
  await app.register(eventsRoutes, { db });
  await app.register(deadLetterRoutes, { db });
  await app.register(deviceRoutes, { registry, presence, rejectedByDevice: ingest.rejectedByDevice });
  await app.register(ticketRoutes, { tickets, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(complaintRoutes, { tickets, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(kpiRoutes, { kpi, registry, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(reportRoutes, { kpi, registry });
  // The street office's view (issue 10): 回访 and Open311 GeoReport v2.
  await app.register(followUpRoutes, { followUps: new FollowUpService({ db, bus, policy: () => tickets.policy }), registry, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(insightRoutes, { insights: new InsightsService({ db, tickets, tz: config.tzReports }), registry, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(open311Routes, { prefix: '/open311', db, tickets, registry, apiKey: config.open311ApiKey, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(gridRoutes, { registry });
  await app.register(ruleRoutes, { engine: rules, db, registry });
  await app.register(statsRoutes, { db });
  await app.register(livePlugin, { bus, registry, log: log.child({ component: 'live' }) });
  await app.listen({ port: config.httpPort, host: config.httpHost });
  const httpUrl = `http://${hostForUrl(config.httpHost)}:${(app.server.address() as AddressInfo).port}`;

  const timers = [
    setInterval(() => {
      presence.sweep(opts.now?.() ?? Date.now());
      metrics.pending.set(events.pending);
      metrics.storeUp.set(events.healthy ? 1 : 0);
    }, config.deviceOfflineCheckMs),
  ];
  for (const t of timers) t.unref();
  const slaCron = startSlaCron({ tickets, kpi, log: log.child({ component: 'sla' }), expression: opts.slaSweepCron ?? config.slaSweepCron, ...(opts.now ? { now: opts.now } : {}) });
  const maintenance = startMaintenanceCron({
    db, log: log.child({ component: 'maintenance' }), timezone: config.tzReports,
    retention: { eventsDays: config.retentionDays, deadLettersDays: config.deadLetterRetentionDays }, ...(opts.now ? { now: opts.now } : {}),
  });
  const reportCron = startReportCron({ kpi, log: log.child({ component: 'reports' }), ...(opts.now ? { now: opts.now } : {}) });

  let stopped: Promise<void> | null = null;
  const stop = () => (stopped ??= (async () => {
    for (const t of timers) clearInterval(t);
    await slaCron.stop();             // no sweep or report writes after this (waits for one in flight)
    await reportCron.stop();
    await maintenance.stop();
    await closeBroker();              // no new messages; held PUBACKs complete as batches commit
    await events.flush();             // everything accepted is committed
    await events.close();
    await rules.stop();               // evaluates what was committed, applies its decisions, snapshots state
    await deadLetters.close();
    await deviceState.close();        // last-seen of every device
    await app.close();
    await db.close();
    log.info('hub stopped');
  })());

  return { httpUrl, mqttUrl, mqttWsUrl, registry, db, bus, ingest, tickets, kpi, rules, stop };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
