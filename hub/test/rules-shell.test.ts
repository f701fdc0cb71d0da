import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { closeClient, connectAs, eventually, login, startTestHub } from './support/test-hub.ts';

/* RULES_FILE hot reload (valid swapped in, invalid refused with the old rules kept) and the backtest API. */
describe('rule file hot reload and dry run', () => {
  let hub: HubHandle;
  let rulesFile: string;
  let token: string;
  const write = (doc: unknown) => {
    const tmp = `${rulesFile}.tmp`;
    writeFileSync(tmp, typeof doc === 'string' ? doc : JSON.stringify(doc));
    renameSync(tmp, rulesFile); // how editors save: a new file renamed over the old one
  };
  const post = async (path: string, body: unknown, who: 'admin' | 'viewer' | 'supervisor' = 'admin') => {
    const t = who === 'admin' ? token : await login(hub, who);
    return fetch(`${hub.httpUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  };

  beforeAll(async () => {
    rulesFile = join(mkdtempSync(join(tmpdir(), 'shaobing-rules-')), 'rules.json');
    writeFileSync(rulesFile, JSON.stringify({ version: 1, rules: [{ id: 'bin.full', forMs: 300_000 }] }));
    hub = await startTestHub({ rulesFile });
    token = await login(hub);
  });
  afterAll(async () => { await hub?.stop(); });

  const forMs = () => (hub.rules.compiled.base.byId.get('bin.full') as { forMs: number }).forMs;

  it('loads overrides at start, swaps in a valid edit and refuses an invalid one', async () => {
    expect(forMs()).toBe(300_000);
    write({ version: 1, rules: [{ id: 'bin.full', forMs: 5_000 }] });
    await eventually(async () => forMs() === 5_000, 5000);
    write({ version: 1, rules: [{ id: 'bin.full', forMs: -3 }] });
    await eventually(async () => hub.rules.stats.failedReloads > 0, 5000);
    expect(forMs()).toBe(5_000);
    write('{ not json');
    await eventually(async () => hub.rules.stats.failedReloads > 1, 5000);
    expect(forMs()).toBe(5_000);
  });

  it('validates a candidate rule file through the API', async () => {
    const ok = await (await post('/api/rules/validate', { version: 1, rules: [{ id: 'door.forced', severity: 'high' }] })).json();
    expect(ok).toMatchObject({ ok: true });
    const bad = await (await post('/api/rules/validate', { version: 1, rules: [{ id: 'nope' }] })).json() as { ok: boolean; issues: string[] };
    expect(bad.ok).toBe(false);
    expect(bad.issues.join()).toMatch(/nope/);
  });

  it('dry-runs candidate rules over stored events without opening tickets', async () => {
    const bin = await connectAs(hub, 't1/bin-1');
    const t0 = Date.now() - 10 * 60_000;
    for (const [i, fill] of [85, 86, 90, 92].entries()) {
      await bin.publishAsync('shaobing/v1/t1/bin/bin-1/telemetry', JSON.stringify({ id: `dry-${i}`, ts: t0 + i * 60_000, type: 'bin.telemetry', data: { fillPct: fill } }), { qos: 1 });
    }
    await closeClient(bin);
    const body = { from: new Date(t0 - 60_000).toISOString(), to: new Date().toISOString(), rules: { version: 1, rules: [{ id: 'bin.full', forMs: 60_000 }] } };
    expect((await post('/api/rules/dry-run', body, 'viewer')).status).toBe(403);
    await new Promise((r) => setTimeout(r, 50));
    await hub.rules.idle();
    const count = async () => (await hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets'))[0]!.n;
    const before = await count();
    const res = await post('/api/rules/dry-run', body, 'supervisor');
    expect(res.status).toBe(200);
    const r = await res.json() as { tickets: { ruleId: string; deviceId: string; occurrences: number }[]; events: number };
    expect(r.events).toBeGreaterThanOrEqual(4);
    expect(r.tickets.filter((t) => t.ruleId === 'bin.full' && t.deviceId === 'bin-1')).toHaveLength(1);
    expect(await count()).toBe(before);
  });
});
