import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { ConfigError, configVariables, DEMO_SITE_FILE, loadConfig } from '../src/config.ts';
import { checkSiteFile, SiteFileError } from '../src/site/load-site-file.ts';
import { Registry } from '../src/site/registry.ts';
import { testSiteFile } from './support/test-site.ts';

describe('configuration from the environment', () => {
  it('uses the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ httpPort: 8080, mqttPort: 1883, httpHost: '127.0.0.1', mqttUrl: null, databaseUrl: null, dataDir: './data', logLevel: 'info', tzReports: 'Asia/Shanghai', mqttWsPort: null });
  });
  it('reads variables and names the bad one in its error', () => {
    expect(loadConfig({ HTTP_PORT: '0', MQTT_WS_PORT: '8083', DATABASE_URL: 'postgres://u@127.0.0.1/db' })).toMatchObject({ httpPort: 0, mqttWsPort: 8083, databaseUrl: 'postgres://u@127.0.0.1/db' });
    expect(() => loadConfig({ HTTP_PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ HTTP_PORT: 'eighty' })).toThrow(/HTTP_PORT/);
    expect(() => loadConfig({ MQTT_PORT: '70000' })).toThrow(/MQTT_PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ SLA_SWEEP_CRON: 'every now and then' })).toThrow(/SLA_SWEEP_CRON/);
    expect(loadConfig({ SLA_SWEEP_CRON: '0 * * * * *' }).slaSweepCron).toBe('0 * * * * *');
  });
});

describe('site file', () => {
  it('accepts the test site and resolves each device up the grid', async () => {
    const reg = new Registry(checkSiteFile(await testSiteFile()));
    expect(reg.device('t1', 'door-1')).toMatchObject({ unitId: 'unit-1', buildingId: 'yard-1', communityId: 'comm-1', elderlyCare: true });
    expect(reg.device('t1', 'bin-2')).toMatchObject({ gatewayId: 'gw-1', elderlyCare: false });
    expect(reg.principal('t1/gw-1')).toMatchObject({ kind: 'gateway' });
    expect(reg.principal('t1/bin-2')).toBeUndefined(); // behind a gateway, no own credentials
  });
  it('names the path of a bad field', async () => {
    const site = structuredClone(await testSiteFile());
    (site.sites[0]!.devices[1] as { family: string }).family = 'toaster';
    expect(() => checkSiteFile(site)).toThrow(SiteFileError);
    expect(() => checkSiteFile(site)).toThrow(/\/sites\/0\/devices\/1\/family/);
  });
  it('rejects dangling references, duplicate ids and grid cycles', async () => {
    const base = await testSiteFile();
    const dangling = structuredClone(base);
    dangling.sites[0]!.devices[0]!.cellId = 'nowhere';
    expect(() => checkSiteFile(dangling)).toThrow(/devices\/0\/cellId: unknown cell "nowhere"/);
    const dup = structuredClone(base);
    dup.sites[0]!.devices[1]!.id = 'door-1';
    expect(() => checkSiteFile(dup)).toThrow(/duplicate id "door-1"/);
    const cycle = structuredClone(base);
    cycle.sites[0]!.grid[1]!.parentId = 'yard-1';
    expect(() => checkSiteFile(cycle)).toThrow(/cycle/);
  });
});

describe('configuration table in the README', () => {
  /** Default cells that describe "not set" in words rather than a value. */
  const UNSET_WORDS = new Set(['unset', 'random per start', 'per-family defaults']);

  it('lists every variable of config.ts with its default, and nothing else', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
    const rows = [...section.matchAll(/^\| `([A-Z0-9_]+)` \| (.+?) \|/gm)].map((m) => ({ name: m[1]!, cell: m[2]!.replace(/^`|`$/g, '') }));
    const vars = configVariables();
    expect(rows.map((r) => r.name).sort()).toEqual(vars.map((v) => v.name).sort());
    const defaults = loadConfig({});
    for (const { name, cell } of rows) {
      const v = vars.find((x) => x.name === name)!;
      if (UNSET_WORDS.has(cell)) expect(defaults[v.key], name).toBeNull();
      else if (cell === 'bundled demo site') expect(defaults[v.key], name).toBe(DEMO_SITE_FILE);
      // The documented default, set explicitly, must mean what leaving it unset means.
      else expect(loadConfig({ [name]: cell })[v.key], `${name}=${cell}`).toEqual(defaults[v.key]);
    }
  });

  it('reads SLA_POLICY as JSON over the defaults and names it when invalid', () => {
    expect(loadConfig({}).slaPolicy).toBeNull();
    expect(loadConfig({ SLA_POLICY: '{"windows":{"critical":{"respondMs":600000}}}' }).slaPolicy).toEqual({ windows: { critical: { respondMs: 600000 } } });
    expect(() => loadConfig({ SLA_POLICY: '{"windows":{"critical":{"respondMs":-1}}}' })).toThrow(/SLA_POLICY/);
    expect(() => loadConfig({ SLA_POLICY: 'fast please' })).toThrow(/SLA_POLICY/);
    expect(() => loadConfig({ SLA_POLICY: '{"warnRatio":0.8,"sla":1}' })).toThrow(/SLA_POLICY/);
  });
});
