import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryInfo, RuleDecision, SiteFile } from '@shaobing/schemas';
import type { HubHandle } from '../src/hub.ts';
import { NotifyLoop } from '../src/notify/delivery-loop.ts';
import { insertOutbox, type OutboxRow } from '../src/notify/outbox-repo.ts';
import { openDb } from '../src/store/open-db.ts';
import { Registry as PromRegistry } from 'prom-client';
import { createTestDatabase, testServerUrl } from './support/pg.ts';
import { eventually, login, startTestHub } from './support/test-hub.ts';
import { testSiteFile, writeTestSiteFile } from './support/test-site.ts';

/*
 * Notifications through the transactional outbox, to real local receivers: an HTTP server on
 * port 0 standing in for the generic webhook, the WeCom and DingTalk robots, and an SMTP server
 * (smtp-server) for e-mail. The receiver is down at first: the hub retries with back-off,
 * delivers each outbox row once, and keeps undelivered rows across a restart.
 */
const SECRET = 'webhook-secret-123';
interface Hit { path: string; body: string; headers: IncomingMessage['headers']; url: string }
const hits: Hit[] = [];
let down = 0; // the next `down` requests get a 503
let receiver: Server;
let base = '';
const mails: string[] = [];
let smtp: SMTPServer;
let smtpPort = 0;

const decision = (key: string, severity: 'critical' | 'high' | 'normal' = 'normal'): RuleDecision => ({
  kind: 'open', ruleId: 'camera.corridor', siteId: 't1', deviceId: 'cam-1', cellId: 'yard-1', dedupKey: key,
  severity, category: 'fire_safety', deviceVerifiable: false, title: { 'zh-CN': `楼道堆物 ${key}`, en: 'clutter' }, description: { 'zh-CN': '', en: '' },
  evidence: { eventKey: `t1/cam-1/${key}`, ts: new Date().toISOString(), type: 'camera.alert', deviceId: 'cam-1', summary: 'corridor_clutter 0.9' },
});
async function siteWithChannels(): Promise<SiteFile> {
  const file = structuredClone(await testSiteFile());
  const site = file.sites[0]!;
  site.workers[0]!.notify = [{ kind: 'wecom', url: `${base}/wecom` }, { kind: 'email', to: 'yard@example.test' }];
  site.notify = { groups: [{ cellId: 'comm-1', channels: [{ kind: 'dingtalk', url: `${base}/ding?access_token=t`, secret: 'ding-secret-1' }] }] };
  return file;
}
const post = (hub: HubHandle, path: string, token: string, body: unknown) =>
  fetch(`${hub.httpUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const idOf = async (hub: HubHandle, key: string) => (await hub.db.query<{ id: string }>('SELECT id FROM tickets WHERE dedup_key = $1', [key]))[0]!.id;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => {
      if (down > 0) { down--; res.writeHead(503).end('down'); return; }
      hits.push({ path: (req.url ?? '').split('?')[0]!, url: req.url ?? '', body, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errcode: 0, errmsg: 'ok' }));
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  smtp = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'],
    onData(stream, _s, cb) { let m = ''; stream.on('data', (c: Buffer) => { m += c.toString(); }); stream.on('end', () => { mails.push(m); cb(); }); },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => receiver.close(r));
  await new Promise<void>((r) => smtp.close(() => r()));
});

describe('notifications through the outbox', () => {
  let hub: HubHandle;
  const dataDir = mkdtempSync(join(tmpdir(), 'shaobing-notify-'));
  const config = async () => ({
    siteFile: await writeTestSiteFile(await siteWithChannels()), dataDir, notifyPollMs: 50,
    notifyWebhookUrl: `${base}/hook`, notifyWebhookSecret: SECRET, notifySmtpUrl: `smtp://127.0.0.1:${smtpPort}`,
  });
  afterAll(async () => { await hub?.stop(); });

  it('dispatch → the webhook gets a signed JSON body, after the receiver came back (retry with back-off)', { timeout: 90_000 }, async () => {
    hub = await startTestHub(await config());
    const disp = await login(hub, 'dispatcher');
    await hub.tickets.applyDecisions([decision('n1')]);
    const id = await idOf(hub, 'n1');
    down = 2;
    expect((await post(hub, `/api/tickets/${id}/dispatch`, disp, {})).status).toBe(200);
    const hit = await eventually(async () => hits.find((h) => h.path === '/hook' && JSON.parse(h.body).ticketId === id), 15_000);
    expect(JSON.parse(hit.body)).toMatchObject({ event: 'dispatched', siteId: 't1', ticketId: id, severity: 'normal' });
    expect(hit.headers['x-shaobing-signature']).toBe(createHmac('sha256', SECRET).update(hit.body).digest('hex'));
    // The worker's own channels: the WeCom robot and e-mail over SMTP.
    const wecom = await eventually(async () => hits.find((h) => h.path === '/wecom' && h.body.includes(id)), 10_000);
    expect(JSON.parse(wecom.body)).toMatchObject({ msgtype: 'markdown' });
    await eventually(async () => mails.find((m) => m.includes('yard@example.test')), 10_000);
    // On the ticket's timeline: delivered, with the attempts it took.
    const detail = await (await fetch(`${hub.httpUrl}/api/tickets/${id}`, { headers: { authorization: `Bearer ${disp}` } })).json() as { deliveries: DeliveryInfo[] };
    const hook = await eventually(async () => {
      const d = await (await fetch(`${hub.httpUrl}/api/tickets/${id}`, { headers: { authorization: `Bearer ${disp}` } })).json() as { deliveries: DeliveryInfo[] };
      return d.deliveries.find((x) => x.channel === 'webhook' && x.status === 'sent');
    });
    expect(detail.deliveries.length).toBe(3);
    expect(hook.attempts).toBeGreaterThanOrEqual(2);
    const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/shaobing_notify_sent_total\{channel="webhook"\} [1-9]/);
    expect(metrics).toMatch(/shaobing_notify_failures_total\{channel="\w+"\} [1-9]/);
  });

  it('escalation to the community (level 1) reaches its group robot (DingTalk, signed URL)', async () => {
    const disp = await login(hub, 'dispatcher');
    await hub.tickets.applyDecisions([decision('n2')]);
    const id = await idOf(hub, 'n2');
    expect((await post(hub, `/api/tickets/${id}/escalate`, disp, { note: '需要社区协调' })).status).toBe(200);
    const ding = await eventually(async () => hits.find((h) => h.path === '/ding' && h.body.includes(id)), 10_000);
    const u = new URL(ding.url, base);
    const ts = u.searchParams.get('timestamp')!;
    expect(u.searchParams.get('sign')).toBe(createHmac('sha256', 'ding-secret-1').update(`${ts}\nding-secret-1`).digest('base64'));
    expect(JSON.parse(ding.body)).toMatchObject({ msgtype: 'markdown' });
  });

  it('rows not yet delivered survive a restart of the hub and go out once it is back', { timeout: 120_000 }, async () => {
    const disp = await login(hub, 'dispatcher');
    await hub.tickets.applyDecisions([decision('n3')]);
    const id = await idOf(hub, 'n3');
    down = 1_000_000;
    await post(hub, `/api/tickets/${id}/dispatch`, disp, {});
    await eventually(async () => (await hub.db.query<{ n: number }>(`SELECT attempts AS n FROM notify_outbox WHERE ticket_id = $1 AND attempts > 0 LIMIT 1`, [id]))[0]);
    await hub.stop();
    down = 0;
    hub = await startTestHub(await config());
    await eventually(async () => hits.find((h) => h.path === '/hook' && JSON.parse(h.body).ticketId === id), 20_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(hits.filter((h) => h.path === '/hook' && JSON.parse(h.body).ticketId === id && JSON.parse(h.body).event === 'dispatched')).toHaveLength(1);
  });
});

describe.runIf(testServerUrl() !== null)('two delivery loops on one PostgreSQL outbox', () => {
  it('never send one row twice (FOR UPDATE SKIP LOCKED)', async () => {
    const pg = await createTestDatabase();
    const log = pino({ level: 'silent' });
    const db = await openDb({ databaseUrl: pg.url, dataDir: 'memory://', log });
    try {
      const now = new Date().toISOString();
      const rows: OutboxRow[] = Array.from({ length: 60 }, (_, i) => ({
        ticketId: `T-${i}`, siteId: 't1', event: 'dispatched', severity: 'normal', recipient: `w-${i}`,
        channel: { kind: 'webhook', url: `${base}/race` }, payload: { event: 'dispatched', siteId: 't1', ticketId: `T-${i}`, severity: 'normal', title: 't', text: 't', at: now }, dueAt: now, createdAt: now,
      }));
      await insertOutbox(db, rows);
      const loop = () => new NotifyLoop({ db, log, pollMs: 50, prom: new PromRegistry(), batch: 7, deps: { mailer: null, mailFrom: 'x@y', timeoutMs: 5000, now: Date.now } });
      const a = loop();
      const b = loop();
      for (let i = 0; i < 20; i++) await Promise.all([a.pollOnce(), b.pollOnce()]);
      const got = hits.filter((h) => h.path === '/race').map((h) => JSON.parse(h.body).ticketId as string);
      expect(got.length).toBe(60);
      expect(new Set(got).size).toBe(60);
    } finally {
      await db.close();
      await pg.drop();
    }
  });
});
