import { randomBytes } from 'node:crypto';
import type { SiteFile } from '@shaobing/schemas';
import { SiteFileError } from './load-site-file.ts';

/*
 * The registry changes an operator makes (CLI `device add`, `rotate-secret`, `operator add`,
 * `passwd`; the admin API), as pure functions from the current registry to the next document.
 * They check only what they need to find their target; the result is checked as a whole by
 * writeRegistry (store/registry-store.ts) with the site file's own check, so a new device's
 * family, cell or gateway is refused with the same message as in a site file.
 */

export interface NewDevice {
  siteId: string;
  id: string;
  family: string;
  cellId: string;
  label: string;
  gatewayId?: string;
  ports?: number;
  /** sha256 hash of the new secret; absent for a device that only speaks through its gateway. */
  secretHash?: string;
}

function siteOf(current: SiteFile | null, siteId: string): SiteFile['sites'][number] {
  const site = current?.sites.find((s) => s.id === siteId);
  if (!site) throw new SiteFileError(`no site ${siteId}`);
  return site;
}

export function addDevice(current: SiteFile | null, d: NewDevice): object {
  const site = siteOf(current, d.siteId);
  if (site.devices.some((x) => x.id === d.id)) throw new SiteFileError(`device ${d.siteId}/${d.id} exists (rotate-secret gives it a new secret)`);
  const device = {
    id: d.id, family: d.family, cellId: d.cellId, location: { label: d.label },
    ...(d.gatewayId !== undefined ? { gatewayId: d.gatewayId } : {}),
    ...(d.ports !== undefined ? { ports: d.ports } : {}),
    ...(d.secretHash !== undefined ? { secretHash: d.secretHash } : {}),
  };
  return { ...current, sites: current!.sites.map((s) => (s === site ? { ...s, devices: [...s.devices, device] } : s)) };
}

/** A device's or gateway's new secret hash (one namespace of MQTT usernames per site). */
export function setSecretHash(current: SiteFile | null, siteId: string, id: string, secretHash: string): object {
  const site = siteOf(current, siteId);
  const holder = site.devices.find((d) => d.id === id) ?? site.gateways.find((g) => g.id === id);
  if (!holder) throw new SiteFileError(`no device or gateway ${siteId}/${id}`);
  holder.secretHash = secretHash; // `current` is writeRegistry's own copy
  return current!;
}

export function addOperator(current: SiteFile | null, op: { username: string; displayName: string; role: string; passwordHash: string; siteIds?: string[] }): object {
  if (!current) throw new SiteFileError('the registry is empty: import a site file first');
  if (current.operators.some((o) => o.username === op.username)) throw new SiteFileError(`operator ${op.username} exists (operator passwd changes the password)`);
  return { ...current, operators: [...current.operators, op] };
}

/** An operator's password, else that of the worker who logs in with this id. */
export function setPasswordHash(current: SiteFile | null, username: string, passwordHash: string): object {
  const op = current?.operators.find((o) => o.username === username);
  const worker = current?.sites.flatMap((s) => s.workers).find((w) => w.id === username && w.passwordHash !== undefined);
  if (op) op.passwordHash = passwordHash;
  else if (worker) worker.passwordHash = passwordHash;
  else throw new SiteFileError(`no operator or worker login ${username}`);
  return current!;
}

/** 192 random bits, URL-safe: what a device is flashed with (shown once, stored hashed). */
export function newDeviceSecret(): string {
  return randomBytes(24).toString('base64url');
}
