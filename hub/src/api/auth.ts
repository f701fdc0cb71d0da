import fastifyJwt from '@fastify/jwt';
import fastifyRateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import fp from 'fastify-plugin';
import { Type } from '@sinclair/typebox';
import { LoginReply, USER_ROLES, UserRole, type OperatorClaims, type UserRole as Role } from '@shaobing/schemas';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyPassword } from '@shaobing/schemas/credentials';
import { LoginThrottle } from '../auth/login-throttle.ts';
import { HubError } from '../errors.ts';
import type { Registry } from '../site/registry.ts';

export type { OperatorClaims };

declare module '@fastify/jwt' {
  interface FastifyJWT { payload: OperatorClaims; user: OperatorClaims }
}
declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: 401 unless a valid token; then 403 unless the role is at least `min`. */
    requireRole(min: Role): (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

export const LoginBody = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export { LoginReply };

/** worker < viewer < dispatcher < supervisor < admin: a worker passes only routes that say `worker`. */
const rank = (r: Role) => USER_ROLES.indexOf(r);

/** Operators log in with a password (scrypt) and get an expiring JWT; routes declare the least role they need. */
export const authPlugin = fp(async (app: FastifyInstance, opts: { registry: Registry; secret: string; tokenTtlS: number }) => {
  // A signed token without `exp` would be valid forever: refuse it whoever signed it.
  await app.register(fastifyJwt, { secret: opts.secret, sign: { expiresIn: opts.tokenTtlS }, verify: { requiredClaims: ['exp', 'sub'] } });
  const logins = new LoginThrottle();
  await app.register(fastifyRateLimit, { global: false });

  app.decorate('requireRole', (min: Role) => async (req: FastifyRequest) => {
    try {
      await req.jwtVerify();
    } catch {
      throw new HubError('HUB_ERR_UNAUTHORIZED');
    }
    const op = opts.registry.account(req.user.sub);
    // A token outlives nothing: an operator removed from the site file loses access at once,
    // and role and sites are the current ones, not those signed into an older token.
    if (!op) throw new HubError('HUB_ERR_UNAUTHORIZED');
    req.user = { sub: op.username, role: op.role, sites: op.siteIds };
    if (rank(req.user.role) < rank(min)) throw new HubError('HUB_ERR_FORBIDDEN', `needs role ${min} or above; you are ${req.user.role}`);
  });

  app.withTypeProvider<TypeBoxTypeProvider>().post('/api/auth/login', {
    schema: { tags: ['auth'], body: LoginBody, response: { 200: LoginReply } },
    config: { rateLimit: { max: 10, timeWindow: '1 minute' } },
  }, async (req) => {
    const { username, password } = req.body;
    // Counted before the slow password check, so parallel guesses cannot all be checked.
    const attempt = logins.begin(username, req.ip, Date.now());
    if (!attempt) {
      req.log.warn({ username: username.slice(0, 64), ip: req.ip }, 'login refused: too many failed attempts');
      throw new HubError('HUB_ERR_RATE_LIMITED', 'too many failed logins for this username or address; wait a minute');
    }
    const op = opts.registry.account(username);
    // Verify against a dummy hash for unknown users so timing does not reveal who exists.
    const ok = await verifyPassword(password, op?.passwordHash ?? DUMMY_HASH);
    if (!op || !ok) {
      req.log.warn({ username: username.slice(0, 64) }, 'login failed');
      throw new HubError('HUB_ERR_BAD_LOGIN');
    }
    logins.succeeded(attempt);
    const claims: OperatorClaims = { sub: op.username, role: op.role, sites: op.siteIds ?? null };
    const token = app.jwt.sign(claims);
    return { token, expiresAt: new Date(Date.now() + opts.tokenTtlS * 1000).toISOString(), username: op.username, displayName: op.displayName, role: op.role, siteIds: op.siteIds };
  });
});

/** Sites an operator may see; null = all. */
export function visibleSites(req: FastifyRequest): string[] | null {
  return req.user?.sites ?? null;
}

const DUMMY_HASH = 'scrypt$16384$8$1$c2hhb2JpbmctZHVtbXk=$0nBbNbw8Sr5EOQd4Gfi0hSQvqFmd0Gf1l0vZ3Jd5rjs=';
