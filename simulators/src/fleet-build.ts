/*
 * The simulated fleet as data: one SimDevice per device with credentials, each on its own MQTT
 * link (devices mode) or its gateway's (gateways mode, and devices without own credentials),
 * with the Last Will each link leaves behind. Builds objects only; nothing connects here.
 */
import { MAX_BATCH_ITEMS, deviceTopic, gatewayBatchTopic, type Device, type Site, type SiteFile } from '@shaobing/schemas';
import { principal } from './community.ts';
import { Link, type FleetCounters } from './fleet.ts';
import type { Speaker } from './fleet-scheduler.ts';
import { PROFILES, type Emit, type Profile } from './profiles/index.ts';
import { Rng } from './random.ts';

export interface SimDevice extends Speaker<Link> {
  site: Site;
  device: Device;
  profile: Profile;
  /** Messages sent so far (envelope ids are `<nonce>-<counter>`). */
  counter: number;
}

export interface FleetOptions {
  url: string;
  siteFile: SiteFile;
  credentials: Map<string, string>;
  qos: 0 | 1;
  mode: 'devices' | 'gateways';
  seed: string;
  /** Prefix of every envelope id of this run. */
  nonce: string;
  simStartMs: number;
  counters: FleetCounters;
  log: (line: string) => void;
  onConnect: (link: Link) => void;
  onReady: (link: Link) => void;
}

export interface Fleet {
  /** By `<siteId>/<deviceId>`. */
  devices: Map<string, SimDevice>;
  /** By `<kind>:<siteId>/<id>`; idle gateways too (malformed traffic uses them). */
  links: Map<string, Link>;
  /** The devices each link speaks for. */
  served: Map<Link, SimDevice[]>;
  /** What the fleet says per second at real speed. */
  naturalRatePerSec: number;
  /** Devices of the site file without credentials (not simulated). */
  skipped: number;
}

export const linkKey = (kind: 'device' | 'gateway', siteId: string, id: string): string => `${kind}:${siteId}/${id}`;

/** The retained status a device publishes on (re)connect, and as its Last Will. */
export function statusEmit(d: Pick<SimDevice, 'device' | 'profile'>, online: boolean): Emit {
  return { type: `${d.device.family}.status` as Emit['type'], data: online ? { online, firmware: d.profile.firmware } : { online } };
}

export function buildFleet(o: FleetOptions): Fleet {
  const links = new Map<string, Link>();
  const devices = new Map<string, SimDevice>();
  const served = new Map<Link, SimDevice[]>();
  let naturalRatePerSec = 0;
  const linkFor = (kind: 'device' | 'gateway', site: Site, id: string, will?: { topic: string; payload: string }): Link | undefined => {
    const key = linkKey(kind, site.id, id);
    const existing = links.get(key);
    if (existing) return existing;
    const password = o.credentials.get(principal(site.id, id));
    if (password === undefined) return undefined;
    const link = new Link({
      url: o.url, kind, siteId: site.id, id, username: principal(site.id, id), password, qos: o.qos,
      maxInflight: o.qos === 1 ? 64 : 256, counters: o.counters, log: o.log, will, onConnect: o.onConnect, onReady: o.onReady,
    });
    links.set(key, link);
    return link;
  };

  for (const site of o.siteFile.sites) {
    const rest = site.gateways.find((g) => !site.devices.some((d) => d.gatewayId === g.id)) ?? site.gateways[0];
    for (const device of site.devices) {
      const profile = PROFILES[device.family];
      const willTopic = deviceTopic(site.id, device.family, device.id, 'status');
      const own = o.mode === 'devices' && device.secretHash && !device.gatewayId
        ? linkFor('device', site, device.id, { topic: willTopic, payload: JSON.stringify({ id: `${o.nonce}-will`, ts: new Date().toISOString(), ...statusEmit({ device, profile }, false) }) })
        : undefined;
      const gwId = device.gatewayId ?? rest?.id;
      const link = own ?? (gwId ? linkFor('gateway', site, gwId) : undefined);
      if (!link) continue;
      const model = profile.create(device, new Rng(`${o.seed}/device/${site.id}/${device.id}`), o.simStartMs);
      const sd: SimDevice = { site, device, profile, model, link, counter: 0, takenOver: false, key: model.nextAt };
      devices.set(`${site.id}/${device.id}`, sd);
      if (!served.has(link)) served.set(link, []);
      served.get(link)!.push(sd);
      naturalRatePerSec += profile.meanRatePerSec(device);
    }
    for (const g of site.gateways) linkFor('gateway', site, g.id);
  }
  // A gateway's Last Will marks the devices behind it offline (the topic grammar has no gateway status).
  for (const [link, list] of served) {
    if (link.kind !== 'gateway' || list.length > MAX_BATCH_ITEMS) continue;
    const items = list.filter((d) => d.device.gatewayId === link.id).map((d) => ({ deviceId: d.device.id, id: `${o.nonce}-will`, ts: Date.now(), ...statusEmit(d, false) }));
    if (items.length > 0) link.opts.will = { topic: gatewayBatchTopic(link.opts.siteId, link.id), payload: JSON.stringify(items) };
  }
  const skipped = o.siteFile.sites.reduce((n, s) => n + s.devices.length, 0) - devices.size;
  return { devices, links, served, naturalRatePerSec, skipped };
}
