/**
 * `npm run bench`: the ingest benchmark (bench/ingest/run.ts: hub vs the bare-aedes ceiling,
 * separate load-generator processes, durable stores, latency vs rate, connections), then every
 * other benchmark, each in its own process. `npm run bench -- --quick`: the ingest benchmark's
 * short profile only (< 1 min on an idle 2-core machine). `--read`: the read-side bench
 * (bench/read/run.ts) only, with its own arguments. Other arguments go to the ingest
 * benchmark; each benchmark also runs alone, its arguments in its header.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
// `npm run bench -- --read [--store pg|pglite] [--days N] [--devices N] [--reps N] [--explain]`:
// the read side at a month of history (bench/read/run.ts) alone.
const read = args.includes('--read');
const benches: [file: string, args: string[]][] = read ? [['read/run.ts', args.filter((a) => a !== '--read')]] : [
  ['ingest/run.ts', args],
  ...(quick ? [] : [
    ['rules-core.ts', []],
    ['sla-sweep.ts', []],
    ['street-kpis.ts', []],
    ['sla-sweep-db.ts', []],
    ['store-writer.ts', ['20000', '1000']],
    ['ingest-cluster.ts', ['6000']],
    ['store-soak.ts', ['30']],
  ] satisfies [string, string[]][]),
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
