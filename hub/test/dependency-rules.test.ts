import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The import rules (.dependency-cruiser.cjs, run by `npm run lint:deps` in `npm test`) must
 * bite: each case plants one forbidden import in a throw-away copy of the tree and expects the
 * checker to fail with the rule that forbids it. The real tree is never written to.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const run = promisify(execFile);

interface Violation { rule: { name: string }; from: string; to: string }

async function cruise(cwd: string, paths: string[]): Promise<Violation[]> {
  try {
    const { stdout } = await run(process.execPath, [CLI, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...paths], { cwd, maxBuffer: 64 << 20 });
    return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
  } catch (err) {
    // Exit code = number of errors; the JSON report is still on stdout.
    const stdout = (err as { stdout?: string }).stdout;
    if (!stdout) throw err;
    return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
  }
}

let tree: string;

beforeAll(async () => {
  tree = await mkdtemp(join(tmpdir(), 'shaobing-deps-'));
  for (const p of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json', 'schemas', 'hub/src', 'hub/package.json', 'simulators/src', 'simulators/package.json', 'dashboard/src', 'dashboard/package.json']) {
    await cp(join(ROOT, p), join(tree, p), { recursive: true, filter: (src) => !src.includes('node_modules') });
  }
  // Packages link to the real install; the workspaces (@shaobing/*) to the copies.
  await mkdir(join(tree, 'node_modules/@shaobing'), { recursive: true });
  for (const name of await readdir(join(ROOT, 'node_modules'))) {
    if (name !== '@shaobing' && !name.startsWith('.')) await symlink(join(ROOT, 'node_modules', name), join(tree, 'node_modules', name), 'dir');
  }
  for (const ws of ['schemas', 'hub', 'simulators', 'dashboard']) await symlink(join(tree, ws), join(tree, 'node_modules/@shaobing', ws), 'dir');
}, 120_000);

afterAll(async () => {
  if (tree) await rm(tree, { recursive: true, force: true });
});

async function plant(file: string, source: string): Promise<Violation[]> {
  await writeFile(join(tree, file), source);
  try {
    return await cruise(tree, [file]);
  } finally {
    await rm(join(tree, file));
  }
}

describe('dependency rules', () => {
  it('the tree as committed has no violations', async () => {
    expect(await cruise(ROOT, ['schemas/src', 'hub/src', 'simulators/src', 'dashboard/src'])).toEqual([]);
  }, 180_000); // ~6 s idle; a loaded CI box can take many times that

  it('a lower layer importing a higher one fails (store → tickets)', async () => {
    const v = await plant('hub/src/store/planted.ts', "import type { TicketService } from '../tickets/ticket-service.ts';\nexport type X = TicketService;\n");
    expect(v.map((x) => [x.rule.name, x.to])).toContainEqual(['layer-store', 'hub/src/tickets/ticket-service.ts']);
  }, 120_000);

  it('tickets importing kpi fails (the cycle the SLA cron used to make)', async () => {
    const v = await plant('hub/src/tickets/planted.ts', "import type { KpiService } from '../kpi/kpi-service.ts';\nexport type X = KpiService;\n");
    expect(v.map((x) => x.rule.name)).toContain('layer-tickets');
  }, 120_000);

  it('a pure core importing I/O fails (node:fs, pg)', async () => {
    const v = await plant('hub/src/tickets/core/planted.ts', "import { readFileSync } from 'node:fs';\nimport pg from 'pg';\nexport const x = [readFileSync, pg];\n");
    const to = v.filter((x) => x.rule.name === 'pure-core').map((x) => x.to);
    expect(to).toContain('fs');
    expect(to.some((t) => t.includes('node_modules/pg/'))).toBe(true);
  }, 120_000);

  it('simulators and dashboard importing the hub fail', async () => {
    const sim = await plant('simulators/src/planted.ts', "import { HubError } from '../../hub/src/errors.ts';\nexport const x = HubError;\n");
    expect(sim.map((x) => x.rule.name)).toContain('simulators-import-schemas-only');
    const dash = await plant('dashboard/src/lib/planted.ts', "import { hashPassword } from '@shaobing/schemas/credentials';\nexport const x = hashPassword;\n");
    expect(dash.map((x) => x.rule.name)).toContain('dashboard-imports-schemas-only');
  }, 120_000);

  it('a runtime import cycle fails', async () => {
    await writeFile(join(tree, 'hub/src/store/planted-b.ts'), "import { a } from './planted-a.ts';\nexport const b = () => a;\n");
    try {
      const v = await plant('hub/src/store/planted-a.ts', "import { b } from './planted-b.ts';\nexport const a = () => b;\n");
      expect(v.map((x) => x.rule.name)).toContain('no-circular');
    } finally {
      await rm(join(tree, 'hub/src/store/planted-b.ts'));
    }
  }, 120_000);
});

/** Pure cores take the clock and randomness as arguments (DESIGN: cores take data + clock). */
describe('pure cores read no clock', () => {
  it('no Date.now(), argument-less new Date(), performance.now(), Math.random() or timers in */core/**', async () => {
    const hits: string[] = [];
    let scanned = 0;
    for (const area of await readdir(join(ROOT, 'hub/src'))) {
      const core = join(ROOT, 'hub/src', area, 'core');
      let files: string[];
      try { files = (await readdir(core, { recursive: true })).filter((f) => f.endsWith('.ts')); } catch { continue; }
      for (const f of files) {
        scanned++;
        // Comments may show how a caller passes the clock in.
        const code = (await readFile(join(core, f), 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
        for (const m of code.matchAll(/Date\.now\(|new Date\(\)|performance\.now\(|Math\.random\(|set(Timeout|Interval)\(/g)) hits.push(`${area}/core/${f}: ${m[0]}`);
      }
    }
    expect(scanned).toBeGreaterThan(20); // rules, tickets and kpi cores were found
    expect(hits).toEqual([]);
  });
});
