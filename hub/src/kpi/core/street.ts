import type { Category, GridCell, KpiDimension, KpiDrillName, KpiFigures, KpiGroupRow, StreetKpis } from '@shaobing/schemas';
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
 * The groups of the street figures over `sites`, each with its name and residents: the whole
 * scope and per site, 社区, 楼院, grid worker, category and property company. Whatever counts
 * (a ticket, or a stored day's leaf of one cell × category × assignee) is added to every group
 * it belongs to (accsOf); report() ranks them. Ids of cell groups are cell ids, prefixed
 * `siteId/` when several sites are summed.
 */
export class StreetGroups {
  readonly total = newAcc();
  private readonly groups = new Map<KpiDimension, Map<string, Group>>(KPI_DIMENSIONS.map((d) => [d, new Map()]));
  private readonly pops = new Map<string, (cellId: string) => number | null>();
  private readonly allPop: number | null;
  private readonly multi: boolean;
  /** accsOf per site × cell × category × assignee: the grid walk once per combination, not per ticket. */
  private readonly memo = new Map<string, Acc[]>();

  constructor(private readonly sites: ReadonlyMap<string, KpiSite>) {
    this.multi = sites.size > 1;
    for (const [id, s] of sites) this.pops.set(id, populations(s.index));
    this.allPop = sumPop([...sites.keys()].map((id) => this.sitePop(id)));
  }

  private sitePop(siteId: string): number | null {
    const s = this.sites.get(siteId);
    const pop = this.pops.get(siteId);
    if (s === undefined || pop === undefined) return null;
    return sumPop([...s.index.cells.values()].filter((c) => c.parentId === undefined || !s.index.cells.has(c.parentId)).map((c) => pop(c.id)));
  }

  private group(d: KpiDimension, id: string, make: () => Omit<Group, 'acc'>): Acc {
    const m = this.groups.get(d)!;
    let g = m.get(id);
    if (g === undefined) { g = { acc: newAcc(), ...make() }; m.set(id, g); }
    return g.acc;
  }

  /** The accumulators of every group a ticket of this site, cell, category and assignee counts in, the scope's first. */
  accsOf(siteId: string, cellId: string, category: Category, assigneeId: string | undefined): Acc[] {
    const key = `${siteId}\u0000${cellId}\u0000${category}\u0000${assigneeId ?? ''}`;
    let out = this.memo.get(key);
    if (out === undefined) {
      out = this.groupsOf(siteId, cellId, category, assigneeId);
      this.memo.set(key, out);
    }
    return out;
  }

  private groupsOf(siteId: string, cellId: string, category: Category, assigneeId: string | undefined): Acc[] {
    const { sites } = this;
    const out = [this.total];
    const site = sites.get(siteId);
    out.push(this.group('site', siteId, () => ({ name: site?.name ?? siteId, ...(site?.nameEn ? { nameEn: site.nameEn } : {}), population: this.sitePop(siteId) })));
    const cat = CATEGORY_LABEL[category];
    out.push(this.group('category', category, () => ({ name: cat['zh-CN'], nameEn: cat.en, population: this.allPop })));
    if (site === undefined) return out;
    const pop = this.pops.get(siteId)!;
    const chain = ancestry(site.index, cellId);
    for (const level of ['community', 'compound'] as const) {
      const cell = chain.find((c) => c.level === level);
      if (cell !== undefined) {
        out.push(this.group(level, this.multi ? `${siteId}/${cell.id}` : cell.id, () => ({ name: cell.name, ...(cell.nameEn ? { nameEn: cell.nameEn } : {}), population: pop(cell.id) })));
      }
    }
    const managed = chain.find((c) => c.propertyCompany !== undefined);
    if (managed !== undefined) {
      const company = managed.propertyCompany!;
      out.push(this.group('propertyCompany', company, () => ({
        name: company,
        // Residents of every top-most cell the company manages, across the sites given.
        population: sumPop([...sites].flatMap(([sid, s]) => [...s.index.cells.values()]
          .filter((c) => c.propertyCompany === company && !ancestry(s.index, c.id).slice(1).some((a) => a.propertyCompany === company))
          .map((c) => this.pops.get(sid)!(c.id)))),
      })));
    }
    if (assigneeId !== undefined) {
      const id = assigneeId;
      out.push(this.group('worker', id, () => {
        const worker = [...site.index.workersByCell.values()].flat().find((w) => w.id === id);
        // A grid worker's 万人诉求率 is over the residents of the cell they answer for.
        return { name: worker?.name ?? id, population: worker ? pop(worker.cellId) : null };
      }));
    }
    return out;
  }

  /** One group's accumulator ('total' = the whole scope); undefined when nothing counted in it. */
  acc(dimension: KpiDimension | 'total', id: string): Acc | undefined {
    return dimension === 'total' ? this.total : this.groups.get(dimension)?.get(id)?.acc;
  }

  report(period: Period, now: number): StreetKpis {
    const rows = (d: KpiDimension): KpiGroupRow[] => rankGroups([...this.groups.get(d)!].map(([id, g]) => ({
      id, name: g.name, ...(g.nameEn !== undefined ? { nameEn: g.nameEn } : {}), figures: figuresOf(g.acc, g.population),
    })));
    const only = this.sites.size === 1 ? [...this.sites.keys()][0] : undefined;
    return {
      ...(only !== undefined ? { siteId: only } : {}),
      period: { from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString() },
      generatedAt: new Date(now).toISOString(),
      total: figuresOf(this.total, this.allPop),
      groups: {
        site: rows('site'), community: rows('community'), compound: rows('compound'),
        worker: rows('worker'), category: rows('category'), propertyCompany: rows('propertyCompany'),
      },
    };
  }
}

/**
 * Every street figure (DESIGN §7) for a period [from, to) at `now`, for the whole scope and per
 * site, 社区, 楼院, grid worker (网格员绩效), category and property company (物业公司), each with
 * the ticket ids behind it. Pure; pass the same tickets as to computeKpis.
 */
export function computeStreetKpis(
  tickets: readonly KpiTicket[], period: Period, now: number, sites: ReadonlyMap<string, KpiSite>,
): StreetResult {
  const g = new StreetGroups(sites);
  for (const t of tickets) {
    if (!isKpiCase(t)) continue;
    const v = judge(t, now);
    for (const acc of g.accsOf(t.siteId, t.cellId, t.category, t.assigneeId)) add(acc, t, period, now, v);
  }
  return {
    report: g.report(period, now),
    drill: (dimension, id, figure) => g.acc(dimension, id)?.drill[figure].slice() ?? null,
  };
}
