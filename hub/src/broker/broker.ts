import { createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import { Aedes, type Client, type Connection, type PublishPacket } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { parseTopic } from '@shaobing/schemas';
import type { Logger } from 'pino';
import { LoginThrottle } from '../auth/login-throttle.ts';
import type { Ingest } from '../ingest/ingest.ts';
import { stampLastWill } from '../ingest/last-will.ts';
import { reject } from '../ingest/reject.ts';
import type { Metrics } from '../metrics.ts';
import type { Registry } from '../site/registry.ts';
import { mayPublish, maySubscribe, type MqttIdentity } from './acl.ts';
import { authenticateHook, closeStaleSessions } from './authenticate.ts';
import { ConnectionTable } from './client-identity.ts';
import { CredentialLimiter } from './credential-limits.ts';
import { guardedConnection, type WildcardPublish } from './frame-guard.ts';
import { parseTopicCached } from './topic-cache.ts';

/** Publishes to this topic go nowhere: rejected payloads are re-pointed here so aedes drops them. */
const DROP_TOPIC = '$shaobing/dropped';

export interface BrokerOptions {
  registry: Registry;
  ingest: Ingest;
  metrics: Metrics;
  log: Logger;
  /** Sustained publishes per second per credential (all its connections together). */
  rateLimitPerSec: number;
  /** Seconds a credential may stay over its rate before its connections are closed. */
  rateLimitGraceS?: number;
  /** Seconds such a credential is then refused at CONNECT. */
  rateLimitBanS?: number;
  /** Distinct client ids connected at once per credential. */
  maxConnections?: { device: number; gateway: number; operator: number };
}

/**
 * The embedded aedes broker. Access control lives only in aedes' hooks; ingest runs inside
 * authorizePublish because it is the last step before the QoS 1 PUBACK (DESIGN §9): the
 * callback is held until the message's batch has committed, so an acknowledged message is a
 * stored message, and a client whose messages cannot be stored stops being read (backpressure).
 */
export async function createBroker(opts: BrokerOptions): Promise<Aedes> {
  const { registry, ingest, metrics, log } = opts;
  const identities = new WeakMap<Client, MqttIdentity>();
  const limiter = new CredentialLimiter({ ratePerSec: opts.rateLimitPerSec, graceS: opts.rateLimitGraceS ?? 10, banS: opts.rateLimitBanS ?? 60 });
  const maxConnections = opts.maxConnections ?? { device: 1, gateway: 4, operator: 8 };
  const connections = new ConnectionTable<Client>();
  const logins = new LoginThrottle();

  const broker = await Aedes.createBroker({
    // Hostile or broken clients must not hold delivery slots forever.
    drainTimeout: 30_000,
    connectTimeout: 10_000,
    maxClientsIdLength: 128,
    maxTopicLevels: 16,

    authenticate: authenticateHook({ registry, metrics, log, limiter, connections, logins, identities, maxConnections, remoteOf }),

    authorizePublish(client, packet, done) {
      // A client-less will (aedes republishing an obsolete LWT) carries no identity: drop it.
      const who = client ? identities.get(client) : undefined;
      if (!client || !who) return drop(packet, done);
      const topic = parseTopicCached(packet.topic);
      const credential = who.kind === 'principal' ? `${who.principal.siteId}/${who.principal.id}` : who.operator.username;
      // aedes marks a client closed before it publishes its Last Will; nothing else is published then.
      const isWill = client.closed;
      if (isWill && connections.takenOver(credential, client.id, client)) return drop(packet, done); // reconnected: not offline
      const now = Date.now();
      const payload = isWill && topic?.kind === 'device' ? stampLastWill(topic, toBuffer(packet.payload), now) : toBuffer(packet.payload);
      const pub = { topic: packet.topic, parsedTopic: topic, payload, clientId: client.id, principal: who.kind === 'principal' ? who.principal : null };
      if (!mayPublish(who, topic)) {
        ingest.refuse(pub, reject('forbidden_topic', `${describe(who)} may not publish to ${packet.topic.slice(0, 200)}`), topic?.siteId ?? null);
        // [MQTT-3.3.5-2] no negative PUBACK in 3.1.1: closing the connection is the refusal.
        return done(new Error('forbidden topic'));
      }
      if (!isWill) {
        const verdict = limiter.take(credential, 1, now);
        if (verdict !== 'ok') {
          ingest.refuse(pub, reject('rate_limited', `more than ${opts.rateLimitPerSec} msg/s for ${credential}`), topic!.siteId);
          if (verdict === 'ban') {
            log.warn({ credential, banS: opts.rateLimitBanS ?? 60 }, 'credential stayed over its rate limit; disconnected and refused for a while');
            setImmediate(() => { for (const c of connections.connections(credential)) c.close(); });
          }
          return drop(packet, done);
        }
      }
      if (isWill) packet.payload = payload;
      let outcome: ReturnType<Ingest['handle']>;
      try {
        outcome = ingest.handle(pub);
      } catch (err) {
        // Ingest refuses bad input by value; anything thrown is a bug — never let it reach the broker loop.
        log.error({ err, clientId: client.id, topic: packet.topic.slice(0, 200) }, 'ingest failed on a message; dead-lettered');
        ingest.refuse(pub, reject('schema', `could not be processed: ${(err as Error).message}`), topic?.siteId ?? null);
        return drop(packet, done);
      }
      if (outcome.accepted === 0) return drop(packet, done);
      // A batch with some bad items: the good ones are stored, the bad ones dead-lettered;
      // nothing stored at all (the database refused every item) means nothing to forward.
      outcome.committed.then((stored) => (stored > 0 ? done(null) : drop(packet, done)), (err: Error) => {
        // Only reached if the store gave up on the write (shutdown): close, the client resends.
        log.error({ err: err.message, clientId: client.id }, 'store failed; closing so the client resends');
        done(err);
      });
    },

    authorizeForward(client, packet) {
      // Dropped payloads go nowhere; an operator gets only the sites they may see, whatever
      // the route (live subscription or a queue replay).
      if (packet.topic === DROP_TOPIC) return null;
      const who = identities.get(client);
      if (who?.kind !== 'operator' || !who.operator.siteIds || packet.topic.startsWith('$')) return packet;
      return who.operator.siteIds.includes(packet.topic.split('/')[2] ?? '') ? packet : null;
    },

    authorizeSubscribe(client, sub, done) {
      const who = identities.get(client);
      if (who && maySubscribe(who, sub.topic)) return done(null, sub);
      log.warn({ clientId: client.id, filter: sub.topic.slice(0, 200) }, 'subscription refused');
      done(null, null); // SUBACK 0x80 for this filter; the connection stays up
    },
  });

  closeStaleSessions(broker, registry, identities, log);

  broker.on('client', () => metrics.clients.set(broker.connectedClients));
  broker.on('clientDisconnect', () => metrics.clients.set(broker.connectedClients));
  broker.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
  broker.on('connectionError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error'));

  // aedes closes a wildcard publish before any hook; the frame guard reports it to here.
  wildcardHandlers.set(broker, (client, wp) => {
    const who = identities.get(client);
    const principal = who?.kind === 'principal' ? who.principal : null;
    const siteId = parseTopic(wp.topic.replace(/[+#]/g, 'x'))?.siteId ?? principal?.siteId ?? null;
    ingest.refuse({ topic: wp.topic, payload: wp.payload, clientId: client.id || null, principal }, reject('forbidden_topic', `wildcard in a PUBLISH topic: ${wp.topic.slice(0, 200)}`), siteId);
  });
  return broker;
}

/** Source address of a connection, as recorded by listenBroker. */
const remotes = new WeakMap<Connection, string>();
function remoteOf(client: Client): string {
  return remotes.get(client.conn) ?? client.req?.socket.remoteAddress ?? 'unknown';
}

const wildcardHandlers = new WeakMap<Aedes, (client: Client, publish: WildcardPublish) => void>();

function drop(packet: PublishPacket, done: (err?: Error | null) => void): void {
  packet.topic = DROP_TOPIC;
  packet.retain = false;
  done(null);
}

/** The parser's payload is already a Buffer of its own (received bytes are never reused): no copy. */
function toBuffer(payload: PublishPacket['payload']): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
}

function describe(who: MqttIdentity): string {
  return who.kind === 'operator' ? `operator ${who.operator.username}` : `${who.principal.kind} ${who.principal.siteId}/${who.principal.id}`;
}

/** MQTT listeners of the embedded broker: TCP, and optionally WebSocket, TLS and secure WebSocket. */
export interface BrokerListeners { tcpPort: number; wsPort: number | null; tlsPort: number | null; wssPort: number | null; close(): Promise<void> }

export interface FrameLimits {
  maxFrameBytes: number;
  onTooLarge: (announced: number, remote: string) => void;
  /** Bytes held for a connection that does not read (MQTT_MAX_SEND_BUFFER_BYTES) before it is closed. */
  maxSendBytes?: number;
  onSendOverflow?: (buffered: number, remote: string) => void;
}

export async function listenBroker(broker: Aedes, host: string, port: number, wsPort: number | null, guard: FrameLimits, secure?: SecureListenOptions): Promise<BrokerListeners> {
  const onWildcard = wildcardHandlers.get(broker);
  /** Every transport ends here: frame guard, source address, wildcard reporting, then aedes. */
  const accept = (stream: Duplex, remote: string, req?: IncomingMessage) => {
    let client: Client | null = null;
    const conn = guardedConnection(stream, guard.maxFrameBytes, (n) => guard.onTooLarge(n, remote), (wp) => { if (client) onWildcard?.(client, wp); },
      { maxBytes: guard.maxSendBytes ?? DEFAULT_SEND_BUFFER_BYTES, onOverflow: (n) => guard.onSendOverflow?.(n, remote) });
    remotes.set(conn, remote.replace(/:\d+$/, ''));
    client = broker.handle(conn, req);
  };
  const servers: (Server | HttpServer)[] = [];
  const listen = async <S extends Server | HttpServer>(server: S, p: number): Promise<number> => {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ port: p, host, backlog: LISTEN_BACKLOG }, () => resolve()));
    servers.push(server);
    return (server.address() as AddressInfo).port;
  };
  const websocket = (server: HttpServer) => {
    const wss = new WebSocketServer({ server, maxPayload: guard.maxFrameBytes });
    wss.on('connection', (socket, req) => accept(createWebSocketStream(socket), `${req.socket.remoteAddress}:${req.socket.remotePort}`, req));
    return server;
  };
  const tcpPort = await listen(createServer((socket) => accept(socket, `${socket.remoteAddress}:${socket.remotePort}`)), port);
  const wsBound = wsPort === null ? null : await listen(websocket(createHttpServer()), wsPort);
  let tlsPort: number | null = null;
  let wssPort: number | null = null;
  if (secure) {
    const creds = { cert: secure.cert, key: secure.key, minVersion: 'TLSv1.2' as const };
    if (secure.tlsPort !== null) tlsPort = await listen(createTlsServer(creds, (socket) => accept(socket, `${socket.remoteAddress}:${socket.remotePort}`)), secure.tlsPort);
    if (secure.wssPort !== null) wssPort = await listen(websocket(createHttpsServer(creds)), secure.wssPort);
  }
  return {
    tcpPort,
    wsPort: wsBound,
    tlsPort,
    wssPort,
    async close() {
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

const DEFAULT_SEND_BUFFER_BYTES = 1024 * 1024;

/**
 * Connections the kernel may hold completed before the hub accepts them (capped by
 * net.core.somaxconn). Node's default, 511, is what a reconnect storm hit: once the queue is
 * full the kernel drops further SYNs and those devices only retry after 1, 3, 7, 15, 31 s of
 * TCP back-off, so 10,000 devices coming back at once took ~30 s although the hub was idle.
 */
export const LISTEN_BACKLOG = 8192;

/** MQTT over TLS (`MQTT_TLS_PORT`) and over secure WebSocket (`MQTT_WSS_PORT`), one certificate. */
export interface SecureListenOptions { tlsPort: number | null; wssPort: number | null; cert: Buffer; key: Buffer }
