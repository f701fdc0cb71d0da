import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { SiteFile, Ticket } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SITE_FILE, loadConfig } from '../src/config.ts';
import { startHub, type HubHandle } from '../src/hub.ts';

/*
 * 抢单 against the real store: a sanitation complaint offered to the 3 nearest cleaners of the
 * demo site, two of them accepting at the same moment over REST — exactly one takes it, the
 * other gets a 409 naming the winner, and the outbox tells the candidates who lost.
 */
const OPS = { username: 'dispatcher', role: 'dispatcher' as const, sites: null };
// Grid steps from unit c01-y01-b01-u1: its compound's cleaner 1, the community's worker 2, the next compound's cleaner 3 (before the street's, also 3, by id).
const CANDIDATES = ['w-c01-y01-cleaning-1', 'w-c01', 'w-c01-y02-cleaning-1'];
let hub: HubHandle;
let dir: string;

const login = async (u: string): Promise<string> => {
  const r = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u, password: 'worker123' }) });
  return ((await r.json()) as { token: string }).token;
};
const accept = (id: string, token: string) => fetch(`${hub.httpUrl}/api/tickets/${id}/accept`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shaobing-offer-'));
  const site = JSON.parse(await readFile(DEMO_SITE_FILE, 'utf8')) as SiteFile;
  site.sites[0]!.offerNearest = { sanitation: 3 };
  for (const w of site.sites[0]!.workers) w.notify = [{ kind: 'webhook', url: `http://127.0.0.1:9/${w.id}` }];
  const siteFile = join(dir, 'site.json');
  await writeFile(siteFile, JSON.stringify(site));
  hub = await startHub(loadConfig({}, { httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: 'memory://', siteFile, logLevel: 'silent', notifyPollMs: 60_000 }),
    { log: pino({ level: 'silent' }), dashboardDir: null });
}, 60_000);
afterAll(async () => {
  await hub?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('抢单 on the store', () => {
  let ticket: Ticket;

  it('opens the complaint offered to the three nearest cleaners, nobody assigned; each sees it on the phone list', async () => {
    ticket = (await hub.tickets.openComplaint({ siteId: 'demo', cellId: 'c01-y01-b01-u1', category: 'sanitation', text: '垃圾满溢', source: 'app' }, OPS, Date.now())).ticket;
    expect(ticket.assigneeId).toBeUndefined();
    expect(ticket.offeredTo).toEqual(CANDIDATES);
    for (const w of CANDIDATES) {
      const list = await hub.tickets.list({}, { username: w, role: 'worker', sites: ['demo'] });
      expect(list.items.map((t) => t.id)).toContain(ticket.id);
    }
    const rows = await hub.db.query<{ event: string; recipient: string }>('SELECT event, recipient FROM notify_outbox WHERE ticket_id = $1 ORDER BY id', [ticket.id]);
    expect(rows.map((r) => [r.event, r.recipient])).toEqual(CANDIDATES.map((w) => ['offered', w]));
  });

  it('two accept at once: one takes it, the other gets 409 HUB_ERR_ALREADY_TAKEN naming the winner', async () => {
    const [a, b] = await Promise.all([login(CANDIDATES[0]!), login(CANDIDATES[1]!)]);
    const [ra, rb] = await Promise.all([accept(ticket.id, a), accept(ticket.id, b)]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = ra.status === 409 ? ra : rb;
    const winner = ra.status === 200 ? CANDIDATES[0]! : CANDIDATES[1]!;
    const body = await loser.json() as { code: string; message: string };
    expect(body.code).toBe('HUB_ERR_ALREADY_TAKEN');
    expect(body.message).toContain(winner);
    const stored = (await hub.db.query<{ doc: Ticket }>('SELECT doc FROM tickets WHERE id = $1', [ticket.id]))[0]!.doc;
    expect(stored).toMatchObject({ status: 'accepted', assigneeId: winner });
    // A late third try is refused the same way, not "not found".
    const late = await accept(ticket.id, await login(CANDIDATES[2]!));
    expect(late.status).toBe(409);
    // The others were told it is taken, through the outbox (same transaction as the accept).
    const rows = await hub.db.query<{ recipient: string }>("SELECT recipient FROM notify_outbox WHERE ticket_id = $1 AND event = 'taken' ORDER BY recipient", [ticket.id]);
    expect(rows.map((r) => r.recipient)).toEqual(CANDIDATES.filter((w) => w !== winner).sort());
  });

  it('an offer nobody takes escalates at the response deadline as before', async () => {
    const t = (await hub.tickets.openComplaint({ siteId: 'demo', cellId: 'c01-y02-b01-u1', category: 'sanitation', text: '无人接', source: 'app' }, OPS, Date.now())).ticket;
    expect(t.offeredTo?.length).toBe(3);
    await hub.tickets.sweepSla(Date.parse(t.respondBy) + 60_000);
    const after = (await hub.db.query<{ doc: Ticket }>('SELECT doc FROM tickets WHERE id = $1', [t.id]))[0]!.doc;
    expect(after.escalationLevel).toBeGreaterThanOrEqual(1);
  });
});
