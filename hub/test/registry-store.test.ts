import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashDeviceSecret } from '@shaobing/schemas/credentials';
import mqtt from 'mqtt';
import { pino } from 'pino';
import type { SiteFile } from '@shaobing/schemas';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEMO_SITE_FILE } from '../src/config.ts';
import type { HubHandle } from '../src/hub.ts';
import { checkSiteFile, loadSiteFile, SiteFileError } from '../src/site/load-site-file.ts';
import { Registry } from '../src/site/registry.ts';
import type { Db } from '../src/store/db.ts';
import { openDb } from '../src/store/open-db.ts';
import { loadRegistry, readRegistryVersion, writeRegistry } from '../src/store/registry-store.ts';
import { RegistrySync } from '../src/store/registry-sync.ts';
import { backendAvailable, openTestStore } from './support/pg.ts';
import { describeEachStore } from './support/each-store.ts';
import { connects, envelope, eventually, login, startTestHub } from './support/test-hub.ts';
import { testSiteFile, writeTestSiteFile } from './support/test-site.ts';

const silent = pino({ level: 'silent' });

/** Invalid site files of every kind the check knows: schema, cross-references, logins. */
function invalidVariants(base: SiteFile): [string, unknown][] {
  const v = (edit: (f: SiteFile) => void): SiteFile => { const f = structuredClone(base); edit(f); return f; };
  return [
    ['bad secret hash', v((f) => { f.sites[0]!.devices[0]!.secretHash = 'plain-text'; })],
    ['unknown family', v((f) => { (f.sites[0]!.devices[0] as { family: string }).family = 'toaster'; })],
    ['duplicate device', v((f) => { f.sites[0]!.devices.push(structuredClone(f.sites[0]!.devices[0]!)); })],
    ['unknown cell', v((f) => { f.sites[0]!.devices[0]!.cellId = 'nowhere'; })],
    ['unknown gateway', v((f) => { f.sites[0]!.devices[0]!.gatewayId = 'gw-missing'; })],
    ['grid cycle', v((f) => { f.sites[0]!.grid[0]!.parentId = f.sites[0]!.grid.at(-1)!.id; f.sites[0]!.grid[0]!.level = 'unit'; })],
    ['duplicate operator', v((f) => { f.operators.push(structuredClone(f.operators[0]!)); })],
    ['worker login clashes with an operator', v((f) => { f.sites[0]!.workers.find((w) => w.passwordHash)!.id = f.operators[0]!.username; })],
    ['no sites', v((f) => { f.sites = []; })],
  ];
}

/** The message of the site-file check without its "site file <path>: " prefix. */
function checkMessage(doc: unknown): string {
  try {
    checkSiteFile(doc, 'X');
  } catch (err) {
    return (err as Error).message.replace(/^site file X: /, '');
  }
  throw new Error('expected the site-file check to refuse this document');
}

describeEachStore('registry tables on %s', (store) => {
    it('starts empty, and import → export gives back the site file (test site, then the bundled demo site)', async () => {
      expect(await loadRegistry(store.db)).toEqual({ version: 0, file: null });
      for (const file of [await testSiteFile(), await loadSiteFile(DEMO_SITE_FILE)]) {
        const before = await readRegistryVersion(store.db);
        const w = await writeRegistry(store.db, 'import', () => file, { replaceAll: true });
        expect(w.version).toBe(before + 1);
        const back = await loadRegistry(store.db);
        expect(back.version).toBe(w.version);
        expect(back.file).toEqual(file);
        expect(JSON.parse(JSON.stringify(back.file))).toEqual(JSON.parse(JSON.stringify(file)));
      }
    });

    it('refuses invalid imports and edits with the site-file check\'s own messages, writing nothing', async () => {
      const good = await testSiteFile();
      await writeRegistry(store.db, 'import', () => good, { replaceAll: true });
      const version = await readRegistryVersion(store.db);
      for (const [what, doc] of invalidVariants(good)) {
        const expected = checkMessage(doc);
        const err = await writeRegistry(store.db, what, () => doc as object, { replaceAll: true }).then(() => null, (e: Error) => e);
        expect(err, what).toBeInstanceOf(SiteFileError);
        expect(err!.message, what).toBe(`site file <registry after ${what}>: ${expected}`);
      }
      // An edit of the stored registry (what `device add` does) is checked the same way.
      const err = await writeRegistry(store.db, 'device add', (cur) => ({ ...cur!, sites: cur!.sites.map((s) => ({ ...s, devices: [...s.devices, { id: 'x', family: 'bin', cellId: 'nowhere', location: { label: 'x' } }] })) }))
        .then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/devices\/\d+\/cellId: unknown cell "nowhere"$/);
      expect(await readRegistryVersion(store.db)).toBe(version);
      expect((await loadRegistry(store.db)).file).toEqual(good);
    });

    it('a reload follows a change through NOTIFY alone, and through the poll alone when notifications are missing', async () => {
      const good = await testSiteFile();
      await writeRegistry(store.db, 'import', () => good, { replaceAll: true });
      const start = await loadRegistry(store.db);
      // Two copies of the hub's registry: one that only listens (poll far away), one that only polls.
      const listening = new Registry(start.file!, start.version);
      const polling = new Registry(start.file!, start.version);
      const noListen: Db = { ...pick(store.db), listen: undefined };
      const a = new RegistrySync({ db: store.db, registry: listening, log: silent, pollMs: 600_000 });
      const b = new RegistrySync({ db: noListen, registry: polling, log: silent, pollMs: 200 });
      await a.start();
      await b.start();
      try {
        const changes: number[] = [];
        listening.onChange((r) => changes.push(r.version));
        const w = await writeRegistry(store.db, 'device add', (cur) => ({
          ...cur!, sites: cur!.sites.map((s, i) => (i === 0 ? { ...s, devices: [...s.devices, { id: 'new-bin', family: 'bin', cellId: s.grid.at(-1)!.id, location: { label: '新桶' }, secretHash: hashDeviceSecret('s3cret-new-bin-0123456789') }] } : s)),
        }));
        await eventually(async () => listening.version === w.version, 10_000);
        expect(listening.device(good.sites[0]!.id, 'new-bin')?.family).toBe('bin');
        expect(listening.principal(`${good.sites[0]!.id}/new-bin`)?.secretHash).toBe(hashDeviceSecret('s3cret-new-bin-0123456789'));
        expect(changes).toEqual([w.version]);
        await eventually(async () => polling.version === w.version, 10_000);
        expect(polling.device(good.sites[0]!.id, 'new-bin')).toBeDefined();
      } finally {
        await a.stop();
        await b.stop();
      }
    });
});

/** A Db's methods bound to it (to build a variant without `listen`). */
function pick(db: Db): Db {
  return {
    kind: db.kind, timescale: db.timescale, features: db.features,
    query: db.query.bind(db), transaction: db.transaction.bind(db), exec: db.exec.bind(db), ping: db.ping.bind(db), close: db.close.bind(db),
  };
}

const NEW_SECRET = 'brand-new-device-secret-0123456789';


describe.each(['pglite', 'postgresql'] as const)('a running hub follows the registry (%s)', (backend) => {
  describe.skipIf(!backendAvailable(backend))('', () => {
    let hub: HubHandle;
    let writer: Db;
    let closeWriter: () => Promise<void> = async () => undefined;
    let drop: (() => Promise<void>) | null = null;
    afterEach(async () => {
      await hub?.stop();
      await closeWriter();
      await drop?.();
    });

    it('imports SITE_FILE into an empty registry only; a device added later connects without a restart; a rotated secret refuses the old one and closes its session', async () => {
      let databaseUrl: string | null = null;
      // The embedded store on disk, so the restart below reopens the same registry.
      const dataDir = backend === 'pglite' ? mkdtempSync(join(tmpdir(), 'shaobing-registry-')) : 'memory://';
      if (backend === 'pglite') drop = async () => { rmSync(dataDir, { recursive: true, force: true }); };
      if (backend === 'postgresql') {
        const t = await openTestStore('postgresql');
        databaseUrl = t.url;
        await t.db.close();
        drop = async () => { await t.close().catch(() => undefined); };
      }
      const file = await testSiteFile();
      // Poll far away: only LISTEN/NOTIFY can deliver the change within the test's bound.
      hub = await startTestHub({ databaseUrl, dataDir, siteFile: await writeTestSiteFile(file), registryPollMs: 600_000 });
      expect(hub.registry.file).toEqual(file);
      // The change comes from elsewhere: another process on the server, the same PGlite in-process.
      if (databaseUrl) {
        writer = await openDb({ databaseUrl, dataDir: 'memory://', log: silent });
        closeWriter = () => writer.close();
      } else {
        writer = hub.db;
      }
      const siteId = file.sites[0]!.id;
      const cellId = file.sites[0]!.grid.at(-1)!.id;
      const username = `${siteId}/bin-new`;
      expect(await connects(hub, username, NEW_SECRET)).toBe(false);

      const added = await writeRegistry(writer, 'device add', (cur) => ({
        ...cur!, sites: cur!.sites.map((s) => (s.id === siteId ? { ...s, devices: [...s.devices, { id: 'bin-new', family: 'bin', cellId, location: { label: '新桶' }, secretHash: hashDeviceSecret(NEW_SECRET) }] } : s)),
      }));
      await eventually(async () => hub.registry.version === added.version, 10_000);
      expect(await connects(hub, username, NEW_SECRET)).toBe(true);
      const c = await mqtt.connectAsync(hub.mqttUrl!, { username, password: NEW_SECRET, clientId: username, reconnectPeriod: 0 });
      await c.publishAsync(`shaobing/v1/${siteId}/bin/bin-new/telemetry`, JSON.stringify(envelope('bin.telemetry', { fillPct: 40 })), { qos: 1 });
      await c.endAsync();
      // PUBACK comes after the commit: the new device's message is stored under its place.
      const stored = await hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE site_id = $1 AND device_id = 'bin-new'`, [siteId]);
      expect(stored[0]!.n).toBe(1);

      const live = await mqtt.connectAsync(hub.mqttUrl!, { username, password: NEW_SECRET, clientId: username, reconnectPeriod: 0 });
      const closed = new Promise<void>((r) => live.once('close', () => r()));
      const rotated = await writeRegistry(writer, 'rotate-secret', (cur) => ({
        ...cur!, sites: cur!.sites.map((s) => (s.id === siteId ? { ...s, devices: s.devices.map((d) => (d.id === 'bin-new' ? { ...d, secretHash: hashDeviceSecret(`${NEW_SECRET}-2`) } : d)) } : s)),
      }));
      await eventually(async () => hub.registry.version === rotated.version, 10_000);
      await closed; // the session opened with the old secret is closed by the rotation
      live.end(true);
      expect(await connects(hub, username, NEW_SECRET)).toBe(false);
      expect(await connects(hub, username, `${NEW_SECRET}-2`)).toBe(true);

      // A restart with a different SITE_FILE keeps the database's registry (import only when empty).
      await hub.stop();
      const other = structuredClone(file);
      other.sites[0]!.devices = other.sites[0]!.devices.slice(0, 1);
      hub = await startTestHub({ databaseUrl, dataDir, siteFile: await writeTestSiteFile(other) });
      expect(hub.registry.version).toBe(rotated.version);
      expect(hub.registry.device(siteId, 'bin-new')).toBeDefined();
      expect(hub.registry.deviceCount).toBe(file.sites[0]!.devices.length + 1);
    }, 180_000);
  });
});

describe('admin registry API on the embedded store (the CLI cannot open a running hub\'s data directory)', () => {
  let hub: HubHandle;
  afterAll(async () => { await hub?.stop(); });

  it('adds a device that connects at once, rotates its secret, refuses bad input with the site-file message and non-admins', async () => {
    hub = await startTestHub();
    const admin = await login(hub, 'admin');
    const post = (path: string, body: object | null, token = admin) => fetch(`${hub.httpUrl}${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const cellId = hub.registry.grid('t1').at(-1)!.id;
    const res = await post('/api/registry/devices', { siteId: 't1', id: 'bin-api', family: 'bin', cellId, label: 'API 垃圾桶' });
    expect(res.status).toBe(201);
    const { username, secret } = (await res.json()) as { username: string; secret: string };
    expect(username).toBe('t1/bin-api');
    expect(await connects(hub, username, secret)).toBe(true); // applied before the reply

    const rot = await post('/api/registry/devices/t1/bin-api/rotate-secret', null);
    expect(rot.status).toBe(200);
    const fresh = ((await rot.json()) as { secret: string }).secret;
    expect(await connects(hub, username, secret)).toBe(false);
    expect(await connects(hub, username, fresh)).toBe(true);

    const bad = await post('/api/registry/devices', { siteId: 't1', id: 'bin-bad', family: 'bin', cellId: 'nowhere', label: 'x' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/devices\/\d+\/cellId: unknown cell "nowhere"$/);
    expect((await post('/api/registry/devices/t1/ghost/rotate-secret', null)).status).toBe(400);
    expect((await post('/api/registry/devices', { siteId: 't1', id: 'bin-v', family: 'bin', cellId, label: 'x' }, await login(hub, 'dispatcher'))).status).toBe(403);
    expect(hub.registry.device('t1', 'bin-v')).toBeUndefined();
  }, 120_000);
});
