import { existsSync } from 'node:fs';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { HubError } from '../errors.ts';

/**
 * The fastify app with the cross-cutting parts (OpenAPI, error catalogue, static dashboard);
 * features register their routes as plugins on it.
 */
export async function createHttpApp(opts: {
  log: Logger; dashboardDir: string | null; bodyLimitBytes?: number;
  /** Serve HTTPS with this certificate (TLS_CERT_FILE / TLS_KEY_FILE with HTTP_TLS). */
  https?: { cert: Buffer; key: Buffer } | null;
  /** Honour X-Forwarded-For/-Proto/-Host (TRUST_PROXY): only behind a reverse proxy that sets them. */
  trustProxy?: boolean;
}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key, minVersion: 'TLSv1.2' as const } } : {}),
    trustProxy: opts.trustProxy ?? false,
    loggerInstance: opts.log.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: opts.bodyLimitBytes ?? 256 * 1024,
    // Per-request lines would drown the control room's logs; errors are still logged below.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Security headers on every answer. The dashboard is one origin: its own scripts and styles
  // (Svelte sets styles through the CSSOM; vite emits no inline script), the live feed on the
  // same host (ws/wss), camera snapshots from wherever the camera serves them. No CORS plugin
  // is registered on purpose: browsers refuse cross-origin API calls (the API is same-origin
  // only; integrations call it server to server with a token).
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:', 'https:', 'http:'],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // HSTS only when this hub itself serves HTTPS; behind a proxy the proxy decides.
    strictTransportSecurity: opts.https ? { maxAge: 180 * 24 * 3600 } : false,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Shaobing hub API', version: '1.0.0', description: 'Devices, events, tickets, complaints, KPIs. Log in at POST /api/auth/login, then send Authorization: Bearer <token>.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  // Swagger UI's own CSP (hashes for its inline scripts); it sets one inline style, allowed here.
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs', staticCSP: true,
    transformStaticCSP: (header) => header.replace("style-src 'self' https:", "style-src 'self' https: 'unsafe-inline'"),
  });

  app.setErrorHandler((err: FastifyError | HubError, req, reply) => {
    if (err instanceof HubError) return reply.code(err.statusCode).send({ code: err.code, message: err.message, statusCode: err.statusCode });
    if (err.validation) return reply.code(400).send({ code: 'HUB_ERR_VALIDATION', message: err.message, statusCode: 400 });
    const status = err.statusCode ?? 500;
    if (status === 429) return reply.code(429).send({ code: 'HUB_ERR_RATE_LIMITED', message: err.message, statusCode: 429 });
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({ code: err.code ?? 'HUB_ERR_INTERNAL', message: status >= 500 ? 'internal error' : err.message, statusCode: status });
  });

  if (opts.dashboardDir && existsSync(opts.dashboardDir)) {
    await app.register(fastifyStatic, { root: opts.dashboardDir, prefix: '/', wildcard: false });
    // Single-page app: unknown dashboard paths get index.html; the API, Open311, docs, live
    // feed and metrics namespaces answer a JSON 404 so a typo never looks like success.
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && isDashboardRoute(req.url)) return reply.sendFile('index.html');
      return reply.code(404).send({ code: 'HUB_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}`, statusCode: 404 });
    });
  } else {
    app.get('/', async (_req, reply) => reply.type('text/html').send('<!doctype html><meta charset="utf-8"><title>Shaobing</title><p>Shaobing hub is running. The dashboard is not built yet: run <code>npm run build</code>. API docs: <a href="/docs">/docs</a></p>'));
    app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'HUB_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}`, statusCode: 404 }));
  }
  return app;
}

/** Path prefixes that belong to the server, never to the single-page app. */
const SERVER_PREFIXES = ['/api', '/open311', '/docs', '/ws', '/metrics', '/healthz'];

function isDashboardRoute(url: string): boolean {
  const path = url.split('?')[0]!;
  return !SERVER_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
}
