import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from './support/pg.ts';
import { writeTestSiteFile } from './support/test-site.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

/** `npm run hub -- <args>` as an operator's script runs it: exit code and stdout. */
async function hubCli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'hub/src/cli.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

describe.runIf(inject('pgUrl'))('operator CLI (npm run hub -- …)', () => {
  let db: { url: string; drop(): Promise<void> };
  let siteFile: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    siteFile = await writeTestSiteFile();
  });
  afterAll(async () => { await db?.drop(); });

  it('check fails before migrate, migrate applies, check then passes; bad config and an unreachable database exit non-zero', async () => {
    const env = { DATABASE_URL: db.url, SITE_FILE: siteFile };
    const before = await hubCli(['check'], env);
    expect(before.code).toBe(1);
    expect(before.out).toMatch(/FAIL migrations: pending: 001_events/);

    const m = await hubCli(['migrate', '--json'], env);
    expect(m.code, m.err).toBe(0);
    expect((JSON.parse(m.out) as { applied: number[] }).applied).toContain(1);

    const after = await hubCli(['check'], env);
    expect(after.out).toMatch(/^ok +database: server reachable$/m);
    expect(after.out).toMatch(/^ok +migrations:/m);
    expect(after.out).toMatch(/^ok +site file:/m);
    // Job health depends on the server (policy jobs fail on PostgreSQL 15.20 with 2.28.3): the
    // exit code must say what the jobs line says.
    const jobsOk = /^ok +jobs:/m.test(after.out);
    expect(after.code).toBe(jobsOk ? 0 : 1);

    expect((await hubCli(['check'], { ...env, HTTP_PORT: 'eighty' })).code).toBe(2);
    const down = await hubCli(['check'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', SITE_FILE: siteFile });
    expect(down.code).toBe(1);
    expect(down.out).toMatch(/FAIL database/);
    expect((await hubCli(['frobnicate'], env)).code).toBe(2);
  }, 120_000);
});
