import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AttachmentInfo, Ticket } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchSnapshot, SnapshotAllowlist, type SnapshotPolicy } from '../src/tickets/snapshot-fetch.ts';
import { eventually, startTestHub } from './support/test-hub.ts';
import type { HubHandle } from '../src/hub.ts';

// Camera snapshots kept as evidence, without SSRF: a local camera-like server on port 0.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');
let server: Server;
let port = 0;
const hits: string[] = [];
const base = () => `http://127.0.0.1:${port}`;
const POLICY: SnapshotPolicy = { allow: ['127.0.0.1/32'], maxBytes: 4096, timeoutMs: 500 };

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const u = req.url ?? '';
    if (u === '/ok.png') return res.writeHead(200, { 'content-type': 'text/plain' }).end(PNG); // the type lies; the bytes decide
    if (u === '/big-declared') return res.writeHead(200, { 'content-length': '100000' }).end(Buffer.concat([PNG, Buffer.alloc(100000 - PNG.length)]));
    if (u === '/big-chunked') { res.writeHead(200); res.write(PNG); for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000)); return res.end(); }
    if (u === '/slow') { res.writeHead(200); res.write(PNG.subarray(0, 4)); return; } // never finishes
    if (u === '/text') return res.writeHead(200, { 'content-type': 'image/png' }).end('<html>not a picture</html>');
    if (u === '/gone') return res.writeHead(404).end();
    if (u === '/redirect-in') return res.writeHead(302, { location: '/ok.png' }).end();
    if (u === '/redirect-out') return res.writeHead(302, { location: `http://127.0.0.2:${port}/ok.png` }).end();
    if (u === '/loop') return res.writeHead(302, { location: '/loop' }).end();
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('fetchSnapshot', () => {
  it('an allowed host: the image, sniffed by its bytes', async () => {
    const r = await fetchSnapshot(`${base()}/ok.png`, POLICY);
    expect(r).toMatchObject({ ok: true, mime: 'image/png' });
    expect(r.ok && r.content.equals(PNG)).toBe(true);
  });

  it('off by default, and refuses what the allowlist does not name — before any request', async () => {
    const before = hits.length;
    expect(await fetchSnapshot(`${base()}/ok.png`, { ...POLICY, allow: [] })).toMatchObject({ ok: false, reason: 'disabled' });
    expect(await fetchSnapshot(`${base()}/ok.png`, { ...POLICY, allow: ['10.0.0.0/8', 'cam.example.org'] })).toMatchObject({ ok: false, reason: 'not_allowed' });
    expect(await fetchSnapshot('file:///etc/passwd', POLICY)).toMatchObject({ ok: false, reason: 'bad_url' });
    expect(await fetchSnapshot(`http://user:pw@127.0.0.1:${port}/ok.png`, POLICY)).toMatchObject({ ok: false, reason: 'bad_url' });
    expect(hits.length).toBe(before);
  });

  it('too big (declared or streamed), too slow, not an image, an error status', async () => {
    expect(await fetchSnapshot(`${base()}/big-declared`, POLICY)).toMatchObject({ ok: false, reason: 'too_large' });
    expect(await fetchSnapshot(`${base()}/big-chunked`, POLICY)).toMatchObject({ ok: false, reason: 'too_large' });
    const t0 = Date.now();
    expect(await fetchSnapshot(`${base()}/slow`, POLICY)).toMatchObject({ ok: false, reason: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(5000); // bounded by the policy, not by the server
    expect(await fetchSnapshot(`${base()}/text`, POLICY)).toMatchObject({ ok: false, reason: 'not_image' });
    expect(await fetchSnapshot(`${base()}/gone`, POLICY)).toMatchObject({ ok: false, reason: 'http_status' });
  });

  it('follows a redirect within the allowlist; refuses one to a host outside it (never fetched)', async () => {
    expect(await fetchSnapshot(`${base()}/redirect-in`, POLICY)).toMatchObject({ ok: true, url: `${base()}/ok.png` });
    const before = hits.length;
    expect(await fetchSnapshot(`${base()}/redirect-out`, POLICY)).toMatchObject({ ok: false, reason: 'not_allowed' });
    expect(hits.slice(before)).toEqual(['/redirect-out']);
    expect(await fetchSnapshot(`${base()}/loop`, POLICY)).toMatchObject({ ok: false, reason: 'too_many_redirects' });
  });

  it('allowlist entries: CIDR, one address, IPv6, exact names', () => {
    const a = new SnapshotAllowlist(['10.1.0.0/16', '192.168.5.7', 'fd00::/8', 'Cam.Example.org']);
    expect(['10.1.2.3', '192.168.5.7', 'fd00::1'].map((ip) => a.allowsAddress(ip))).toEqual([true, true, true]);
    expect(['10.2.0.1', '192.168.5.8', '169.254.169.254', '::1'].map((ip) => a.allowsAddress(ip))).toEqual([false, false, false, false]);
    expect([a.allowsName('cam.example.org'), a.allowsName('evil.example.org')]).toEqual([true, false]);
  });
});

describe('the hub keeps a camera alert\'s snapshot on the ticket', () => {
  let hub: HubHandle;
  beforeAll(async () => { hub = await startTestHub({ snapshotAllow: ['127.0.0.1/32'], snapshotTimeoutMs: 500 }); }, 60_000);
  afterAll(async () => { await hub?.stop(); });

  const open = async (key: string, snapshotUrl: string): Promise<Ticket> => {
    const at = Date.now();
    await hub.tickets.applyDecisions([{
      kind: 'open', ruleId: 'camera', siteId: 't1', cellId: 'yard-1', dedupKey: key, severity: 'high', category: 'order', deviceVerifiable: false,
      title: { 'zh-CN': '消防通道占用', en: 'Fire lane blocked' }, description: { 'zh-CN': '', en: '' },
      evidence: { eventKey: `ev-${key}`, ts: new Date(at).toISOString(), type: 'camera.alert', summary: 'fire_lane_blocked 0.93', snapshotUrl },
    }], at);
    return (await hub.db.query<{ doc: Ticket }>('SELECT doc FROM tickets WHERE dedup_key = $1', [key]))[0]!.doc;
  };
  const audit = async (id: string) => hub.db.query<{ action: string; note: string }>('SELECT action, note FROM ticket_audit WHERE ticket_id = $1 ORDER BY at, id', [id]);

  it('fetched once and attached as camera evidence, shown in the ticket detail', async () => {
    const t = await open('cam-ok', `${base()}/ok.png`);
    const rows = await eventually(async () => { const a = await audit(t.id); return a.some((x) => x.action === 'attach') ? a : null; });
    expect(rows.find((x) => x.action === 'attach')!.note).toMatch(/^camera snapshot A[0-9a-f]+ \(image\/png/);
    const detail = await hub.tickets.detail(t.id, { username: 'admin', role: 'admin', sites: null });
    expect(detail.attachments!.map((a: AttachmentInfo) => [a.source, a.mime, a.bytes])).toEqual([['camera', 'image/png', PNG.length]]);
  });

  it('a failure is on the timeline and counted, and the ticket is unharmed', async () => {
    const t = await open('cam-bad', `${base()}/text`);
    const rows = await eventually(async () => { const a = await audit(t.id); return a.some((x) => x.action === 'snapshot_failed') ? a : null; });
    expect(rows.find((x) => x.action === 'snapshot_failed')!.note).toContain('not_image');
    const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/shaobing_snapshot_fetch_total\{outcome="not_image"\} 1/);
    expect(metrics).toMatch(/shaobing_snapshot_fetch_total\{outcome="ok"\} 1/);
    expect((await hub.db.query<{ doc: Ticket }>('SELECT doc FROM tickets WHERE id = $1', [t.id]))[0]!.doc.status).toBe('open');
  });
});
