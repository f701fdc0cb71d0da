/**
 * `npm run bench`: runs every benchmark in its own process, one after another, and prints
 * their figures. Each also runs alone: `npx tsx bench/<name>.ts --help`-free, args in its header.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const benches: [file: string, args: string[]][] = [
  ['rules-core.ts', []],
  ['sla-sweep.ts', []],
  ['street-kpis.ts', []],
  ['sla-sweep-db.ts', []],
  ['store-writer.ts', ['20000', '1000']],
  ['ingest-e2e.ts', ['10', '200', '8']],
  ['ingest-cluster.ts', ['6000']],
  ['store-soak.ts', ['30']],
];
let failed = 0;
for (const [file, args] of benches) {
  console.log(`\n=== ${file} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${here}${file}`, ...args], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) {
    failed++;
    console.log(`(${file} exited ${r.status})`);
  }
}
process.exitCode = failed ? 1 : 0;
