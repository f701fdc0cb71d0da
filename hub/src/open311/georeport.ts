import { CATEGORIES, CATEGORY_TEAM, type Category, type Open311Request, type Open311Service, type Site, type Ticket } from '@shaobing/schemas';
import { CATEGORY_LABEL } from '../tickets/core/complaint.ts';
import { isActive } from '../tickets/core/permissions.ts';

// Open311 GeoReport v2 in terms of Shaobing: services are ticket categories, requests are
// tickets, address_id is a grid cell id, lat/long come from the devices. Pure functions.

const KEYWORDS: Record<Category, string> = {
  fire_safety: '消防,电动车,充电,烟火,消防通道,fire,e-bike,charging,smoke',
  sanitation: '垃圾,满溢,分类,bin,garbage,trash',
  security: '门禁,高空抛物,治安,door,security,thrown object',
  order: '停车,秩序,parking,order',
  care: '关爱,独居老人,elderly,welfare',
  equipment: '设备,故障,离线,equipment,fault',
};

export function open311Services(): Open311Service[] {
  return CATEGORIES.map((c) => ({
    service_code: c, service_name: CATEGORY_LABEL[c]['zh-CN'], description: CATEGORY_LABEL[c].en,
    metadata: false, type: 'realtime', keywords: KEYWORDS[c], group: CATEGORY_TEAM[c],
  }));
}

export const isServiceCode = (s: string): s is Category => (CATEGORIES as readonly string[]).includes(s);

export interface LatLng { lat: number; lng: number }

/** Where a cell is: the mean position of its devices and those of the cells inside it. */
export function cellPositions(site: Site): Map<string, LatLng> {
  const sums = new Map<string, { lat: number; lng: number; n: number }>();
  const parent = new Map(site.grid.map((c) => [c.id, c.parentId]));
  for (const d of site.devices) {
    const { lat, lng } = d.location;
    if (lat === undefined || lng === undefined) continue;
    let cell: string | undefined = d.cellId;
    for (let depth = 0; cell !== undefined && depth < 16; depth++) {
      const s = sums.get(cell) ?? { lat: 0, lng: 0, n: 0 };
      s.lat += lat; s.lng += lng; s.n++;
      sums.set(cell, s);
      cell = parent.get(cell);
    }
  }
  return new Map([...sums].map(([id, s]) => [id, { lat: s.lat / s.n, lng: s.lng / s.n }]));
}

/** Metres between two points (equirectangular: exact enough within a street). */
export function distanceM(a: LatLng, b: LatLng): number {
  const rad = Math.PI / 180;
  const x = (b.lng - a.lng) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  const y = (b.lat - a.lat) * rad;
  return Math.sqrt(x * x + y * y) * 6_371_000;
}

/** A point further than this from every device is not in the site. */
export const MAX_PLACE_DISTANCE_M = 300;

/** The grid cell of the device nearest to a point, or null when none is within MAX_PLACE_DISTANCE_M. */
export function cellAt(site: Site, at: LatLng): { cellId: string; distanceM: number } | null {
  let best: { cellId: string; distanceM: number } | null = null;
  for (const d of site.devices) {
    const { lat, lng } = d.location;
    if (lat === undefined || lng === undefined) continue;
    const m = distanceM(at, { lat, lng });
    if (m <= MAX_PLACE_DISTANCE_M && (best === null || m < best.distanceM)) best = { cellId: d.cellId, distanceM: m };
  }
  return best;
}

const latest = (t: Ticket): string =>
  [t.openedAt, t.dispatchedAt, t.acceptedAt, t.resolvedAt, t.closedAt, t.escalatedAt, t.dismissal?.approvedAt]
    .filter((x): x is string => typeof x === 'string').sort().at(-1)!;

/** What happened, in the words a resident reads (zh-CN; the spec has one language per field). */
function statusNotes(t: Ticket): string {
  if (t.status === 'dismissed') return `已剔除：${t.dismissal?.reasonCategory ?? ''}`;
  if (t.status === 'resolved' || t.status === 'closed') return t.resolution?.note ? `已办结：${t.resolution.note}` : '已办结';
  if (t.status === 'reopened') return '二次办理中';
  if (t.status === 'accepted') return '网格员已接单';
  if (t.status === 'dispatched') return '已派单';
  return '已受理';
}

/** A ticket as a GeoReport v2 service request. */
export function toOpen311Request(t: Ticket, site: Site | undefined, positions: ReadonlyMap<string, LatLng>): Open311Request {
  const device = t.deviceId === undefined ? undefined : site?.devices.find((d) => d.id === t.deviceId);
  const pos = device?.location.lat !== undefined && device.location.lng !== undefined
    ? { lat: device.location.lat, lng: device.location.lng } : positions.get(t.cellId);
  const live = isActive(t.status);
  return {
    service_request_id: t.id,
    status: live ? 'open' : 'closed',
    status_notes: statusNotes(t),
    service_name: CATEGORY_LABEL[t.category]['zh-CN'],
    service_code: t.category,
    description: t.complaint?.text ?? t.title['zh-CN'],
    agency_responsible: site?.name ?? null,
    service_notice: t.origin === 'complaint' && t.linkedTicketIds.length > 0 ? `已关联主动发现工单 ${t.linkedTicketIds.join(', ')}` : null,
    requested_datetime: t.complaint?.reportedAt ?? t.openedAt,
    updated_datetime: latest(t),
    // The SLA's resolve deadline is when the street promised it (expected_datetime).
    expected_datetime: live ? t.resolveBy : null,
    address: t.locationLabel,
    address_id: t.cellId,
    zipcode: null,
    lat: pos?.lat ?? null,
    long: pos?.lng ?? null,
    media_url: t.resolution?.photoUrl ?? null,
  };
}
