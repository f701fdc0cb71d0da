/** The read bench's site: `devices` devices of every family over 4 communities × 5 compounds, 25 workers. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { FAMILIES, type Family, type SiteFile } from '@shaobing/schemas';
import { hashPassword } from '@shaobing/schemas/credentials';

export const SITE_ID = 'rb';
export const ADMIN = { username: 'bench-admin', password: 'bench-admin-password-0123456789' };

export interface BenchDevice { id: string; family: Family; cellId: string }

export const COMPOUNDS = Array.from({ length: 20 }, (_, i) => ({ id: `yard-${i}`, community: `comm-${i % 4}` }));

export function benchDevices(n: number): BenchDevice[] {
  return Array.from({ length: n }, (_, i) => {
    const family = FAMILIES[i % FAMILIES.length]!;
    return { id: `${family}-${String(i).padStart(5, '0')}`, family, cellId: COMPOUNDS[i % COMPOUNDS.length]!.id };
  });
}

export async function benchSite(devices: readonly BenchDevice[]): Promise<SiteFile> {
  return {
    version: 1,
    operators: [{ username: ADMIN.username, displayName: '基准管理员', role: 'admin', passwordHash: await hashPassword(ADMIN.password) }],
    sites: [{
      id: SITE_ID, name: '读基准街道', timezone: 'Asia/Shanghai',
      grid: [
        { id: 'street', level: 'street', name: '读基准街道' },
        ...Array.from({ length: 4 }, (_, i) => ({ id: `comm-${i}`, level: 'community' as const, name: `${i + 1}社区`, parentId: 'street', population: 5000 })),
        // Two property companies manage most compounds (物业公司 figures); a few have none.
        ...COMPOUNDS.map((c, i) => ({ id: c.id, level: 'compound' as const, name: `${i + 1}号院`, parentId: c.community, ...(i % 3 < 2 ? { propertyCompany: i % 3 === 0 ? '甲物业' : '乙物业' } : {}) })),
      ],
      workers: [
        { id: 'w-street', name: '街道', cellId: 'street', teams: ['security', 'care', 'cleaning', 'maintenance'] },
        ...Array.from({ length: 4 }, (_, i) => ({ id: `w-comm-${i}`, name: `社区${i}`, cellId: `comm-${i}`, teams: ['security' as const, 'care' as const] })),
        ...COMPOUNDS.map((c, i) => ({ id: `w-${i}`, name: `网格员${i}`, cellId: c.id, teams: ['cleaning' as const, 'security' as const, 'maintenance' as const] })),
      ],
      gateways: [],
      devices: devices.map((d) => ({ id: d.id, family: d.family, cellId: d.cellId, location: { label: d.id }, ...(d.family === 'charger' ? { ports: 4 } : {}) })),
    }],
  };
}

export async function writeBenchSite(devices: readonly BenchDevice[]): Promise<string> {
  const dir = mkdtempSync(join(os.tmpdir(), 'shaobing-readbench-'));
  const file = join(dir, 'site.json');
  writeFileSync(file, JSON.stringify(await benchSite(devices)));
  return file;
}
