import { AboutReply } from '@shaobing/schemas';
import type { FastifyInstance } from 'fastify';

/** GET /api/about — public facts for the login page; demo = the bundled demo site is loaded. */
export async function aboutRoutes(app: FastifyInstance, opts: { demo: boolean }): Promise<void> {
  app.get('/api/about', { schema: { tags: ['ops'], response: { 200: AboutReply } } }, async () => ({ demo: opts.demo }));
}
