import type { GridLevel, PlanCell, PlanDevice } from './contract.ts';

/*
 * The site plan of the 高频点位 screen, drawn offline (no map tiles): blocks for 社区 / 楼院 /
 * 单元 and a point per device. Positions come from the devices' coordinates (an
 * equirectangular projection fitted to the canvas, each block the box around its located
 * devices); devices without coordinates stand in a row along the bottom edge ('partial': one
 * device without coordinates must not cost the street office its map). With no coordinates at
 * all, the plan is a deterministic schematic built from the grid tree (children on a grid inside
 * their parent, devices inside their cell). The screen says which. Pure.
 */

export interface Point { x: number; y: number }
export interface Rect { x: number; y: number; w: number; h: number }
export interface PlanBlock extends Rect { id: string; level: GridLevel; name: string; nameEn?: string }

export interface SitePlan {
  width: number;
  height: number;
  mode: 'coordinates' | 'partial' | 'schematic';
  /** Devices without coordinates (in the bottom row of a partial plan; all of a schematic). */
  unlocated: number;
  /** Where the unlocated devices' row runs (partial plans), for its caption. */
  unlocatedRow?: Rect;
  /** Community, compound and unit blocks, outer levels first (the drawing order). */
  blocks: PlanBlock[];
  devices: Map<string, Point>;
  /** Where a cell's own spot sits: its block's centre (or its parent's, when it has no block). */
  cells: Map<string, Point>;
}

const LEVEL_ORDER: Record<GridLevel, number> = { street: 0, community: 1, compound: 2, unit: 3 };
const MARGIN = 36;
/** Height kept free at the bottom of a partial plan for the unlocated devices' row. */
const ROW = 28;
/** Padding of a block around its devices (coordinates mode), by level. */
const PAD: Record<GridLevel, number> = { street: 0, community: 22, compound: 12, unit: 5 };

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function layoutSitePlan(cells: readonly PlanCell[], devices: readonly PlanDevice[], size: { width: number; height: number } = { width: 1000, height: 640 }): SitePlan {
  const isLocated = (d: PlanDevice) => d.lat !== undefined && d.lng !== undefined;
  const located = devices.filter(isLocated);
  const unlocated = devices.length - located.length;
  const mode = located.length === 0 ? 'schematic' : unlocated === 0 ? 'coordinates' : 'partial';
  const plan: SitePlan = { width: size.width, height: size.height, mode, unlocated, blocks: [], devices: new Map(), cells: new Map() };
  if (mode === 'schematic') schematic(plan, cells, devices);
  else {
    fromCoordinates(plan, cells, located, mode === 'partial' ? ROW : 0);
    if (mode === 'partial') unlocatedRow(plan, [...devices].filter((d) => !isLocated(d)).sort(byId));
  }
  plan.blocks.sort((a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || byId(a, b));
  for (const b of plan.blocks) plan.cells.set(b.id, { x: b.x + b.w / 2, y: b.y + b.h / 2 });
  // A cell without a block of its own (a street, a unit without devices) sits at its parent's.
  const parent = new Map(cells.map((c) => [c.id, c.parentId]));
  const centre = { x: size.width / 2, y: size.height / 2 };
  for (const c of cells) {
    let p: string | undefined = c.id;
    for (let i = 0; p !== undefined && !plan.cells.has(p) && i < 16; i++) p = parent.get(p);
    if (!plan.cells.has(c.id)) plan.cells.set(c.id, (p !== undefined ? plan.cells.get(p) : undefined) ?? centre);
  }
  return plan;
}

/** The cells at or below each cell (itself included). */
function subtrees(cells: readonly PlanCell[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>(cells.map((c) => [c.id, new Set([c.id])]));
  const parent = new Map(cells.map((c) => [c.id, c.parentId]));
  for (const c of cells) {
    let p = c.parentId;
    for (let i = 0; p !== undefined && i < 16; i++) { out.get(p)?.add(c.id); p = parent.get(p); }
  }
  return out;
}

function fromCoordinates(plan: SitePlan, cells: readonly PlanCell[], devices: readonly PlanDevice[], reserve: number): void {
  const lat0 = devices.reduce((s, d) => s + d.lat!, 0) / devices.length;
  const k = Math.cos((lat0 * Math.PI) / 180);
  const raw = devices.map((d) => ({ id: d.id, x: d.lng! * k, y: -d.lat! }));
  const minX = Math.min(...raw.map((p) => p.x)), maxX = Math.max(...raw.map((p) => p.x));
  const minY = Math.min(...raw.map((p) => p.y)), maxY = Math.max(...raw.map((p) => p.y));
  const inner = { w: plan.width - 2 * MARGIN, h: plan.height - 2 * MARGIN - reserve };
  const scale = Math.min(inner.w / Math.max(maxX - minX, 1e-9), inner.h / Math.max(maxY - minY, 1e-9));
  const ox = MARGIN + (inner.w - (maxX - minX) * scale) / 2;
  const oy = MARGIN + (inner.h - (maxY - minY) * scale) / 2;
  for (const p of raw) plan.devices.set(p.id, { x: ox + (p.x - minX) * scale, y: oy + (p.y - minY) * scale });
  const tree = subtrees(cells);
  const byCell = groupBy(devices, (d) => d.cellId, (d) => plan.devices.get(d.id)!);
  for (const c of cells) {
    if (c.level === 'street') continue;
    const pts = [...tree.get(c.id)!].flatMap((id) => byCell.get(id) ?? []);
    if (pts.length === 0) continue;
    const pad = PAD[c.level];
    const x = Math.min(...pts.map((p) => p.x)) - pad, y = Math.min(...pts.map((p) => p.y)) - pad;
    plan.blocks.push({ id: c.id, level: c.level, name: c.name, ...(c.nameEn ? { nameEn: c.nameEn } : {}), x, y, w: Math.max(...pts.map((p) => p.x)) + pad - x, h: Math.max(...pts.map((p) => p.y)) + pad - y });
  }
}

function groupBy<T, V>(items: readonly T[], key: (x: T) => string, value: (x: T) => V): Map<string, V[]> {
  const out = new Map<string, V[]>();
  for (const x of items) {
    const k = key(x);
    const list = out.get(k);
    if (list) list.push(value(x)); else out.set(k, [value(x)]);
  }
  return out;
}

/** The devices without coordinates, evenly along the bottom edge, below the projected plan. */
function unlocatedRow(plan: SitePlan, devices: readonly PlanDevice[]): void {
  const row = { x: MARGIN, y: plan.height - MARGIN / 2 - ROW / 2, w: plan.width - 2 * MARGIN, h: ROW / 2 };
  plan.unlocatedRow = row;
  devices.forEach((d, i) => plan.devices.set(d.id, { x: row.x + ((i + 0.5) * row.w) / devices.length, y: row.y + row.h / 2 }));
}

/** `n` slots on a near-square grid filling `r` (wider rects get more columns), with a gap. */
function gridRects(r: Rect, n: number, gap: number): Rect[] {
  if (n === 0) return [];
  const cols = Math.max(1, Math.min(n, Math.round(Math.sqrt((n * r.w) / Math.max(r.h, 1)))));
  const rows = Math.ceil(n / cols);
  const w = (r.w - gap * (cols - 1)) / cols;
  const h = (r.h - gap * (rows - 1)) / rows;
  return Array.from({ length: n }, (_, i) => ({ x: r.x + (i % cols) * (w + gap), y: r.y + Math.floor(i / cols) * (h + gap), w, h }));
}

function schematic(plan: SitePlan, cells: readonly PlanCell[], devices: readonly PlanDevice[]): void {
  const ids = new Set(cells.map((c) => c.id));
  const sorted = [...cells].sort(byId);
  const children = groupBy(sorted.filter((c) => c.parentId !== undefined && ids.has(c.parentId)), (c) => c.parentId!, (c) => c);
  const roots = sorted.filter((c) => c.parentId === undefined || !ids.has(c.parentId));
  const own = groupBy([...devices].sort(byId), (d) => d.cellId, (d) => d);
  const place = (c: PlanCell, r: Rect): void => {
    if (c.level !== 'street') plan.blocks.push({ id: c.id, level: c.level, name: c.name, ...(c.nameEn ? { nameEn: c.nameEn } : {}), ...r });
    const kids = children.get(c.id) ?? [];
    const mine = own.get(c.id) ?? [];
    const label = c.level === 'street' || c.level === 'unit' ? 0 : Math.min(16, r.h * 0.15);
    // A cell's own devices (a compound's gates, bins, chargers) in a band along its bottom.
    const band = kids.length === 0 ? r.h - label : mine.length > 0 ? Math.min(18, r.h * 0.2) : 0;
    const dots = gridRects({ x: r.x + 3, y: r.y + r.h - band, w: r.w - 6, h: band - 3 }, mine.length, 1);
    mine.forEach((d, i) => { const s = dots[i]!; plan.devices.set(d.id, { x: s.x + s.w / 2, y: s.y + s.h / 2 }); });
    const pad = c.level === 'street' ? 0 : 4;
    const slots = gridRects({ x: r.x + pad, y: r.y + label + pad, w: r.w - 2 * pad, h: r.h - label - band - 2 * pad }, kids.length, c.level === 'street' ? 14 : 4);
    kids.forEach((k, i) => place(k, slots[i]!));
  };
  const top = gridRects({ x: MARGIN / 2, y: MARGIN / 2, w: plan.width - MARGIN, h: plan.height - MARGIN }, roots.length, 14);
  roots.forEach((c, i) => place(c, top[i]!));
  // Devices whose cell is not in the grid: a row along the top edge, so none is lost.
  const stray = devices.filter((d) => !plan.devices.has(d.id));
  stray.forEach((d, i) => plan.devices.set(d.id, { x: MARGIN / 2 + ((i + 0.5) * (plan.width - MARGIN)) / stray.length, y: MARGIN / 4 }));
}

/** Hotspot circle radius: area grows with the count; the hottest is the largest. */
export function spotRadius(count: number, max: number): number {
  return 5 + 17 * Math.sqrt(count / Math.max(max, 1));
}

/** Heat colour, pale amber (few) to deep red (the most). */
export function heatColour(count: number, max: number): string {
  const t = Math.min(1, Math.max(0, count / Math.max(max, 1)));
  const hue = 45 - 45 * t;
  return `hsl(${hue.toFixed(0)} 90% ${(58 - 14 * t).toFixed(0)}%)`;
}
