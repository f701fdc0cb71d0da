/*
 * Device counts from the command line: trims or extends a generated site to exact numbers per
 * family, keeping the generator's spread (an evenly spaced subset walks the whole street) and
 * its naming. Pure: takes a site, returns a new one.
 */
import type { Device, Family, Site } from '@shaobing/schemas';

export interface DeviceCounts {
  cameras?: number;
  /** Units with door access (one door controller per unit entrance). */
  doorUnits?: number;
  bins?: number;
  chargerPosts?: number;
  /** Charging ports over all posts (at most 64 per post). */
  chargerPorts?: number;
}

/** The seeds' street (DESIGN.md, seeds/): 847 cameras, door access in 72 units, ~7,300 charging ports. */
export const SEEDS_STREET: DeviceCounts = { cameras: 847, doorUnits: 72, chargerPorts: 7300 };

const MAX_PORTS = 64;

export function fitCounts(site: Site, counts: DeviceCounts, secretOf: (deviceId: string) => string): Site {
  const by = (f: Family) => site.devices.filter((d) => d.family === f);
  const units = site.grid.filter((g) => g.level === 'unit').length;
  if (counts.doorUnits !== undefined && counts.doorUnits > units) {
    throw new RangeError(`door units: this street has ${units} units; use a larger --size for more than that`);
  }
  const cameras = fit(by('camera'), counts.cameras, (d, i) => ({ ...d, id: `${d.id}-x${i}`, secretHash: secretOf(`${d.id}-x${i}`) }));
  const doors = fit(by('door'), counts.doorUnits, () => { throw new Error('unreachable: checked above'); });
  const bins = fit(by('bin'), counts.bins, (d, i) => ({ ...d, id: `${d.id}-x${i}`, secretHash: secretOf(`${d.id}-x${i}`) }));
  let posts = by('charger');
  let postCount = counts.chargerPosts ?? posts.length;
  if (counts.chargerPorts !== undefined) postCount = Math.max(postCount, Math.ceil(counts.chargerPorts / MAX_PORTS));
  // Posts behind a gateway carry no secret of their own.
  posts = fit(posts, postCount === posts.length ? undefined : postCount, (d, i) => ({ ...d, id: `${d.id}-x${i}` }));
  if (counts.chargerPorts !== undefined) {
    if (posts.length === 0 && counts.chargerPorts > 0) throw new RangeError('charger ports need at least one charging post');
    const base = Math.floor(counts.chargerPorts / posts.length);
    const extra = counts.chargerPorts % posts.length;
    posts = posts.map((d, i) => ({ ...d, ports: base + (i < extra ? 1 : 0) })).filter((d) => d.ports! >= 1);
  }
  const kept = new Set([...cameras, ...doors, ...bins, ...posts]);
  const others = site.devices.filter((d) => !['camera', 'door', 'bin', 'charger'].includes(d.family));
  return { ...site, devices: [...others, ...[...kept].sort(byFamilyOrder(site.devices))] };
}

/** n of `list`: an evenly spaced subset, or the list plus clones (round-robin) made by `clone`. */
function fit(list: Device[], n: number | undefined, clone: (d: Device, i: number) => Device): Device[] {
  if (n === undefined || n === list.length) return list;
  if (n < 0 || !Number.isInteger(n)) throw new RangeError(`a device count must be a whole number ≥ 0, got ${n}`);
  if (n < list.length) return Array.from({ length: n }, (_, i) => list[Math.floor((i * list.length) / n)]!);
  if (list.length === 0) throw new RangeError('no device of this family to extend from in this --size');
  const out = [...list];
  for (let i = 0; out.length < n; i++) out.push(clone(list[i % list.length]!, Math.floor(i / list.length) + 1));
  return out;
}

/** Keeps the generator's order (devices by place), clones after their originals' family. */
function byFamilyOrder(original: Device[]): (a: Device, b: Device) => number {
  const pos = new Map(original.map((d, i) => [d.id, i]));
  const at = (d: Device) => pos.get(d.id) ?? pos.get(d.id.replace(/-x\d+$/, ''))! + 0.5;
  return (a, b) => at(a) - at(b);
}
