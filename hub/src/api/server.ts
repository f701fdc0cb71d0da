import { existsSync } from 'node:fs';
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
export async function createHttpApp(opts: { log: Logger; dashboardDir: string | null; bodyLimitBytes?: number }): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.log.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: opts.bodyLimitBytes ?? 256 * 1024,
    // Per-request lines would drown the control room's logs; errors are still logged below.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Shaobing hub API', version: '1.0.0', description: 'Devices, events, tickets, complaints, KPIs. Log in at POST /api/auth/login, then send Authorization: Bearer <token>.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err: FastifyError | HubError, req, reply) => {
    if (err instanceof HubError) return reply.code(err.statusCode).send({ code: err.code, message: err.message, statusCode: err.statusCode });
    if ((err as FastifyError).validation) return reply.code(400).send({ code: 'HUB_ERR_VALIDATION', message: err.message, statusCode: 400 });
    const status = (err as FastifyError).statusCode ?? 500;
    if (status === 429) return reply.code(429).send({ code: 'HUB_ERR_RATE_LIMITED', message: err.message, statusCode: 429 });
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({ code: (err as FastifyError).code ?? 'HUB_ERR_INTERNAL', message: status >= 500 ? 'internal error' : err.message, statusCode: status });
  });

  if (opts.dashboardDir && existsSync(opts.dashboardDir)) {
    await app.register(fastifyStatic, { root: opts.dashboardDir, prefix: '/', wildcard: false });
    // Single-page app: unknown non-API paths get index.html.
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/') && !req.url.startsWith('/ws')) return reply.sendFile('index.html');
      return reply.code(404).send({ code: 'HUB_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}`, statusCode: 404 });
    });
  } else {
    app.get('/', async (_req, reply) => reply.type('text/html').send('<!doctype html><meta charset="utf-8"><title>Shaobing</title><p>Shaobing hub is running. The dashboard is not built yet: run <code>npm run build</code>. API docs: <a href="/docs">/docs</a></p>'));
    app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'HUB_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}`, statusCode: 404 }));
  }
  return app;
}
