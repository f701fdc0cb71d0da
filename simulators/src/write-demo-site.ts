/*
 * Generates hub/sites/demo-site.json, the bundled demo site (seed 'shaobing-demo', size demo).
 *   npx tsx simulators/src/write-demo-site.ts
 * Generated: do not edit by hand; simulators/test/demo-site.test.ts fails when it drifts.
 * Operator hashes use random scrypt salts, so an existing hash that still verifies is kept:
 * regenerating an unchanged community leaves the file byte-identical.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { SiteFile } from '@shaobing/schemas';
import { hashPassword, verifyPassword } from '@shaobing/schemas/credentials';
import { buildCommunity } from './community.ts';
import { DEMO_OPERATORS } from './operators.ts';

export const DEMO_SITE_PATH = fileURLToPath(new URL('../../hub/sites/demo-site.json', import.meta.url));
export const DEMO_SEED = 'shaobing-demo';
/** Every demo grid worker logs in to the phone page (/m/) with their worker id and this password. */
export const DEMO_WORKER_PASSWORD = 'worker123';

export async function buildDemoSiteFile(): Promise<SiteFile> {
  const file = (await buildCommunity({ seed: DEMO_SEED, size: 'demo', siteId: 'demo' })).siteFile;
  for (const site of file.sites) for (const w of site.workers) w.passwordHash = await hashPassword(DEMO_WORKER_PASSWORD);
  return file;
}

export function serialise(siteFile: SiteFile): string {
  return `${JSON.stringify(siteFile, null, 2)}\n`;
}

async function main(): Promise<void> {
  const siteFile = await buildDemoSiteFile();
  const previous = await readFile(DEMO_SITE_PATH, 'utf8').then((t) => JSON.parse(t) as SiteFile, () => undefined);
  for (const op of siteFile.operators) {
    const old = previous?.operators.find((o) => o.username === op.username);
    const password = DEMO_OPERATORS.find((o) => o.username === op.username)!.password;
    if (old && (await verifyPassword(password, old.passwordHash))) op.passwordHash = old.passwordHash;
  }
  for (const [s, site] of siteFile.sites.entries()) {
    for (const w of site.workers) {
      const old = previous?.sites[s]?.workers.find((o) => o.id === w.id)?.passwordHash;
      if (old && (await verifyPassword(DEMO_WORKER_PASSWORD, old))) w.passwordHash = old;
    }
  }
  await writeFile(DEMO_SITE_PATH, serialise(siteFile));
  const site = siteFile.sites[0]!;
  const count = (f: string): number => site.devices.filter((d) => d.family === f).length;
  console.log(`wrote ${DEMO_SITE_PATH}: ${site.devices.length} devices (door ${count('door')}, camera ${count('camera')}, bin ${count('bin')}, charger ${count('charger')}), ${site.grid.length} cells, ${site.workers.length} workers, ${site.gateways.length} gateways, ${siteFile.operators.length} operators`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
