import type { Device, Family, GridCell, Operator, Site, SiteFile, UserRole, Worker } from '@shaobing/schemas';

/** Someone who logs in over HTTP: a control-room operator, or a grid worker (phone page). */
export interface Account {
  username: string;
  displayName: string;
  role: UserRole;
  passwordHash: string;
  /** Sites visible; null = all. A worker sees their own site only. */
  siteIds: string[] | null;
  worker?: { siteId: string; worker: Worker };
}

/** A device with its place in the grid resolved once, at load. */
export interface DeviceRecord {
  siteId: string;
  deviceId: string;
  family: Family;
  cellId: string;
  unitId?: string;
  buildingId?: string;
  communityId?: string;
  elderlyCare: boolean;
  locationLabel: string;
  /** Coordinates from the site file (抢单 ranks nearby workers by them). */
  lat?: number;
  lng?: number;
  secretHash?: string;
  gatewayId?: string;
  ports?: number;
}

/** Who may connect over MQTT: a device (its own topics) or a gateway (its site). */
export type Principal =
  | { kind: 'device'; siteId: string; id: string; secretHash: string; family: Family }
  | { kind: 'gateway'; siteId: string; id: string; secretHash: string };

/**
 * In-memory index of the registry (the database's registry tables, or a site file): devices,
 * grid, workers, operators, credentials. Every part of the hub holds this one object;
 * `replace` swaps its contents in place when the registry changes (store/registry-sync.ts), so
 * lookups see the change at once and derived caches rebuild through `onChange`.
 */
export class Registry {
  readonly sites = new Map<string, Site>();
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly principals = new Map<string, Principal>();
  private readonly cells = new Map<string, GridCell>();
  private readonly operators = new Map<string, Operator>();
  private readonly workerAccounts = new Map<string, { siteId: string; worker: Worker }>();
  private readonly listeners: ((registry: Registry) => void)[] = [];
  #file: SiteFile;
  /** The registry version these contents come from (registry_version in the store; 0 = a file). */
  version: number;

  constructor(file: SiteFile, version = 0) {
    this.#file = file;
    this.version = version;
    this.index(file);
  }

  get file(): SiteFile {
    return this.#file;
  }

  /** Swaps in a new (already validated) registry and tells the listeners. */
  replace(file: SiteFile, version: number): void {
    this.sites.clear();
    this.devices.clear();
    this.principals.clear();
    this.cells.clear();
    this.operators.clear();
    this.workerAccounts.clear();
    this.#file = file;
    this.version = version;
    this.index(file);
    // Every listener runs even if one throws; the caller (registry-sync) logs what failed.
    const errors: unknown[] = [];
    for (const l of this.listeners) {
      try { l(this); } catch (err) { errors.push(err); }
    }
    if (errors.length) throw new AggregateError(errors, 'registry change listener failed');
  }

  /** Called after every `replace` (grid indexes and other caches derived from the registry). */
  onChange(listener: (registry: Registry) => void): () => void {
    this.listeners.push(listener);
    return () => { this.listeners.splice(this.listeners.indexOf(listener) >>> 0, 1); };
  }

  /** A registry of one site of this one that follows its changes (a per-site rule engine's). */
  siteView(siteId: string): { registry: Registry; close: () => void } {
    const only = (r: Registry): SiteFile => ({ ...r.file, sites: r.file.sites.filter((s) => s.id === siteId) });
    const view = new Registry(only(this), this.version);
    const close = this.onChange((r) => view.replace(only(r), r.version));
    return { registry: view, close };
  }

  private index(file: SiteFile): void {
    for (const site of file.sites) {
      this.sites.set(site.id, site);
      for (const cell of site.grid) this.cells.set(`${site.id}/${cell.id}`, cell);
      for (const gw of site.gateways) {
        this.principals.set(`${site.id}/${gw.id}`, { kind: 'gateway', siteId: site.id, id: gw.id, secretHash: gw.secretHash });
      }
      for (const d of site.devices) {
        this.devices.set(`${site.id}/${d.id}`, this.resolve(site.id, d));
        if (d.secretHash) this.principals.set(`${site.id}/${d.id}`, { kind: 'device', siteId: site.id, id: d.id, secretHash: d.secretHash, family: d.family });
      }
    }
    for (const op of file.operators) this.operators.set(op.username, op);
    for (const site of file.sites) {
      for (const w of site.workers) if (w.passwordHash !== undefined) this.workerAccounts.set(w.id, { siteId: site.id, worker: w });
    }
  }

  /** The login `username`: an operator, else a worker with a password (the site file keeps them apart). */
  account(username: string): Account | undefined {
    const op = this.operators.get(username);
    if (op) return { username: op.username, displayName: op.displayName, role: op.role, passwordHash: op.passwordHash, siteIds: op.siteIds ?? null };
    const w = this.workerAccounts.get(username);
    if (!w || w.worker.passwordHash === undefined) return undefined;
    return { username, displayName: w.worker.name, role: 'worker', passwordHash: w.worker.passwordHash, siteIds: [w.siteId], worker: w };
  }
  worker(siteId: string, workerId: string): Worker | undefined {
    return this.workers(siteId).find((w) => w.id === workerId);
  }

  device(siteId: string, deviceId: string): DeviceRecord | undefined {
    return this.devices.get(`${siteId}/${deviceId}`);
  }
  allDevices(): IterableIterator<DeviceRecord> {
    return this.devices.values();
  }
  get deviceCount(): number {
    return this.devices.size;
  }
  /** MQTT username `<siteId>/<deviceId or gatewayId>`. */
  principal(username: string): Principal | undefined {
    return this.principals.get(username);
  }
  operator(username: string): Operator | undefined {
    return this.operators.get(username);
  }
  cell(siteId: string, cellId: string): GridCell | undefined {
    return this.cells.get(`${siteId}/${cellId}`);
  }
  grid(siteId: string): GridCell[] {
    return this.sites.get(siteId)?.grid ?? [];
  }
  workers(siteId: string): Worker[] {
    return this.sites.get(siteId)?.workers ?? [];
  }
  /** The cell and its ancestors, nearest first. */
  ancestry(siteId: string, cellId: string): GridCell[] {
    const out: GridCell[] = [];
    for (let c = this.cell(siteId, cellId); c && out.length < 16; c = c.parentId ? this.cell(siteId, c.parentId) : undefined) out.push(c);
    return out;
  }

  private resolve(siteId: string, d: Device): DeviceRecord {
    const chain = this.ancestry(siteId, d.cellId);
    const at = (level: GridCell['level']) => chain.find((c) => c.level === level)?.id;
    const rec: DeviceRecord = {
      siteId,
      deviceId: d.id,
      family: d.family,
      cellId: d.cellId,
      elderlyCare: chain.some((c) => c.elderlyCare === true),
      locationLabel: d.location.label,
    };
    const unitId = at('unit');
    const buildingId = at('compound');
    const communityId = at('community');
    if (unitId) rec.unitId = unitId;
    if (buildingId) rec.buildingId = buildingId;
    if (communityId) rec.communityId = communityId;
    if (d.secretHash) rec.secretHash = d.secretHash;
    if (d.gatewayId) rec.gatewayId = d.gatewayId;
    if (d.ports) rec.ports = d.ports;
    if (d.location.lat !== undefined && d.location.lng !== undefined) { rec.lat = d.location.lat; rec.lng = d.location.lng; }
    return rec;
  }
}
