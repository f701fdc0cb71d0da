import fastifyWebsocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { LIVE_CLOSE, LiveClientMessage, Validator, type OperatorClaims } from '@shaobing/schemas';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import { HubError } from '../errors.ts';
import type { Registry } from '../site/registry.ts';
import type { LiveFeed } from './feed.ts';
import type { LiveSession } from './session.ts';
import type { WorkerScope } from '../tickets/core/index.ts';
import { workerEntryFilter } from './worker-filter.ts';

export interface LivePluginOptions {
  /** The running feed; its owner (hub.ts) starts and stops it. */
  feed: LiveFeed;
  registry: Registry;
  log: Logger;
  /** Keep-alive ping period (default 30 s). */
  pingIntervalMs?: number;
  /** A grid worker's scope (tickets' scopeOf); without it worker tokens are refused. */
  workerScope?: (username: string) => WorkerScope | undefined;
}

// Close codes: schemas/src/live.ts (the dashboard reads the same table).
export const CLOSE_BAD_MESSAGE = LIVE_CLOSE.badMessage;
export const CLOSE_TOKEN_EXPIRED = LIVE_CLOSE.tokenExpired;
export const CLOSE_FORBIDDEN = LIVE_CLOSE.forbidden;

const Query = Type.Object({ token: Type.Optional(Type.String({ maxLength: 4096 })) });
const clientMessage = new Validator(LiveClientMessage);

/**
 * GET /ws — the live feed. Browsers can't put headers on a WebSocket, so the JWT comes as
 * `?token=`; it is checked before the upgrade (a bad one gets a plain HTTP 401, no socket).
 * Register after authPlugin (it needs `app.jwt`).
 */
export async function livePlugin(app: FastifyInstance, opts: LivePluginOptions): Promise<void> {
  const log = opts.log;
  const feed = opts.feed;

  await app.register(fastifyWebsocket, {
    // Client messages are tiny (resume/subscribe); anything big is abuse.
    options: { maxPayload: 4096 },
  });

  const claimsOf = new WeakMap<FastifyRequest, OperatorClaims & { exp?: number }>();
  const scopeOf = new WeakMap<FastifyRequest, WorkerScope>();

  app.withTypeProvider<TypeBoxTypeProvider>().get('/ws', {
    websocket: true,
    schema: { hide: true, querystring: Query },
    preValidation: async (req) => {
      const token = req.query.token;
      if (!token) throw new HubError('HUB_ERR_UNAUTHORIZED', 'pass the login token as ?token=');
      let claims: OperatorClaims & { exp?: number };
      try {
        claims = app.jwt.verify<OperatorClaims & { exp?: number }>(token);
      } catch {
        throw new HubError('HUB_ERR_UNAUTHORIZED', 'token invalid or expired');
      }
      // Same rule as the REST API: an operator removed from the site file loses access at once.
      if (claims.role === 'worker') {
        // A grid worker gets the tickets they may see, nothing else (worker-filter.ts).
        const scope = opts.registry.account(claims.sub)?.role === 'worker' ? opts.workerScope?.(claims.sub) : undefined;
        if (scope === undefined) throw new HubError('HUB_ERR_UNAUTHORIZED');
        scopeOf.set(req, scope);
      } else if (!opts.registry.operator(claims.sub)) throw new HubError('HUB_ERR_UNAUTHORIZED');
      claimsOf.set(req, claims);
    },
  }, (socket: WebSocket, req: FastifyRequest) => {
    const claims = claimsOf.get(req);
    if (!claims) return socket.close(CLOSE_FORBIDDEN, 'unauthorised');
    const session = feed.attach(socket, { username: claims.sub, sites: claims.sites ?? null });
    const scope = scopeOf.get(req);
    if (scope !== undefined) session.restrict(workerEntryFilter(scope));
    const slog = log.child({ operator: claims.sub });
    slog.debug('live client connected');

    let expiry: NodeJS.Timeout | null = null;
    if (typeof claims.exp === 'number') {
      // Cap: setTimeout overflows past ~24.8 days; tokens live hours.
      const ms = Math.min(claims.exp * 1000 - Date.now(), 2 ** 31 - 1);
      expiry = setTimeout(() => socket.close(CLOSE_TOKEN_EXPIRED, 'token expired'), Math.max(ms, 0));
      expiry.unref();
    }

    // Pings find peers that vanished without a FIN (a laptop asleep, a dropped NAT entry);
    // browsers answer them on their own. No pong by the next ping → the socket is cut.
    let alive = true;
    socket.on('pong', () => { alive = true; });
    const pinger = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, opts.pingIntervalMs ?? 30_000);
    pinger.unref();

    socket.on('message', (raw: RawData, isBinary: boolean) => handleMessage(feed, session, socket, raw, isBinary, slog));
    socket.on('error', (err) => slog.debug({ err }, 'live socket error'));
    socket.on('close', () => {
      clearInterval(pinger);
      if (expiry) clearTimeout(expiry);
      feed.detach(session);
      slog.debug('live client disconnected');
    });
  });
}

function handleMessage(feed: LiveFeed, session: LiveSession, socket: WebSocket, raw: RawData, isBinary: boolean, log: Logger): void {
  let msg: unknown;
  try {
    msg = isBinary ? undefined : JSON.parse(rawText(raw));
  } catch {
    msg = undefined;
  }
  const checked = clientMessage.validate(msg);
  if (!checked.ok) {
    log.debug({ issues: checked.issues }, 'bad live client message');
    socket.close(CLOSE_BAD_MESSAGE, 'expected {kind:"resume"|"subscribe", ...}');
    return;
  }
  const m = checked.value;
  if (m.kind === 'resume') {
    const replaying = session.resume(m.lastSeq, m.epoch, new Date().toISOString(), m.position);
    // A resume by position reads the database first; the stream starts once its replay is sent.
    if (replaying) return void replaying.then(() => feed.pumpOne(session), (err: Error) => log.warn({ err }, 'live replay failed'));
  } else {
    const err = session.subscribe(m.siteId, m.families);
    if (err) {
      socket.close(CLOSE_FORBIDDEN, err.slice(0, 120));
      return;
    }
    // Subscribing alone also starts a stream, from now.
    if (!session.started && !session.replaying) void session.resume(feed.ring.head, feed.epoch, new Date().toISOString());
  }
  feed.pumpOne(session);
}

function rawText(raw: RawData): string {
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw).toString('utf8');
}
