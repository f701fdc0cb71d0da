/**
 * Opening the embedded store, as the hub, a CLI command or a test does: a first open of a new
 * data directory (initdb + migrations), reopens of it, and an in-memory store, each closed
 * again (flushed). Prints wall time per open and close, the CPU time of the open (every thread
 * of this process: on a loaded machine the steadier figure) and the machine's load.
 *   npx tsx bench/store-open.ts [reopens=3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openDb } from '../hub/src/store/open-db.ts';

const REOPENS = Number(process.argv[2] ?? 3);
const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'store-open-'));
const load: number[] = [loadavg()[0] ?? 0];
try {
  const runs: { what: string; dataDir: string }[] = [{ what: 'first open', dataDir: dir }];
  for (let i = 0; i < REOPENS; i++) runs.push({ what: 'reopen', dataDir: dir });
  runs.push({ what: 'memory://', dataDir: 'memory://' }, { what: 'memory://', dataDir: 'memory://' });
  for (const run of runs) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const db = await openDb({ dataDir: run.dataDir, log });
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    await db.query('SELECT 1');
    await db.close();
    const t2 = performance.now();
    const cpu = (c1.user + c1.system) / 1000;
    console.log(`${run.what.padEnd(10)}  open ${(t1 - t0).toFixed(0).padStart(5)} ms (cpu ${cpu.toFixed(0).padStart(5)} ms)   close ${(t2 - t1).toFixed(0).padStart(4)} ms`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
load.push(loadavg()[0] ?? 0);
console.log(`load ${load.map((l) => l.toFixed(1)).join(' → ')}`);
