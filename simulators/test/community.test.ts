import { describe, expect, it } from 'vitest';
import { SiteFile, Validator, type Site } from '@shaobing/schemas';
import { verifyDeviceSecret, verifyPassword } from '@shaobing/schemas/credentials';
import { buildCommunity, buildSite, deriveCredentials, principal } from '../src/community.ts';
import { DEMO_OPERATORS } from '../src/operators.ts';

const validator = new Validator(SiteFile);
const count = (site: Site, family: string): number => site.devices.filter((d) => d.family === family).length;
const units = (site: Site): number => site.grid.filter((g) => g.level === 'unit').length;

describe('community builder', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(buildSite('seed-a', 'demo', 'demo')).toEqual(buildSite('seed-a', 'demo', 'demo'));
    expect(JSON.stringify(buildSite('seed-b', 'demo', 'demo'))).not.toEqual(JSON.stringify(buildSite('seed-a', 'demo', 'demo')));
  });

  it('builds a valid SiteFile with demo operators and working credentials', async () => {
    const { siteFile, credentials } = await buildCommunity({ seed: 'shaobing-demo', size: 'small' });
    const result = validator.validate(siteFile);
    expect(result.ok ? [] : result.issues).toEqual([]);
    const site = siteFile.sites[0]!;
    expect(site.id).toBe('demo');
    // Every principal with a secret has a password that verifies against its stored hash.
    const principals = [...site.devices.filter((d) => d.secretHash), ...site.gateways];
    expect(credentials.size).toBe(principals.length);
    for (const p of principals) {
      const password = credentials.get(principal(site.id, p.id));
      expect(password, p.id).toBeDefined();
      expect(verifyDeviceSecret(password!, p.secretHash!)).toBe(true);
    }
    expect(siteFile.operators.map((o) => [o.username, o.role])).toEqual(DEMO_OPERATORS.map((o) => [o.username, o.role]));
    for (const op of DEMO_OPERATORS) {
      expect(await verifyPassword(op.password, siteFile.operators.find((o) => o.username === op.username)!.passwordHash)).toBe(true);
    }
  });

  it('has a well-formed grid with names in both languages, workers and unique ids', () => {
    const site = buildSite('shaobing-demo', 'demo', 'demo');
    const cells = new Map(site.grid.map((g) => [g.id, g]));
    expect(cells.size).toBe(site.grid.length);
    const ids = new Set([...site.devices, ...site.gateways].map((x) => x.id));
    expect(ids.size).toBe(site.devices.length + site.gateways.length);
    const parentLevel = { street: undefined, community: 'street', compound: 'community', unit: 'compound' } as const;
    for (const g of site.grid) {
      expect(g.nameEn, g.id).toBeTruthy();
      expect(g.name).toMatch(/[\u4e00-\u9fff]/);
      expect(g.parentId ? cells.get(g.parentId)?.level : undefined).toBe(parentLevel[g.level]);
    }
    for (const d of site.devices) expect(cells.has(d.cellId), d.id).toBe(true);
    // Door controllers sit in units, one per unit entrance.
    expect(site.devices.filter((d) => d.family === 'door').every((d) => cells.get(d.cellId)?.level === 'unit')).toBe(true);
    expect(count(site, 'door')).toBe(units(site));
    // Every compound has a worker of every team; the community and the street have dispatch.
    for (const y of site.grid.filter((g) => g.level === 'compound')) {
      const teams = new Set(site.workers.filter((w) => w.cellId === y.id).flatMap((w) => w.teams));
      expect([...teams].sort()).toEqual(['care', 'cleaning', 'maintenance', 'security']);
    }
    expect(site.workers.some((w) => w.cellId === 'st')).toBe(true);
    expect(site.workers.some((w) => w.cellId === 'c01')).toBe(true);
    expect(site.grid.some((g) => g.elderlyCare)).toBe(true);
    // Charging posts (~10 ports) sit behind the community gateway, without own credentials.
    for (const c of site.devices.filter((d) => d.family === 'charger')) {
      expect(c.gatewayId).toBe('gw-c01-chg');
      expect(c.secretHash).toBeUndefined();
      expect(c.ports).toBeGreaterThanOrEqual(8);
    }
  });

  it('scales the fleet with size in realistic proportions', () => {
    const small = buildSite('shaobing-demo', 'small', 'demo');
    const demo = buildSite('shaobing-demo', 'demo', 'demo');
    const street = buildSite('shaobing-demo', 'street', 'demo');
    expect(small.devices.length).toBeLessThan(30);
    for (const f of ['door', 'camera', 'bin', 'charger']) expect(count(small, f), f).toBeGreaterThanOrEqual(2);
    expect(demo.devices.length).toBeGreaterThan(110);
    expect(demo.devices.length).toBeLessThan(200);
    expect(street.devices.length).toBeGreaterThan(8000);
    expect(street.devices.length).toBeLessThan(12_000);
    expect(street.grid.filter((g) => g.level === 'community').length).toBeGreaterThanOrEqual(10);
    // A real street: thousands of charging ports at ~10 per post, about one post per 6–7 units.
    const ports = street.devices.reduce((n, d) => n + (d.ports ?? 0), 0);
    expect(ports).toBeGreaterThan(5000);
    expect(ports).toBeLessThan(10_000);
    for (const site of [demo, street]) {
      expect(units(site) / count(site, 'charger')).toBeGreaterThan(5);
      expect(units(site) / count(site, 'charger')).toBeLessThan(8);
      expect(count(site, 'camera') / units(site)).toBeGreaterThan(0.3);
      expect(count(site, 'camera') / units(site)).toBeLessThan(0.8);
      expect(count(site, 'bin') / units(site)).toBeGreaterThan(0.25);
      expect(count(site, 'bin') / units(site)).toBeLessThan(0.6);
      const elderly = site.grid.filter((g) => g.elderlyCare).length / units(site);
      expect(elderly).toBeGreaterThan(0.02);
      expect(elderly).toBeLessThan(0.2);
    }
    expect(street.gateways.length).toBe(street.grid.filter((g) => g.level === 'community').length + 1);
  });

  it('derives credentials from a site file and the seed, leaving foreign secrets out', async () => {
    const { siteFile, credentials } = await buildCommunity({ seed: 'shaobing-demo', size: 'small', siteId: 's2' });
    expect([...deriveCredentials(siteFile, 'shaobing-demo')]).toEqual([...credentials]);
    expect(deriveCredentials(siteFile, 'another-seed').size).toBe(0);
    expect([...credentials.keys()].every((u) => u.startsWith('s2/'))).toBe(true);
  });
});
