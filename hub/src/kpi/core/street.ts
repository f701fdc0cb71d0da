import type { GridCell, KpiDimension, KpiDrillName, KpiFigures, KpiGroupRow, StreetKpis } from '@shaobing/schemas';
import { KPI_DIMENSIONS } from '@shaobing/schemas';
import { CATEGORY_LABEL } from '../../tickets/core/complaint.ts';
import { ancestry, type GridIndex } from '../../tickets/core/routing.ts';
import { add, figuresOf, newAcc, type Acc, type Period } from './accumulate.ts';
import { isKpiCase, judge, type KpiTicket } from './definitions.ts';

/** What the street figures need to know of a site: its name and grid (cells, workers). */
export interface KpiSite { name: string; nameEn?: string; index: GridIndex }

export interface StreetResult {
  report: StreetKpis;
  /** The ticket ids behind one figure of one group ('total' = the whole scope). */
  drill(dimension: KpiDimension | 'total', id: string, figure: KpiDrillName): string[] | null;
}

interface Group { acc: Acc; name: string; nameEn?: string; population: number | null }

/** Residents per cell subtree: a cell's own figure, else the sum of its children's (null if none anywhere). */
function populations(index: GridIndex): (cellId: string) => number | null {
  const children = new Map<string, GridCell[]>();
  for (const c of index.cells.values()) {
    if (c.parentId === undefined) continue;
    const list = children.get(c.parentId);
    if (list) list.push(c); else children.set(c.parentId, [c]);
  }
  const memo = new Map<string, number | null>();
  const pop = (id: string, depth: number): number | null => {
    if (memo.has(id)) return memo.get(id)!;
    const cell = index.cells.get(id);
    let p: number | null = cell?.population ?? null;
    if (p === null && depth < 16) {
      for (const ch of children.get(id) ?? []) {
        const q = pop(ch.id, depth + 1);
        if (q !== null) p = (p ?? 0) + q;
      }
    }
    memo.set(id, p);
    return p;
  };
  return (id) => pop(id, 0);
}

const sumPop = (xs: ReadonlyArray<number | null>): number | null =>
  xs.reduce<number | null>((s, x) => (x === null ? s : (s ?? 0) + x), null);

/** null (nothing to judge) sorts after any real rate, including 0 %. */
const desc = (x: number | null, y: number | null): number => (y ?? -1) - (x ?? -1);
const order = (a: KpiFigures, b: KpiFigures): number =>
  desc(a.resolutionRate.value, b.resolutionRate.value)
  || desc(a.responseRate.value, b.responseRate.value)
  || desc(a.satisfactionRate.value, b.satisfactionRate.value)
  || a.overdue - b.overdue
  || b.tickets - a.tickets;

/** Competition ranking (1, 2, 2, 4) by 解决率, 响应率, 满意率, fewer overdue, more tickets. */
export function rankGroups(rows: ReadonlyArray<Omit<KpiGroupRow, 'rank'>>): KpiGroupRow[] {
  const sorted = rows.slice().sort((a, b) => order(a.figures, b.figures) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out: KpiGroupRow[] = [];
  sorted.forEach((r, i) => {
    const prev = out[i - 1];
    out.push({ ...r, rank: prev !== undefined && order(prev.figures, r.figures) === 0 ? prev.rank : i + 1 });
  });
  return out;
}

/**
 * Every street figure (DESIGN §7) for a period [from, to) at `now`, for the whole scope and per
 * site, 社区, 楼院, grid worker (网格员绩效), category and property company (物业公司), each with
 * the ticket ids behind it. Pure; pass the same tickets as to computeKpis.
 * Ids of cell groups are cell ids, prefixed `siteId/` when several sites are summed.
 */
export function computeStreetKpis(
  tickets: readonly KpiTicket[], period: Period, now: number, sites: ReadonlyMap<string, KpiSite>,
): StreetResult {
  const multi = sites.size > 1;
  const total = newAcc();
  const groups = new Map<KpiDimension, Map<string, Group>>(KPI_DIMENSIONS.map((d) => [d, new Map()]));
  const pops = new Map<string, (cellId: string) => number | null>();
  for (const [id, s] of sites) pops.set(id, populations(s.index));
  const sitePop = (siteId: string): number | null => {
    const s = sites.get(siteId);
    const pop = pops.get(siteId);
    if (s === undefined || pop === undefined) return null;
    return sumPop([...s.index.cells.values()].filter((c) => c.parentId === undefined || !s.index.cells.has(c.parentId)).map((c) => pop(c.id)));
  };
  const allPop = sumPop([...sites.keys()].map(sitePop));
  const group = (d: KpiDimension, id: string, make: () => Omit<Group, 'acc'>): Acc => {
    const m = groups.get(d)!;
    let g = m.get(id);
    if (g === undefined) { g = { acc: newAcc(), ...make() }; m.set(id, g); }
    return g.acc;
  };
  const cellKey = (siteId: string, cellId: string): string => (multi ? `${siteId}/${cellId}` : cellId);

  for (const t of tickets) {
    if (!isKpiCase(t)) continue;
    const v = judge(t, now);
    add(total, t, period, now, v);
    const site = sites.get(t.siteId);
    add(group('site', t.siteId, () => ({ name: site?.name ?? t.siteId, ...(site?.nameEn ? { nameEn: site.nameEn } : {}), population: sitePop(t.siteId) })), t, period, now, v);
    const cat = CATEGORY_LABEL[t.category];
    add(group('category', t.category, () => ({ name: cat['zh-CN'], nameEn: cat.en, population: allPop })), t, period, now, v);
    if (site === undefined) continue;
    const pop = pops.get(t.siteId)!;
    const chain = ancestry(site.index, t.cellId);
    for (const level of ['community', 'compound'] as const) {
      const cell = chain.find((c) => c.level === level);
      if (cell !== undefined) {
        add(group(level, cellKey(t.siteId, cell.id), () => ({ name: cell.name, ...(cell.nameEn ? { nameEn: cell.nameEn } : {}), population: pop(cell.id) })), t, period, now, v);
      }
    }
    const managed = chain.find((c) => c.propertyCompany !== undefined);
    if (managed !== undefined) {
      const company = managed.propertyCompany!;
      add(group('propertyCompany', company, () => ({
        name: company,
        // Residents of every top-most cell the company manages, across the sites given.
        population: sumPop([...sites].flatMap(([sid, s]) => [...s.index.cells.values()]
          .filter((c) => c.propertyCompany === company && !ancestry(s.index, c.id).slice(1).some((a) => a.propertyCompany === company))
          .map((c) => pops.get(sid)!(c.id)))),
      })), t, period, now, v);
    }
    if (t.assigneeId !== undefined) {
      const id = t.assigneeId;
      add(group('worker', id, () => {
        const worker = [...site.index.workersByCell.values()].flat().find((w) => w.id === id);
        // A grid worker's 万人诉求率 is over the residents of the cell they answer for.
        return { name: worker?.name ?? id, population: worker ? pop(worker.cellId) : null };
      }), t, period, now, v);
    }
  }

  const rows = (d: KpiDimension): KpiGroupRow[] => rankGroups([...groups.get(d)!].map(([id, g]) => ({
    id, name: g.name, ...(g.nameEn !== undefined ? { nameEn: g.nameEn } : {}), figures: figuresOf(g.acc, g.population),
  })));
  const only = sites.size === 1 ? [...sites.keys()][0] : undefined;
  const report: StreetKpis = {
    ...(only !== undefined ? { siteId: only } : {}),
    period: { from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString() },
    generatedAt: new Date(now).toISOString(),
    total: figuresOf(total, allPop),
    groups: {
      site: rows('site'), community: rows('community'), compound: rows('compound'),
      worker: rows('worker'), category: rows('category'), propertyCompany: rows('propertyCompany'),
    },
  };
  const drillOf = (acc: Acc | undefined, figure: KpiDrillName): string[] | null => (acc === undefined ? null : acc.drill[figure].slice());
  return {
    report,
    drill: (dimension, id, figure) => drillOf(dimension === 'total' ? total : groups.get(dimension)?.get(id)?.acc, figure),
  };
}
