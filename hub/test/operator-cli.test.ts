import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SiteFile } from '@shaobing/schemas';
import type { HubHandle } from '../src/hub.ts';
import { loadSiteFile } from '../src/site/load-site-file.ts';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from './support/pg.ts';
import { connects, eventually, startTestHub } from './support/test-hub.ts';
import { OPERATORS, testSiteFile, writeTestSiteFile } from './support/test-site.ts';

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

/** The same, with `input` written to its stdin (passwords are piped, never put on the command line). */
function hubCliWithInput(args: string[], env: Record<string, string>, input: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'hub/src/cli.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    child.stdin.end(input);
  });
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

    // Independent refusals, run side by side (each is a cold CLI start).
    const [badPort, down, unknown] = await Promise.all([
      hubCli(['check'], { ...env, HTTP_PORT: 'eighty' }),
      hubCli(['check'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', SITE_FILE: siteFile }),
      hubCli(['frobnicate'], env),
    ]);
    expect(badPort.code).toBe(2);
    expect(down.code).toBe(1);
    expect(down.out).toMatch(/FAIL database/);
    expect(unknown.code).toBe(2);
  }, 120_000);
});

async function login(hub: HubHandle, username: string, password: string): Promise<number> {
  const res = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  return res.status;
}


describe.runIf(inject('pgUrl'))('registry commands of the operator CLI against a server database and a running hub', () => {
  let db: { url: string; drop(): Promise<void> };
  let hub: HubHandle | undefined;
  let file: SiteFile;
  let siteFile: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    file = await testSiteFile();
    siteFile = await writeTestSiteFile(file);
    env = { DATABASE_URL: db.url, SITE_FILE: siteFile };
    expect((await hubCli(['migrate'], env)).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
  });

  it('site import refuses an invalid file with the site-file check\'s message and writes nothing; a valid one round-trips through export', async () => {
    const bad = structuredClone(file);
    bad.sites[0]!.devices[0]!.cellId = 'nowhere';
    const badPath = join(tmpdir(), `shaobing-bad-site-${process.pid}.json`);
    await writeFile(badPath, JSON.stringify(bad));
    const expected = await loadSiteFile(badPath).then(() => 'accepted', (e: Error) => e.message);
    const refused = await hubCli(['site', 'import', badPath], env);
    expect(refused.code).toBe(1);
    expect(refused.err.trim()).toBe(expected);
    expect((await hubCli(['site', 'export'], env)).code).toBe(1); // still empty

    const ok = await hubCli(['site', 'import', siteFile, '--json'], env);
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ version: 1, sites: 1 });
    const exported = await hubCli(['site', 'export'], env);
    expect(exported.code, exported.err).toBe(0);
    expect(JSON.parse(exported.out)).toEqual(JSON.parse(JSON.stringify(file)));
    const yamlPath = join(tmpdir(), `shaobing-export-${process.pid}.yaml`);
    expect((await hubCli(['site', 'export', yamlPath], env)).code).toBe(0);
    expect(await loadSiteFile(yamlPath)).toEqual(file);
    expect(await readFile(yamlPath, 'utf8')).toMatch(/secretHash: sha256:/);

    const check = await hubCli(['check'], env);
    const s0 = file.sites[0]!;
    expect(check.out).toContain(`registry: version 1: 1 site(s), ${s0.grid.length} cell(s), ${s0.devices.length} device(s), ${s0.gateways.length} gateway(s), ${s0.workers.length} worker(s), ${file.operators.length} operator(s)\n`);
  }, 120_000);

  it('device add and rotate-secret reach a running hub without a restart; operator add and passwd change who can log in', async () => {
    // LISTEN/NOTIFY only: the poll is far beyond the bound below.
    hub = await startTestHub({ databaseUrl: db.url, siteFile, registryPollMs: 600_000 });
    const v0 = hub.registry.version;
    const cell = file.sites[0]!.grid.at(-1)!.id;

    const added = await hubCli(['device', 'add', 't1/bin-cli', '--family', 'bin', '--cell', cell, '--label', '新增垃圾桶', '--json'], env);
    expect(added.code, added.err).toBe(0);
    const { secret, username } = JSON.parse(added.out) as { secret: string; username: string };
    expect(username).toBe('t1/bin-cli');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const t0 = Date.now();
    await eventually(() => connects(hub!, username, secret), 10_000, 50);
    console.log(`[registry] CLI device add → hub accepts the device after ${Date.now() - t0} ms (after the CLI exited)`);
    expect(hub.registry.version).toBe(v0 + 1);

    const rotated = await hubCli(['device', 'rotate-secret', 't1/bin-cli'], env);
    expect(rotated.code, rotated.err).toBe(0);
    const fresh = rotated.out.trim().split('\n').at(-1)!;
    expect(fresh).not.toBe(secret);
    await eventually(async () => hub!.registry.version === v0 + 2, 10_000, 50);
    expect(await connects(hub, username, secret)).toBe(false);
    expect(await connects(hub, username, fresh)).toBe(true);

    // Refusals (each writes nothing, so they may run side by side): a duplicate, an unknown
    // cell (the site-file check's message), usage.
    const [dup, nowhere, noCell, noSlash, ghost, bogus] = await Promise.all([
      hubCli(['device', 'add', 't1/bin-cli', '--family', 'bin', '--cell', cell, '--label', 'x'], env),
      hubCli(['device', 'add', 't1/bin-x', '--family', 'bin', '--cell', 'nowhere', '--label', 'x'], env),
      hubCli(['device', 'add', 't1/bin-y', '--family', 'bin'], env),
      hubCli(['device', 'rotate-secret', 'no-slash'], env),
      hubCli(['device', 'rotate-secret', 't1/ghost'], env),
      hubCli(['device', 'add', 't1/z', '--bogus'], env),
    ]);
    expect([dup.code, dup.err.trim()]).toEqual([1, 'device t1/bin-cli exists (rotate-secret gives it a new secret)']);
    expect(nowhere.code).toBe(1);
    expect(nowhere.err).toMatch(/\/sites\/0\/devices\/\d+\/cellId: unknown cell "nowhere"/);
    expect([noCell.code, noSlash.code, ghost.code, bogus.code]).toEqual([2, 2, 1, 2]);
    expect(hub.registry.version).toBe(v0 + 2);

    const op = await hubCliWithInput(['operator', 'add', 'night-shift', '--role', 'dispatcher', '--display-name', '夜班调度', '--password-stdin'], env, 'night-pass-1\n');
    expect(op.code, op.err).toBe(0);
    await eventually(async () => (await login(hub!, 'night-shift', 'night-pass-1')) === 200, 10_000, 50);
    const pw = await hubCliWithInput(['operator', 'passwd', 'admin', '--password-stdin'], env, 'admin-pass-2\n');
    expect(pw.code, pw.err).toBe(0);
    await eventually(async () => (await login(hub!, 'admin', 'admin-pass-2')) === 200, 10_000, 50);
    expect(await login(hub, 'admin', OPERATORS.admin)).toBe(401);
    const generated = await hubCli(['operator', 'passwd', 'w-yard', '--json'], env);
    expect(generated.code, generated.err).toBe(0);
    const { password } = JSON.parse(generated.out) as { password: string };
    await eventually(async () => (await login(hub!, 'w-yard', password)) === 200, 10_000, 50);
    const [short, emperor] = await Promise.all([
      hubCliWithInput(['operator', 'passwd', 'admin', '--password-stdin'], env, 'short\n'),
      hubCli(['operator', 'add', 'x', '--role', 'emperor', '--display-name', 'X'], env),
    ]);
    expect([short.code, emperor.code]).toEqual([1, 1]);
  }, 180_000);
});
