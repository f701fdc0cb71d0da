import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SiteFile } from '@shaobing/schemas';
import { hashDeviceSecret, hashPassword } from '@shaobing/schemas/credentials';

/** Plaintext credentials of the test site, by MQTT username. */
export const SECRETS = {
  door: 't1/door-1', camera: 't1/cam-1', bin: 't1/bin-1', charger: 't1/chg-1', gateway: 't1/gw-1',
} as const;
export const secretOf = (username: string) => `secret-for-${username}-0123456789`;
/** Grid workers with a phone-page login (username = worker id). */
export const WORKER_LOGINS = { 'w-yard': 'yard-pass', 'w-comm': 'comm-pass' } as const;
export const OPERATORS = { admin: 'admin-pass', dispatcher: 'dispatch-pass', supervisor: 'super-pass', viewer: 'viewer-pass' } as const;

let cached: SiteFile | null = null;

/** A small hand-made site: one street › community › compound › 2 units, one device per family. */
export async function testSiteFile(): Promise<SiteFile> {
  if (cached) return cached;
  const dev = (id: string) => hashDeviceSecret(secretOf(`t1/${id}`));
  cached = {
    version: 1,
    sites: [{
      id: 't1', name: '测试街道', nameEn: 'Test street', timezone: 'Asia/Shanghai',
      grid: [
        { id: 'street', level: 'street', name: '测试街道' },
        { id: 'comm-1', level: 'community', name: '一社区', parentId: 'street' },
        { id: 'yard-1', level: 'compound', name: '一号院', parentId: 'comm-1' },
        { id: 'unit-1', level: 'unit', name: '1号楼1单元', parentId: 'yard-1', elderlyCare: true },
        { id: 'unit-2', level: 'unit', name: '1号楼2单元', parentId: 'yard-1' },
      ],
      workers: [
        { id: 'w-yard', name: '张网格', cellId: 'yard-1', teams: ['cleaning', 'security', 'maintenance', 'care'], passwordHash: await hashPassword(WORKER_LOGINS['w-yard']) },
        { id: 'w-comm', name: '李社区', cellId: 'comm-1', teams: ['security', 'care'], passwordHash: await hashPassword(WORKER_LOGINS['w-comm']) },
        { id: 'w-street', name: '王调度', cellId: 'street', teams: ['security'] },
      ],
      gateways: [{ id: 'gw-1', secretHash: dev('gw-1') }],
      devices: [
        { id: 'door-1', family: 'door', cellId: 'unit-1', location: { label: '1号楼1单元门' }, secretHash: dev('door-1') },
        { id: 'cam-1', family: 'camera', cellId: 'yard-1', location: { label: '1号楼电梯' }, secretHash: dev('cam-1') },
        { id: 'bin-1', family: 'bin', cellId: 'yard-1', location: { label: '一号院垃圾站' }, secretHash: dev('bin-1') },
        { id: 'chg-1', family: 'charger', cellId: 'yard-1', location: { label: '一号院充电棚' }, secretHash: dev('chg-1'), ports: 4 },
        { id: 'bin-2', family: 'bin', cellId: 'unit-2', location: { label: '2单元垃圾桶' }, gatewayId: 'gw-1' },
      ],
      // Most suites resolve camera tickets from the API without uploading; tickets-worker.test.ts turns it on.
      resolvePhotoRequired: false,
    }],
    operators: await Promise.all(Object.entries(OPERATORS).map(async ([username, pw]) => ({
      username, displayName: username, role: username as 'admin', passwordHash: await hashPassword(pw),
    }))),
  };
  return cached;
}

/**
 * Writes the test site (or a variant) to a temp file and returns its path: in the run's scratch
 * directory (global-setup.ts removes it at the end; they used to pile up in /tmp, a thousand
 * after a few dozen runs), else in the system temp directory.
 */
export async function writeTestSiteFile(site?: SiteFile): Promise<string> {
  const dir = mkdtempSync(join(process.env.SHAOBING_TEST_TMP ?? tmpdir(), 'shaobing-site-'));
  const path = join(dir, 'site.json');
  writeFileSync(path, JSON.stringify(site ?? (await testSiteFile()), null, 2));
  return path;
}
