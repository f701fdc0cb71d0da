import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child } from '../../bench/ingest/child.ts';
import type { FromLoadGen, FromServer, ToLoadGen, ToServer } from '../../bench/ingest/protocol.ts';
import { WATCHER, writeSite } from '../../bench/ingest/site.ts';
import { createTestDatabase } from './support/pg.ts';

/*
 * `npm run bench` must not break silently when a hub rule changes (the client-id rule once made
 * every load-generator connection fail): the bench's own server and load-generator processes,
 * speaking the bench protocol, against the real hub (port 0, a fresh database on the test
 * server, as the bench's hub-pg target) and bare aedes.
 */
describe('ingest bench: load generator and server protocol', () => {
  let siteFile = "";
  let clients: Awaited<ReturnType<typeof writeSite>>["clients"] = [];
  beforeAll(async () => ({ siteFile, clients } = await writeSite(2)));
  const children: Child<unknown, { ev: string }>[] = [];
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of children) c.kill();
    for (const drop of drops) await drop();
  });

  for (const target of ['hub-pg', 'aedes'] as const) {
    it(`${target}: 2 connections publish, every acknowledged id is found by the server`, async () => {
      const server = new Child<ToServer, FromServer>('server.ts');
      const gen = new Child<ToLoadGen, FromLoadGen>('load-gen.ts');
      children.push(server as Child<unknown, { ev: string }>, gen as Child<unknown, { ev: string }>);
      let databaseUrl: string | undefined;
      if (target === 'hub-pg') {
        const db = await createTestDatabase();
        drops.push(db.drop);
        databaseUrl = db.url;
      }
      const { url, httpUrl } = await server.ask({ cmd: 'start', target, siteFile, ...(databaseUrl ? { databaseUrl } : {}) }, 'started');
      const conn = await gen.ask({ cmd: 'connect', url, clients, runId: 'smoke', concurrency: 2 }, 'connected');
      expect(conn.failed).toBe(0);
      // The hub's live feed, as the latency section follows it: an operator login and the WebSocket.
      if (httpUrl) await gen.ask({ cmd: 'watch', httpUrl, ...WATCHER }, 'watching');
      const closed = (await gen.ask({ cmd: 'run', plan: { kind: 'closed', window: 2, ms: 300 } }, 'result')).result;
      const open = (await gen.ask({ cmd: 'run', plan: { kind: 'open', ratePerSec: 50, ms: 300, probeEveryMs: 100 } }, 'result')).result;
      if (target === 'hub-pg') {
        expect(open.probes).toBeGreaterThan(0);
        expect(open.ticketLatencies).toHaveLength(open.probes); // every probe's ticket frame arrived
      }
      for (const r of [closed, open]) {
        expect(r.failed).toBe(0);
        expect(r.acked).toBeGreaterThan(0);
        expect(r.acked).toBe(r.sent);
        expect(r.latencies).toHaveLength(r.acked);
      }
      const acked = [...closed.ackedIds, ...open.ackedIds];
      const verified = await server.ask({ cmd: 'verify', ackedIds: acked }, 'verified');
      expect(verified).toMatchObject({ missing: 0, duplicates: 0, rows: acked.length + open.probes });
      gen.kill();
      await server.ask({ cmd: 'stop' }, 'stopped');
      await server.exited(5_000);
    }, 120_000); // a few seconds on an idle machine; forking two tsx processes takes far longer at load 20
  }
});
