import { timingSafeEqual, createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { parseTopic } from '@shaobing/schemas';
import { verifyDeviceSecret, verifyPassword } from '@shaobing/schemas/credentials';
import { LoginThrottle } from '../auth/login-throttle.ts';
import type { Registry } from '../site/registry.ts';
import { mayPublish, maySubscribe, type MqttIdentity } from './acl.ts';
import { clientIdBelongsTo } from './client-identity.ts';

/*
 * EMQX HTTP authentication and authorization against the site file (README "Scaling out"):
 * the same credentials, client-id rule and ACL as the embedded broker — acl.ts and
 * client-identity.ts decide, this module only speaks EMQX's HTTP shapes. The hub's own
 * ingest connections log in as HUB_MQTT_USERNAME with the hook secret as password.
 */

/** Username of the hubs' own connections to the external broker (not a site/device or operator name). */
export const HUB_MQTT_USERNAME = 'shaobing-hub';

/** What EMQX posts (the body templates in docker-compose.yml; every placeholder arrives as a string). */
export const EmqxAuthnRequest = Type.Object({
  clientid: Type.String({ maxLength: 256 }),
  username: Type.String({ maxLength: 256 }),
  password: Type.String({ maxLength: 1024 }),
  peerhost: Type.Optional(Type.String({ maxLength: 64 })),
  /** `${zone}`: the zone of the listener the client came in on (operators: see authenticate). */
  zone: Type.Optional(Type.String({ maxLength: 64 })),
});
export const EmqxAuthzRequest = Type.Object({
  clientid: Type.String({ maxLength: 256 }),
  username: Type.String({ maxLength: 256 }),
  action: Type.Union([Type.Literal('publish'), Type.Literal('subscribe'), Type.Literal('all')]),
  topic: Type.String({ maxLength: 1024 }),
  qos: Type.Optional(Type.String({ maxLength: 4 })),
  retain: Type.Optional(Type.String({ maxLength: 8 })),
  peerhost: Type.Optional(Type.String({ maxLength: 64 })),
});
export type EmqxAuthnRequest = Static<typeof EmqxAuthnRequest>;
export type EmqxAuthzRequest = Static<typeof EmqxAuthzRequest>;

const Result = Type.Object({ result: Type.Union([Type.Literal('allow'), Type.Literal('deny')]), is_superuser: Type.Optional(Type.Boolean()) });
export type EmqxResult = Static<typeof Result>;

type Who = MqttIdentity | { kind: 'hub' };

const sameSecret = (a: string, b: string): boolean => {
  // Hash both so the comparison takes the same time whatever the lengths.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
};

/**
 * Authentication: a device or gateway by its secret, an operator by password (throttled as on
 * the embedded broker), a hub by the hook secret; the client id must be the username or
 * `<username>#<suffix>` (client-identity.ts). Never superuser: every publish and subscribe is
 * authorised by `authorize`.
 *
 * Operators must not hold persistent sessions (the broker would queue the live stream for
 * them while away, as the embedded broker refuses: broker.ts). EMQX 5.8 does not pass
 * clean_start to HTTP authentication — its placeholders are username, clientid, password,
 * peerhost, peerport, cert_subject, cert_common_name, cert_pem, zone and client_attrs — so the
 * rule is the listener's: operators log in only through a listener of `operatorZone`, whose
 * zone ends every session with its connection (docker-compose.yml); from any other zone they
 * are refused.
 */
export async function authenticate(registry: Registry, hookSecret: string, throttle: LoginThrottle, r: EmqxAuthnRequest, now: number, operatorZone = 'operators'): Promise<{ ok: true; who: Who } | { ok: false; why: string }> {
  if (!r.username) return { ok: false, why: 'no username' };
  if (!clientIdBelongsTo(r.clientid, r.username)) return { ok: false, why: 'client id must be the username or "<username>#<suffix>"' };
  if (r.username === HUB_MQTT_USERNAME) return sameSecret(r.password, hookSecret) ? { ok: true, who: { kind: 'hub' } } : { ok: false, why: 'wrong hub secret' };
  const principal = registry.principal(r.username);
  if (principal) {
    return verifyDeviceSecret(r.password, principal.secretHash) ? { ok: true, who: { kind: 'principal', principal } } : { ok: false, why: 'wrong secret' };
  }
  const attempt = throttle.begin(r.username, r.peerhost ?? 'emqx', now);
  if (!attempt) return { ok: false, why: 'too many failed logins for this username or address; wait a minute' };
  const operator = registry.operator(r.username);
  if (!operator) return { ok: false, why: 'unknown username' };
  if (r.zone !== operatorZone) return { ok: false, why: `operators log in through the listener of zone "${operatorZone}" (no persistent sessions), not ${JSON.stringify(r.zone ?? null)}` };
  if (!(await verifyPassword(r.password, operator.passwordHash))) return { ok: false, why: 'wrong password' };
  throttle.succeeded(attempt);
  return { ok: true, who: { kind: 'operator', operator } };
}

/** Who a connected client is, from its username alone (EMQX authenticated it already). */
function identity(registry: Registry, username: string): Who | null {
  if (username === HUB_MQTT_USERNAME) return { kind: 'hub' };
  const principal = registry.principal(username);
  if (principal) return { kind: 'principal', principal };
  const operator = registry.operator(username);
  return operator ? { kind: 'operator', operator } : null;
}

/**
 * Authorisation of one publish or subscribe with the embedded broker's ACL (acl.ts). Hubs
 * subscribe to device topics, shared (`$share/<group>/shaobing/v1/...`) or not, and publish nothing.
 */
export function authorize(registry: Registry, r: EmqxAuthzRequest): boolean {
  if (!clientIdBelongsTo(r.clientid, r.username)) return false;
  const who = identity(registry, r.username);
  if (!who || r.action === 'all') return false;
  if (who.kind === 'hub') {
    const filter = r.topic.startsWith('$share/') ? r.topic.split('/').slice(2).join('/') : r.topic;
    return r.action === 'subscribe' && (filter === 'shaobing/v1/#' || filter.startsWith('shaobing/v1/'));
  }
  if (r.action === 'publish') return mayPublish(who, parseTopic(r.topic));
  return maySubscribe(who, r.topic);
}

/**
 * POST /api/broker/emqx/authn and /api/broker/emqx/authz — EMQX's HTTP authenticator and
 * authoriser. Protected by `Authorization: Bearer <BROKER_HOOK_SECRET>`; anything else is a 401,
 * which EMQX treats as `ignore` — with no other source and `no_match = deny`, a refusal.
 */
export async function emqxAuthRoutes(app: FastifyInstance, opts: { registry: Registry; hookSecret: string; log: Logger; now?: () => number; operatorZone?: string }): Promise<void> {
  const { registry, hookSecret, log } = opts;
  const throttle = new LoginThrottle();
  const now = opts.now ?? Date.now;
  const counts = { allow: 0, deny: 0 };
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.addHook('onRequest', async (req, reply) => {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ') || !sameSecret(header.slice(7), hookSecret)) {
      log.warn({ url: req.url, from: req.ip }, 'broker hook call without the hook secret refused');
      return reply.code(401).send({ code: 'HUB_ERR_UNAUTHORIZED', message: 'broker hook secret required' });
    }
  });
  const answer = (ok: boolean): EmqxResult => { counts[ok ? 'allow' : 'deny']++; return { result: ok ? 'allow' : 'deny', is_superuser: false }; };
  r.post('/api/broker/emqx/authn', { schema: { hide: true, body: EmqxAuthnRequest, response: { 200: Result } } }, async (req) => {
    const verdict = await authenticate(registry, hookSecret, throttle, req.body, now(), opts.operatorZone);
    if (!verdict.ok) log.warn({ clientId: req.body.clientid.slice(0, 128), username: req.body.username.slice(0, 100), why: verdict.why }, 'emqx connect refused');
    return answer(verdict.ok);
  });
  r.post('/api/broker/emqx/authz', { schema: { hide: true, body: EmqxAuthzRequest, response: { 200: Result } } }, async (req) => {
    const ok = authorize(registry, req.body);
    if (!ok) log.warn({ clientId: req.body.clientid.slice(0, 128), action: req.body.action, topic: req.body.topic.slice(0, 200) }, 'emqx publish/subscribe refused');
    const { is_superuser: _omit, ...rest } = answer(ok);
    return rest;
  });
}
