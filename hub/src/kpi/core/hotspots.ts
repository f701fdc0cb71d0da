import { CATEGORIES, TICKET_STATUSES, type Category, type Hotspot, type HotspotCell, type HotspotTicketQuery, type PlanDevice } from '@shaobing/schemas';
import { ancestry, type GridIndex } from '../../tickets/core/routing.ts';
import type { Period, TicketFact } from './insights.ts';

// 高频点位 (DESIGN §7): where the tickets of a window come from, per device and per grid cell,
// over plain ticket facts (dismissed tickets are left out by the shell). Pure.

export interface HotspotRanking { total: number; spots: Hotspot[]; cells: HotspotCell[] }

/** Every status but dismissed: the tickets the facts hold, as a ticket-list filter. */
const COUNTED_STATUSES = TICKET_STATUSES.filter((s) => s !== 'dismissed');

function tally(counts: Map<Category, number>, c: Category): void {
  counts.set(c, (counts.get(c) ?? 0) + 1);
}

function byCategory(counts: ReadonlyMap<Category, number>): Array<{ category: Category; count: number }> {
  return [...counts].map(([category, count]) => ({ category, count }))
    .sort((a, b) => b.count - a.count || CATEGORIES.indexOf(a.category) - CATEGORIES.indexOf(b.category));
}

/**
 * Ranks the spots of a window: a ticket with a device counts at that device, one without at its
 * grid cell, so every ticket counts once. `category` narrows what is counted and ranked (the
 * per-category breakdown always covers the whole window). Hottest first; ties by name, then id.
 * Each spot carries the GET /api/tickets query listing exactly its tickets. Cells get the
 * tickets at or below them (every level), for the heat of a 楼院 or 单元.
 */
export function rankHotspots(
  facts: readonly TicketFact[], siteId: string, window: Period, index: GridIndex, devices: ReadonlyMap<string, PlanDevice>,
  opts: { category?: Category; limit?: number } = {},
): HotspotRanking {
  const spots = new Map<string, { kind: Hotspot['kind']; id: string; cellId: string; count: number; all: Map<Category, number> }>();
  const cells = new Map<string, { count: number; all: Map<Category, number> }>();
  let total = 0;
  for (const f of facts) {
    if (f.openedAt < window.from || f.openedAt >= window.to) continue;
    const counted = opts.category === undefined || f.category === opts.category;
    const kind = f.deviceId === undefined ? 'cell' : 'device';
    const id = f.deviceId ?? f.cellId;
    const key = `${kind}\u0000${id}`;
    let s = spots.get(key);
    if (s === undefined) { s = { kind, id, cellId: f.cellId, count: 0, all: new Map() }; spots.set(key, s); }
    tally(s.all, f.category);
    if (counted) { s.count++; total++; }
    for (const cell of ancestry(index, f.cellId)) {
      let c = cells.get(cell.id);
      if (c === undefined) { c = { count: 0, all: new Map() }; cells.set(cell.id, c); }
      tally(c.all, f.category);
      if (counted) c.count++;
    }
  }
  // The GET /api/tickets query of a spot or block: what it counts, and no other ticket.
  const query = (where: Pick<HotspotTicketQuery, 'deviceId' | 'cellId' | 'within' | 'hasDevice'>): HotspotTicketQuery => ({
    siteId, ...where, ...(opts.category !== undefined ? { category: opts.category } : {}),
    status: [...COUNTED_STATUSES], from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString(),
  });
  const ranked: Hotspot[] = [];
  for (const s of spots.values()) {
    if (s.count === 0) continue;
    const device = s.kind === 'device' ? devices.get(s.id) : undefined;
    const cell = index.cells.get(s.cellId);
    const tickets = query(s.kind === 'device' ? { deviceId: s.id } : { cellId: s.id, hasDevice: false });
    ranked.push({
      rank: 0, kind: s.kind, id: s.id, cellId: device?.cellId ?? s.cellId,
      name: device?.label ?? (s.kind === 'cell' ? cell?.name : undefined) ?? s.id,
      ...(device !== undefined ? { family: device.family } : {}),
      ...(device?.lat !== undefined && device.lng !== undefined ? { lat: device.lat, lng: device.lng } : {}),
      count: s.count, byCategory: byCategory(s.all), tickets,
    });
  }
  ranked.sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const top = ranked.slice(0, opts.limit ?? 50);
  top.forEach((s, i) => { s.rank = i + 1; });
  const cellRows: HotspotCell[] = [];
  for (const [cellId, c] of cells) {
    const cell = index.cells.get(cellId);
    if (c.count === 0 || cell === undefined) continue;
    cellRows.push({ cellId, level: cell.level, name: cell.name, count: c.count, byCategory: byCategory(c.all), tickets: query({ within: cellId }) });
  }
  cellRows.sort((a, b) => b.count - a.count || (a.cellId < b.cellId ? -1 : 1));
  return { total, spots: top, cells: cellRows };
}
