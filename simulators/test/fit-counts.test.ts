import { describe, expect, it } from 'vitest';
import { buildSite } from '../src/community.ts';

const count = (site: ReturnType<typeof buildSite>, family: string) => site.devices.filter((d) => d.family === family).length;
const ports = (site: ReturnType<typeof buildSite>) => site.devices.reduce((n, d) => n + (d.ports ?? 0), 0);

describe('device counts', () => {
  it('the seeds preset is the source articles\' street: 847 cameras, door access in 72 units, 7,300 charging ports', () => {
    const site = buildSite('shaobing-demo', 'seeds', 'demo');
    expect(count(site, 'camera')).toBe(847);
    expect(count(site, 'door')).toBe(72);
    expect(ports(site)).toBe(7300);
    // Door access is spread over the street, not the first 72 units of one compound.
    const communities = new Set(site.devices.filter((d) => d.family === 'door').map((d) => d.cellId.split('-')[0]));
    expect(communities.size).toBeGreaterThan(6);
    // Ids stay unique and every device with its own connection has a secret.
    expect(new Set(site.devices.map((d) => d.id)).size).toBe(site.devices.length);
    for (const d of site.devices) if (!d.gatewayId) expect(d.secretHash).toMatch(/^sha256:/);
  });

  it('trims and extends each family to the numbers asked for, and refuses what the layout cannot hold', () => {
    const site = buildSite('c', 'demo', 'demo', { cameras: 100, doorUnits: 3, bins: 0, chargerPosts: 5, chargerPorts: 47 });
    expect(count(site, 'camera')).toBe(100); // more than demo generates: clones with new ids
    expect(count(site, 'door')).toBe(3);
    expect(count(site, 'bin')).toBe(0);
    expect(count(site, 'charger')).toBe(5);
    expect(ports(site)).toBe(47);
    expect(new Set(site.devices.map((d) => d.id)).size).toBe(site.devices.length);
    expect(() => buildSite('c', 'small', 'demo', { doorUnits: 500 })).toThrow(/units/);
    // The same seed and counts give the same site.
    expect(buildSite('c', 'demo', 'demo', { cameras: 100 })).toEqual(buildSite('c', 'demo', 'demo', { cameras: 100 }));
  });
});
