/** The benchmark's site: chargers with their own credentials, written to a temporary site file. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { SiteFile } from '@shaobing/schemas';
import { hashDeviceSecret, hashPassword } from '@shaobing/schemas/credentials';
import type { ClientSpec } from './protocol.ts';

const secret = (id: string): string => `bench-secret-${id}-0123456789abcdef`;
/** The operator whose live WebSocket times publish → ticket frame. */
export const WATCHER = { username: 'bench-watch', password: 'bench-watch-password-0123456789' };

/** A site file of `devices` chargers and, for each, the mqtt.js login the load generator uses. */
export async function writeSite(devices: number): Promise<{ siteFile: string; clients: ClientSpec[] }> {
  const ids = Array.from({ length: devices }, (_, i) => `chg-${String(i).padStart(5, '0')}`);
  const site: SiteFile = {
    version: 1,
    operators: [{ username: WATCHER.username, displayName: '基准观察', role: 'viewer', passwordHash: await hashPassword(WATCHER.password) }],
    sites: [{
      id: 'bench', name: '基准街道', timezone: 'Asia/Shanghai',
      grid: [{ id: 'street', level: 'street', name: '基准街道' }, { id: 'comm', level: 'community', name: '社区', parentId: 'street' }, { id: 'yard', level: 'compound', name: '一号院', parentId: 'comm' }],
      workers: [{ id: 'w1', name: '网格员', cellId: 'yard', teams: ['maintenance', 'security'] }],
      gateways: [],
      devices: ids.map((id) => ({ id, family: 'charger' as const, cellId: 'yard', location: { label: id }, secretHash: hashDeviceSecret(secret(id)), ports: 10 })),
    }],
  };
  const dir = mkdtempSync(join(os.tmpdir(), 'shaobing-ingestbench-'));
  const siteFile = join(dir, 'site.json');
  writeFileSync(siteFile, JSON.stringify(site));
  return { siteFile, clients: ids.map((id) => ({ username: `bench/${id}`, password: secret(id), deviceId: id, topic: `shaobing/v1/bench/charger/${id}/telemetry` })) };
}
