import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { SiteFile } from '@shaobing/schemas';
import { verifyPassword } from '@shaobing/schemas/credentials';
import { DEMO_OPERATORS } from '../src/operators.ts';
import { DEMO_SITE_PATH, DEMO_WORKER_PASSWORD, buildDemoSiteFile } from '../src/write-demo-site.ts';

/*
 * The committed hub/sites/demo-site.json must be exactly what the generator builds. Operator
 * password hashes carry random scrypt salts, so they are compared by verifying the documented
 * demo passwords instead of byte equality (the generator keeps hashes that still verify).
 */
describe('bundled demo site', () => {
  it('matches the generator (regenerate: npx tsx simulators/src/write-demo-site.ts)', async () => {
    const committed = JSON.parse(await readFile(DEMO_SITE_PATH, 'utf8')) as SiteFile;
    const built = await buildDemoSiteFile();
    const withoutHashes = (f: SiteFile) => ({
      ...f, operators: f.operators.map(({ passwordHash: _, ...o }) => o),
      sites: f.sites.map((s) => ({ ...s, workers: s.workers.map(({ passwordHash: _, ...w }) => w) })),
    });
    expect(withoutHashes(committed)).toEqual(withoutHashes(built));
    for (const op of DEMO_OPERATORS) {
      const stored = committed.operators.find((o) => o.username === op.username);
      expect(stored?.role).toBe(op.role);
      expect(await verifyPassword(op.password, stored!.passwordHash), op.username).toBe(true);
    }
    // Every grid worker has a phone-page login: worker id + DEMO_WORKER_PASSWORD.
    for (const w of committed.sites.flatMap((s) => s.workers)) {
      expect(w.passwordHash, w.id).toBeDefined();
      expect(await verifyPassword(DEMO_WORKER_PASSWORD, w.passwordHash!), w.id).toBe(true);
    }
  });
});
