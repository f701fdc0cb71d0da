import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The dashboard build the browser suites serve. */

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DASHBOARD_DIST = `${ROOT}dashboard/dist`;

/** Everything a dashboard build reads from this repository, hashed by content. */
function dashboardSourceHash(): string {
  const hash = createHash('sha256');
  const add = (path: string): void => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) add(join(path, name));
      return;
    }
    hash.update(path.slice(ROOT.length)).update('\0').update(readFileSync(path)).update('\0');
  };
  for (const p of ['dashboard/src', 'dashboard/public', 'dashboard/index.html', 'dashboard/vite.config.ts', 'dashboard/package.json', 'schemas/src', 'package-lock.json']) add(`${ROOT}${p}`);
  return hash.digest('hex');
}

/**
 * Builds dashboard/dist (the hub serves what is there when it starts). The test run's global
 * setup calls this once before any file starts, so files running side by side never build at
 * the same time; the browser suites call it again (a no-op then), so a file run alone builds
 * too. A build of the same sources is reused (the hash of what it was built from is kept beside
 * it); a changed source always rebuilds.
 */
export function buildDashboard(): void {
  const stamp = `${DASHBOARD_DIST}/.source-hash`;
  const want = dashboardSourceHash();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  execFileSync(process.execPath, [`${ROOT}node_modules/vite/bin/vite.js`, 'build', '--logLevel', 'warn'], { cwd: `${ROOT}dashboard`, stdio: 'inherit' });
  writeFileSync(stamp, want);
}
