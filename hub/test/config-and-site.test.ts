import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
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
