/*
 * Deterministic community builder: one street (街道) as a SiteFile, from a seed.
 * Proportions follow the source articles (seeds/): a door controller per unit entrance, AI
 * cameras at gates, fire lanes, bin points, lift cars and façades of high-rises, sorted bins at
 * collection points, e-bike charging posts of ~10 ports (≈1 post per 6–7 units gives the
 * 7,300 ports of a real street), and grid workers per compound.
 */
import type { Device, Gateway, GridCell, Site, SiteFile, Worker } from '@shaobing/schemas';
import { deriveDemoSecret, hashDeviceSecret } from '@shaobing/schemas/credentials';
import { BIN_KIND_ZH, type BinKind } from './device-kinds.ts';
import { SEEDS_STREET, fitCounts, type DeviceCounts } from './fit-counts.ts';
import { PLACE_STEMS, compoundName, personName, unitName } from './names.ts';
import { demoOperators } from './operators.ts';
import { Rng, hashString } from './random.ts';
import { CompoundLayout, compoundCentre, type LatLng } from './site-layout.ts';

/** `seeds`: the street of the source articles (fit-counts.ts SEEDS_STREET) on the street layout. */
export const SIZES = ['small', 'demo', 'street', 'seeds'] as const;
export type CommunitySize = (typeof SIZES)[number];

interface SizeProfile {
  communities: number;
  compounds: [number, number];
  buildings: [number, number];
  unitsPerBuilding: [number, number];
  /** Share of compounds that are high-rises with lifts (most of a Beijing street is 老旧小区). */
  highRiseShare: number;
  unitsPerBinPoint: number;
  unitsPerChargerPost: number;
  minChargerPosts: number;
  elderlyShare: number;
}

const PROFILES: Record<Exclude<CommunitySize, 'seeds'>, SizeProfile> = {
  small: { communities: 1, compounds: [1, 1], buildings: [2, 2], unitsPerBuilding: [2, 2], highRiseShare: 1, unitsPerBinPoint: 8, unitsPerChargerPost: 6.5, minChargerPosts: 2, elderlyShare: 0.25 },
  demo: { communities: 1, compounds: [4, 4], buildings: [4, 8], unitsPerBuilding: [2, 4], highRiseShare: 0.3, unitsPerBinPoint: 8, unitsPerChargerPost: 6.5, minChargerPosts: 1, elderlyShare: 0.08 },
  street: { communities: 12, compounds: [7, 11], buildings: [8, 14], unitsPerBuilding: [3, 5], highRiseShare: 0.25, unitsPerBinPoint: 8, unitsPerChargerPost: 6.5, minChargerPosts: 1, elderlyShare: 0.08 },
};

export interface BuildOptions { seed: string; size?: CommunitySize; siteId?: string; counts?: DeviceCounts }
export interface BuiltCommunity {
  siteFile: SiteFile;
  /** MQTT username (`<siteId>/<deviceId>` or `<siteId>/<gatewayId>`) → password. */
  credentials: Map<string, string>;
}

/** MQTT username of a device or gateway of a site. */
export function principal(siteId: string, id: string): string {
  return `${siteId}/${id}`;
}

// Roughly central Beijing; only used to give the dashboard plausible map positions.
const BASE_LAT = 39.93;
const BASE_LNG = 116.45;

export async function buildCommunity(opts: BuildOptions): Promise<BuiltCommunity> {
  const site = buildSite(opts.seed, opts.size ?? 'demo', opts.siteId ?? 'demo', opts.counts);
  const operators = await demoOperators();
  const siteFile: SiteFile = { version: 1, sites: [site], operators };
  return { siteFile, credentials: deriveCredentials(siteFile, opts.seed) };
}

/**
 * Passwords for every principal of a site file whose secret was derived from `seed`
 * (the demo convention); principals with foreign secrets are left out.
 */
export function deriveCredentials(siteFile: SiteFile, seed: string): Map<string, string> {
  const creds = new Map<string, string>();
  for (const site of siteFile.sites) {
    for (const p of [...site.gateways, ...site.devices]) {
      if (!p.secretHash) continue;
      const user = principal(site.id, p.id);
      const secret = deriveDemoSecret(seed, user);
      if (hashDeviceSecret(secret) === p.secretHash) creds.set(user, secret);
    }
  }
  return creds;
}

/** The synchronous part (everything but operator password hashing). */
export function buildSite(seed: string, size: CommunitySize, siteId: string, counts?: DeviceCounts): Site {
  const secret = (id: string): string => hashDeviceSecret(deriveDemoSecret(seed, principal(siteId, id)));
  if (size === 'seeds') return fitCounts(generate(seed, 'street', siteId), { ...SEEDS_STREET, ...counts }, secret);
  const site = generate(seed, size, siteId);
  return counts && Object.values(counts).some((v) => v !== undefined) ? fitCounts(site, counts, secret) : site;
}

/** What the builders of one street fill in, and where they draw their randomness from. */
interface Street {
  profile: SizeProfile;
  rng: Rng;
  secret: (id: string) => string;
  grid: GridCell[];
  workers: Worker[];
  gateways: Gateway[];
  devices: Device[];
  elderlyUnits: GridCell[];
  highRises: number;
}

function generate(seed: string, size: Exclude<CommunitySize, 'seeds'>, siteId: string): Site {
  const profile = PROFILES[size];
  const rng = new Rng(`${seed}/${size}/${siteId}`);
  const secret = (id: string): string => hashDeviceSecret(deriveDemoSecret(seed, principal(siteId, id)));
  const stems = shuffle(rng, PLACE_STEMS);
  const streetStem = stems[0]!;
  const st: Street = {
    profile, rng, secret, gateways: [], devices: [], elderlyUnits: [], highRises: 0,
    grid: [{ id: 'st', level: 'street', name: `${streetStem.zh}街道`, nameEn: `${streetStem.en} Street` }],
    workers: [{ id: 'w-st-dispatch', name: personName(rng), cellId: 'st', teams: ['cleaning', 'security', 'maintenance', 'care'], phone: phone(rng) }],
  };
  for (let c = 1; c <= profile.communities; c++) addCommunity(st, c, stems[c % stems.length]!);
  // Every site has at least one 关爱 unit so the welfare-check rule can be demonstrated.
  if (st.elderlyUnits.length === 0) {
    const firstUnit = st.grid.find((g) => g.level === 'unit');
    if (firstUnit) firstUnit.elderlyCare = true;
  }
  // A site-wide integration gateway (e.g. the property platform) can speak for any device.
  st.gateways.push({ id: 'gw-platform', name: '物业平台网关', secretHash: secret('gw-platform'), siteWide: true }); // relays the devices with no gateway of their own
  const { grid, workers, gateways, devices } = st;
  return { id: siteId, name: grid[0]!.name, nameEn: grid[0]!.nameEn, timezone: 'Asia/Shanghai', grid, workers, gateways, devices };
}

type Stem = (typeof PLACE_STEMS)[number];

function addCommunity(st: Street, c: number, stem: Stem): void {
  const { profile, rng } = st;
  const cId = `c${pad(c)}`;
  st.grid.push({ id: cId, level: 'community', name: `${stem.zh}社区`, nameEn: `${stem.en} Community`, parentId: 'st' });
  st.workers.push({ id: `w-${cId}`, name: personName(rng), cellId: cId, teams: ['cleaning', 'security', 'maintenance', 'care'], phone: phone(rng) });
  // One gateway per community aggregates its charging posts (vendors' boxes typically do).
  const chargerGw = `gw-${cId}-chg`;
  st.gateways.push({ id: chargerGw, name: `${stem.zh}社区充电桩网关`, secretHash: st.secret(chargerGw) });
  const centre = { lat: BASE_LAT + (c % 4) * 0.012, lng: BASE_LNG + Math.floor(c / 4) * 0.015 };
  const compounds = rng.int(...profile.compounds);
  for (let y = 1; y <= compounds; y++) {
    // The last compound of the street is a high-rise if none was yet (every size that has any).
    const lastChance = st.highRises === 0 && c === profile.communities && y === compounds && profile.highRiseShare > 0;
    addCompound(st, { cId, stem, y, compounds, centre, chargerGw, lastChance });
  }
}

function addCompound(st: Street, at0: { cId: string; stem: Stem; y: number; compounds: number; centre: LatLng; chargerGw: string; lastChance: boolean }): void {
  const { profile, rng, secret, devices } = st;
  const yId = `${at0.cId}-y${pad(at0.y)}`;
  const yName = compoundName(at0.stem, at0.y - 1);
  // 物业公司 and residents (万人诉求率) come from the ids, not the seeded stream, so adding them
  // changed nothing else a seed builds.
  st.grid.push({ id: yId, level: 'compound', name: yName.zh, nameEn: yName.en, parentId: at0.cId, propertyCompany: PROPERTY_COMPANIES[hashString(yId) % PROPERTY_COMPANIES.length]! });
  // The random draws of the former scattered positions stay, so every other generated
  // value (names, units, elderly care) is the same for a seed; positions follow a plan.
  rng.float(-0.004, 0.004); rng.float(-0.005, 0.005);
  const at: PlaceAt = (label, floor, p) => {
    rng.float(-0.0008, 0.0008); rng.float(-0.0008, 0.0008);
    return { label, ...(floor === undefined ? {} : { floor }), lat: p.lat, lng: p.lng };
  };
  const highRise = rng.chance(profile.highRiseShare) || at0.lastChance;
  if (highRise) st.highRises++;
  const buildings = rng.int(...profile.buildings);
  const plan = new CompoundLayout(compoundCentre(at0.centre, at0.y, at0.compounds), buildings);
  const units = addBuildings(st, { yId, yName, highRise, buildings, plan, at });
  const gates = units > 30 ? 2 : 1;
  for (let g = 1; g <= gates; g++) {
    const camId = `cam-${yId}-gate-${g}`;
    devices.push({ id: camId, family: 'camera', cellId: yId, location: at(`小区大门${g}`, 1, plan.gate(g, gates)), secretHash: secret(camId) });
  }
  const lanes = Math.max(1, Math.round(units / 15));
  for (let l = 1; l <= lanes; l++) {
    const camId = `cam-${yId}-lane-${l}`;
    devices.push({ id: camId, family: 'camera', cellId: yId, location: at(`消防通道${l}`, 1, plan.lane(l, lanes)), secretHash: secret(camId) });
  }
  const points = Math.max(1, Math.round(units / profile.unitsPerBinPoint));
  for (let p = 1; p <= points; p++) {
    const camId = `cam-${yId}-binpt-${p}`;
    devices.push({ id: camId, family: 'camera', cellId: yId, location: at(`垃圾分类驿站${p}`, 1, plan.sortingPoint(p, points, 0)), secretHash: secret(camId) });
    // Every point has kitchen + other waste; the larger ones (every other) all four classes.
    const kinds: BinKind[] = p % 2 === 1 ? ['kitchen', 'other', 'recyclable', 'hazardous'] : ['kitchen', 'other'];
    for (const [slot, kind] of kinds.entries()) {
      const binId = `bin-${yId}-p${p}-${kind}`;
      devices.push({ id: binId, family: 'bin', cellId: yId, location: at(`垃圾分类驿站${p}${BIN_KIND_ZH[kind]}`, 1, plan.sortingPoint(p, points, slot + 1)), secretHash: secret(binId) });
    }
  }
  const posts = Math.max(profile.minChargerPosts, Math.round(units / profile.unitsPerChargerPost));
  for (let k = 1; k <= posts; k++) {
    const chgId = `chg-${yId}-${pad(k)}`;
    const shed = Math.ceil(k / 4);
    devices.push({ id: chgId, family: 'charger', cellId: yId, location: at(`电动自行车充电棚${shed} ${k}号桩`, 1, plan.chargingPost(k, posts)), gatewayId: at0.chargerGw, ports: rng.pick([8, 10, 10, 10, 12]) });
  }
  for (const team of ['cleaning', 'security', 'maintenance', 'care'] as const) {
    // Larger compounds get more cleaners (one per ~25 units); one of each other team.
    const count = team === 'cleaning' ? Math.max(1, Math.round(units / 25)) : 1;
    for (let i = 1; i <= count; i++) st.workers.push({ id: `w-${yId}-${team}-${i}`, name: personName(rng), cellId: yId, teams: [team], phone: phone(rng) });
  }
}

/** Buildings of a compound: a door per unit entrance, lift and façade cameras in high-rises. Returns the unit count. */
function addBuildings(st: Street, c: { yId: string; yName: { zh: string; en: string }; highRise: boolean; buildings: number; plan: CompoundLayout; at: PlaceAt }): number {
  const { profile, rng, secret, devices } = st;
  const { yId, yName, highRise, buildings, plan, at } = c;
  let units = 0;
  for (let b = 1; b <= buildings; b++) {
    const perBuilding = rng.int(...profile.unitsPerBuilding);
    for (let u = 1; u <= perBuilding; u++) {
      units++;
      const uId = `${yId}-b${pad(b)}-u${u}`;
      const n = unitName(b, u);
      const cell: GridCell = { id: uId, level: 'unit', name: `${yName.zh}${n.zh}`, nameEn: `${yName.en} ${n.en}`, parentId: yId, population: unitPopulation(uId) };
      if (rng.chance(profile.elderlyShare)) { cell.elderlyCare = true; st.elderlyUnits.push(cell); }
      st.grid.push(cell);
      const doorId = `door-${uId}`;
      devices.push({ id: doorId, family: 'door', cellId: uId, location: at(`${n.zh}门禁`, 1, plan.door(b, u, perBuilding)), secretHash: secret(doorId) });
      if (highRise) {
        const camId = `cam-${yId}-lift-b${pad(b)}-u${u}`;
        devices.push({ id: camId, family: 'camera', cellId: uId, location: at(`${n.zh}电梯轿厢`, undefined, plan.lift(b, u, perBuilding)), secretHash: secret(camId) });
      }
    }
    if (highRise) {
      // 高空抛物 cameras look up the façade of each high-rise building.
      const camId = `cam-${yId}-facade-b${pad(b)}`;
      devices.push({ id: camId, family: 'camera', cellId: yId, location: at(`${b}号楼外立面`, 1, plan.facade(b)), secretHash: secret(camId) });
    }
  }
  return units;
}

/** A device's location: its label and floor, at a point of the compound's plan. */
type PlaceAt = (label: string, floor: number | undefined, p: LatLng) => Device['location'];

const PROPERTY_COMPANIES = ['安居物业', '城建物业服务', '和美物业'] as const;

/** Residents of a unit: 12–36 households of about 2.6 people (a six-storey 老旧小区 unit). */
function unitPopulation(unitId: string): number {
  return Math.round((12 + (hashString(`population/${unitId}`) % 25)) * 2.6);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Masked the way Chinese control rooms display them (never a dialable number). */
function phone(rng: Rng): string {
  return `1${rng.pick(['38', '39', '58', '86'])}****${String(rng.int(0, 9999)).padStart(4, '0')}`;
}

function shuffle<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
