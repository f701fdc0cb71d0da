import { createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { parseTopic } from '@shaobing/schemas';
import type { Logger } from 'pino';
import { verifyDeviceSecret, verifyPassword } from '@shaobing/schemas/credentials';
import type { Ingest } from '../ingest/ingest.ts';
import { reject } from '../ingest/reject.ts';
import type { Metrics } from '../metrics.ts';
import type { Registry } from '../site/registry.ts';
import { mayPublish, maySubscribe, type MqttIdentity } from './acl.ts';
import { guardedConnection } from './frame-guard.ts';
import { RateLimiter } from './rate-limit.ts';

/** Publishes to this topic go nowhere: rejected payloads are re-pointed here so aedes drops them. */
const DROP_TOPIC = '$shaobing/dropped';

export interface BrokerOptions {
  registry: Registry;
  ingest: Ingest;
  metrics: Metrics;
  log: Logger;
  rateLimitPerSec: number;
}

function authError(code: 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
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
  const limiter = new RateLimiter(opts.rateLimitPerSec);
  const loginFailures = new LoginFailures();

  const broker = await Aedes.createBroker({
    // Hostile or broken clients must not hold delivery slots forever.
    drainTimeout: 30_000,
    connectTimeout: 10_000,
    maxClientsIdLength: 128,
    maxTopicLevels: 16,

    authenticate(client, username, password, done) {
      const secret = password?.toString('utf8') ?? '';
      const fail = (why: string) => {
        metrics.authFailures.inc();
        log.warn({ clientId: client.id, username: username?.slice(0, 100), why }, 'mqtt connect refused');
        done(authError(4, 'bad username or password'), false);
      };
      if (!username) return fail('no username');
      const principal = registry.principal(username);
      if (principal) {
        if (!verifyDeviceSecret(secret, principal.secretHash)) return fail('wrong secret');
        identities.set(client, { kind: 'principal', principal });
        return done(null, true);
      }
      const operator = registry.operator(username);
      if (!operator) return fail('unknown username');
      // Operators watch live; a persistent session would have aedes queue (and later deliver)
      // messages for filters authorizeSubscribe refused, and grow memory while they are away.
      if (!client.clean) {
        log.warn({ clientId: client.id, username }, 'operator refused: persistent sessions are not allowed');
        return done(authError(5, 'operators must connect with clean session'), false);
      }
      if (loginFailures.blocked(username, Date.now())) return fail('too many failed logins; wait a minute');
      verifyPassword(secret, operator.passwordHash).then((ok) => {
        if (!ok) {
          loginFailures.fail(username, Date.now());
          return fail('wrong password');
        }
        identities.set(client, { kind: 'operator', operator });
        done(null, true);
      }, (err: Error) => fail(err.message));
    },

    authorizePublish(client, packet, done) {
      // A client-less will (aedes republishing an obsolete LWT) carries no identity: drop it.
      const who = client ? identities.get(client) : undefined;
      const pub = { topic: packet.topic, payload: toBuffer(packet.payload), clientId: client?.id ?? null, principal: who?.kind === 'principal' ? who.principal : null };
      if (!who) return drop(packet, done);
      const topic = parseTopic(packet.topic);
      if (!mayPublish(who, topic)) {
        ingest.refuse(pub, reject('forbidden_topic', `${describe(who)} may not publish to ${packet.topic.slice(0, 200)}`), topic?.siteId ?? null);
        // [MQTT-3.3.5-2] no negative PUBACK in 3.1.1: closing the connection is the refusal.
        return done(new Error('forbidden topic'));
      }
      if (client && !limiter.take(client.id, 1, Date.now())) {
        ingest.refuse(pub, reject('rate_limited', `more than ${opts.rateLimitPerSec} msg/s`), topic!.siteId);
        return drop(packet, done);
      }
      let outcome: ReturnType<Ingest['handle']>;
      try {
        outcome = ingest.handle(pub);
      } catch (err) {
        // Ingest refuses bad input by value; anything thrown is a bug — never let it reach the broker loop.
        log.error({ err, clientId: client?.id, topic: packet.topic.slice(0, 200) }, 'ingest failed on a message; dead-lettered');
        ingest.refuse(pub, reject('schema', `could not be processed: ${(err as Error).message}`), topic?.siteId ?? null);
        return drop(packet, done);
      }
      if (outcome.accepted === 0) return drop(packet, done);
      // A batch with some bad items: the good ones are stored, the bad ones dead-lettered;
      // nothing stored at all (the database refused every item) means nothing to forward.
      outcome.committed.then((stored) => (stored > 0 ? done(null) : drop(packet, done)), (err: Error) => {
        // Only reached if the store gave up on the write (shutdown): close, the client resends.
        log.error({ err: err.message, clientId: client?.id }, 'store failed; closing so the client resends');
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

  broker.on('client', () => metrics.clients.set(broker.connectedClients));
  broker.on('clientDisconnect', (client) => {
    metrics.clients.set(broker.connectedClients);
    limiter.forget(client.id);
  });
  broker.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
  broker.on('connectionError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error'));
  return broker;
}

/** After 5 wrong operator passwords in a minute, that username is refused for a minute (no scrypt run). */
class LoginFailures {
  private readonly recent = new Map<string, number[]>();
  blocked(username: string, now: number): boolean {
    return (this.recent.get(username) ?? []).filter((t) => now - t < 60_000).length >= 5;
  }
  fail(username: string, now: number): void {
    const times = (this.recent.get(username) ?? []).filter((t) => now - t < 60_000);
    times.push(now);
    this.recent.set(username, times);
  }
}

function drop(packet: PublishPacket, done: (err?: Error | null) => void): void {
  packet.topic = DROP_TOPIC;
  packet.retain = false;
  done(null);
}

function toBuffer(payload: PublishPacket['payload']): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
}

function describe(who: MqttIdentity): string {
  return who.kind === 'operator' ? `operator ${who.operator.username}` : `${who.principal.kind} ${who.principal.siteId}/${who.principal.id}`;
}

/** MQTT over TCP (and optionally WebSocket) listeners for the embedded broker. */
export interface BrokerListeners { tcp: Server; ws: HttpServer | null; tcpPort: number; wsPort: number | null; close(): Promise<void> }

export async function listenBroker(broker: Aedes, host: string, port: number, wsPort: number | null, guard: { maxFrameBytes: number; onTooLarge: (announced: number, remote: string) => void }): Promise<BrokerListeners> {
  const tcp = createServer((socket) => {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    broker.handle(guardedConnection(socket, guard.maxFrameBytes, (n) => guard.onTooLarge(n, remote)));
  });
  await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(port, host, () => resolve()));
  let ws: HttpServer | null = null;
  if (wsPort !== null) {
    ws = createHttpServer();
    const wss = new WebSocketServer({ server: ws, maxPayload: guard.maxFrameBytes });
    wss.on('connection', (socket, req) => {
      const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
      broker.handle(guardedConnection(createWebSocketStream(socket), guard.maxFrameBytes, (n) => guard.onTooLarge(n, remote)), req);
    });
    await new Promise<void>((resolve, reject) => ws!.once('error', reject).listen(wsPort, host, () => resolve()));
  }
  return {
    tcp,
    ws,
    tcpPort: (tcp.address() as AddressInfo).port,
    wsPort: ws ? (ws.address() as AddressInfo).port : null,
    async close() {
      await new Promise<void>((r) => tcp.close(() => r()));
      if (ws) await new Promise<void>((r) => ws!.close(() => r()));
    },
  };
}
