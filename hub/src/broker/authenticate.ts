import type { AedesOptions, Aedes, AuthenticateError, Client } from 'aedes';
import type { Logger } from 'pino';
import { verifyDeviceSecret, verifyPassword } from '@shaobing/schemas/credentials';
import type { LoginThrottle } from '../auth/login-throttle.ts';
import type { Metrics } from '../metrics.ts';
import type { Registry } from '../site/registry.ts';
import type { MqttIdentity } from './acl.ts';
import { clientIdBelongsTo, type ConnectionTable } from './client-identity.ts';
import type { CredentialLimiter } from './credential-limits.ts';

/** CONNACK codes of MQTT 3.1.1 §3.2.2.3 that the hub uses. */
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_CREDENTIALS = 4;
const NOT_AUTHORIZED = 5;

function authError(code: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

export interface AuthenticateDeps {
  registry: Registry;
  metrics: Metrics;
  log: Logger;
  limiter: CredentialLimiter;
  connections: ConnectionTable<Client>;
  logins: LoginThrottle;
  /** Filled here for every client let in: who it is, for the other hooks. */
  identities: WeakMap<Client, MqttIdentity>;
  maxConnections: { device: number; gateway: number; operator: number };
  remoteOf: (client: Client) => string;
}

/**
 * The CONNECT check (aedes' authenticate hook): a device or gateway by its secret (and its rate
 * ban and connection cap), an operator by password, behind the login throttle. Each refusal is
 * logged and counted, with the CONNACK code that says why.
 */
export function authenticateHook(d: AuthenticateDeps): NonNullable<AedesOptions['authenticate']> {
  const { registry, metrics, log, limiter, connections, logins, identities, maxConnections } = d;
  /** Admits a connection of `credential` and releases it when its socket closes. */
  const admit = (client: Client, credential: string, max: number): boolean => {
    if (client.conn.destroyed || !connections.admit(credential, client.id, client, max)) return false;
    client.conn.once('close', () => connections.release(credential, client));
    return true;
  };
  return (client, username, password, done) => {
    const secret = password?.toString('utf8') ?? '';
    const refuse = (code: 2 | 3 | 4 | 5, why: string, message = 'bad username or password') => {
      metrics.authFailures.inc();
      log.warn({ clientId: client.id.slice(0, 128), username: username?.slice(0, 100), why }, 'mqtt connect refused');
      done(authError(code, message), false);
    };
    const fail = (why: string) => refuse(BAD_CREDENTIALS, why);
    if (!username) return fail('no username');
    if (!clientIdBelongsTo(client.id, username)) {
      return refuse(IDENTIFIER_REJECTED, 'client id must be the username or "<username>#<suffix>"', 'identifier rejected');
    }
    const principal = registry.principal(username);
    if (principal) {
      if (!verifyDeviceSecret(secret, principal.secretHash)) return fail('wrong secret');
      const banned = limiter.bannedFor(username, Date.now());
      if (banned > 0) return refuse(SERVER_UNAVAILABLE, `over its rate limit; refused for ${Math.ceil(banned / 1000)} s more`, 'rate limited');
      const max = principal.kind === 'device' ? maxConnections.device : maxConnections.gateway;
      if (!admit(client, username, max)) return refuse(IDENTIFIER_REJECTED, `already ${max} connection(s) for this credential`, 'too many connections');
      identities.set(client, { kind: 'principal', principal });
      return done(null, true);
    }
    // Counted before the (asynchronous) password check and for unknown names too, so neither
    // parallel guesses nor a spray of usernames from one address get past the limit.
    const attempt = logins.begin(username, d.remoteOf(client), Date.now());
    if (!attempt) return fail('too many failed logins for this username or address; wait a minute');
    const operator = registry.operator(username);
    if (!operator) return fail('unknown username');
    // Operators watch live; a persistent session would have aedes queue (and later deliver)
    // messages for filters authorizeSubscribe refused, and grow memory while they are away.
    if (!client.clean) {
      log.warn({ clientId: client.id, username }, 'operator refused: persistent sessions are not allowed');
      return done(authError(NOT_AUTHORIZED, 'operators must connect with clean session'), false);
    }
    verifyPassword(secret, operator.passwordHash).then((ok) => {
      if (!ok) return fail('wrong password');
      logins.succeeded(attempt);
      if (!admit(client, username, maxConnections.operator)) return refuse(IDENTIFIER_REJECTED, `already ${maxConnections.operator} connections for this operator`, 'too many connections');
      identities.set(client, { kind: 'operator', operator });
      done(null, true);
    }, (err: Error) => fail(err.message));
  };
}

/**
 * Registry changes reach live sessions too (store/registry-sync.ts): a rotated, removed or
 * re-passworded credential closes its connections, which must then log in again.
 */
export function closeStaleSessions(broker: Aedes, registry: Registry, identities: WeakMap<Client, MqttIdentity>, log: Logger): void {
  // The connected clients, from aedes' own events (its `clients` map is not in its typings).
  const connected = new Set<Client>();
  broker.on('client', (c) => connected.add(c));
  broker.on('clientDisconnect', (c) => connected.delete(c));
  registry.onChange((r) => {
    for (const c of connected) {
      const who = identities.get(c);
      if (!who) continue;
      const stale = who.kind === 'principal'
        ? r.principal(`${who.principal.siteId}/${who.principal.id}`)?.secretHash !== who.principal.secretHash
        : r.operator(who.operator.username)?.passwordHash !== who.operator.passwordHash;
      if (!stale) continue;
      log.warn({ clientId: c.id }, 'mqtt session closed: its credential changed in the registry');
      c.close();
    }
  });
}
