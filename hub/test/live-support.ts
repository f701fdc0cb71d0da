import { afterEach } from 'vitest';
import type { AddressInfo } from 'node:net';
import type { KpiSnapshot, LiveServerFrame, SiteFile } from '@shaobing/schemas';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import WebSocket from 'ws';
import { authPlugin } from '../src/api/auth.ts';
import { createHttpApp } from '../src/api/server.ts';
import { HubBus, type TicketBusChange } from '../src/bus.ts';
import { computeKpis } from '../src/kpi/core/index.ts';
import { busChange } from '../src/tickets/ticket-writer.ts';
import { makeTicket, T0 } from './tickets-fixtures.ts';
import type { IngestedEvent } from '../src/events.ts';
import { LiveFeed, livePlugin, type LiveFeedOptions } from '../src/live/index.ts';
import { Registry } from '../src/site/registry.ts';

// A syntactically valid hash; these tests sign tokens directly and never log in.
const HASH = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';

export function liveSiteFile(): SiteFile {
  const site = (id: string) => ({ id, name: id, grid: [{ id: 'street', level: 'street' as const, name: 'S' }], workers: [], gateways: [], devices: [] });
  return {
    version: 1,
    sites: [site('a'), site('b')],
    operators: [
      { username: 'boss', displayName: 'Boss', role: 'admin', passwordHash: HASH },
      { username: 'anna', displayName: 'Anna', role: 'viewer', passwordHash: HASH, siteIds: ['a'] },
    ],
  };
}

export interface LiveHarness {
  app: FastifyInstance;
  bus: HubBus;
  feed: LiveFeed;
  wsUrl: string;
  token(sub: string, sites?: string[] | null, expiresIn?: string): string;
  close(): Promise<void>;
}

export async function startLive(feedOpts: Partial<LiveFeedOptions> = {}, pluginOpts: { pingIntervalMs?: number } = {}): Promise<LiveHarness> {
  const log = pino({ level: 'silent' });
  const registry = new Registry(liveSiteFile());
  const bus = new HubBus();
  const feed = new LiveFeed({ bus, log, ...feedOpts });
  feed.start();
  const app = await createHttpApp({ log, dashboardDir: null });
  await app.register(authPlugin, { registry, secret: 'test-secret-test-secret-test-secret', tokenTtlS: 3600 });
  await app.register(livePlugin, { registry, log, feed, ...pluginOpts });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  return {
    app, bus, feed,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    token: (sub, sites = null, expiresIn) => app.jwt.sign({ sub, role: sub === 'boss' ? 'admin' : 'viewer', sites }, expiresIn ? { expiresIn } : {}),
    close: async () => { feed.stop(); await app.close(); },
  };
}

let msgCounter = 0;
export function fakeEvent(siteId = 'a', extra: Partial<IngestedEvent> = {}): IngestedEvent {
  const n = ++msgCounter;
  return {
    siteId, deviceId: `bin-${n % 7}`, family: 'bin', channel: 'telemetry', type: 'bin.telemetry',
    msgId: `m${n}`, ts: 1_700_000_000_000 + n, receivedAt: 1_700_000_000_000 + n, data: { fillPct: n % 100 }, ...extra,
  };
}

/** A real `ws` client that records every frame and can wait for a condition. */
export class LiveClient {
  readonly frames: LiveServerFrame[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as LiveServerFrame);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.wake();
    });
  }

  static connect(url: string, options: WebSocket.ClientOptions = {}): Promise<LiveClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const c = new LiveClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { statusCode: res.statusCode })));
      ws.once('error', reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  async waitFor(pred: (c: LiveClient) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; ${this.frames.length} frames, closed=${JSON.stringify(this.closed)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  /** Every data message received, in order. */
  messages(): Extract<LiveServerFrame, { kind: 'batch' }>['messages'] {
    return this.frames.flatMap((f) => (f.kind === 'batch' ? f.messages : []));
  }

  hello(): Extract<LiveServerFrame, { kind: 'hello' }> {
    const h = this.frames.find((f) => f.kind === 'hello');
    if (!h || h.kind !== 'hello') throw new Error('no hello');
    return h;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((r) => { this.ws.once('close', () => r()); this.ws.close(); });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A ticket opened on `siteId`, as the ticket service announces it after COMMIT. */
export function openedChange(ticketId: string, siteId: string): TicketBusChange {
  const ticket = makeTicket({ id: ticketId, siteId }, T0);
  return busChange({ kind: 'opened', ticket, from: null, at: ticket.openedAt, actor: 'system:bin-overflow' }, 'open');
}

/** Today's KPIs as the KPI service computes them: of one site, or street-wide (no siteId). */
export function kpiSnapshot(siteId?: string): KpiSnapshot {
  return computeKpis([makeTicket({ siteId: siteId ?? 'a' })], { from: T0 - 3600_000, to: T0 + 3600_000 }, T0, siteId ? { siteId } : {});
}

/** The clients and harness of one test; `closeAfterEach` closes them when it ends. */
export interface LiveScope { h: LiveHarness | null; clients: LiveClient[] }

export function closeAfterEach(scope: LiveScope): void {
  afterEach(async () => {
    for (const c of scope.clients.splice(0)) await c.close();
    await scope.h?.close();
    scope.h = null;
  });
}
