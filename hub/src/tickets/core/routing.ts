import { CATEGORY_TEAM } from '@shaobing/schemas';
import type { Category, GridCell, GridLevel, Team, Worker } from '@shaobing/schemas';

/** Deepest sane grid (street › community › compound › unit, with some slack); guards cycles in a bad site file. */
const MAX_DEPTH = 16;

export interface GridIndex {
  cells: ReadonlyMap<string, GridCell>;
  /** Workers by the cell they are responsible for, in site-file order. */
  workersByCell: ReadonlyMap<string, readonly Worker[]>;
}

export function buildGridIndex(grid: readonly GridCell[], workers: readonly Worker[]): GridIndex {
  const cells = new Map<string, GridCell>();
  for (const c of grid) cells.set(c.id, c);
  const workersByCell = new Map<string, Worker[]>();
  for (const w of workers) {
    const list = workersByCell.get(w.cellId);
    if (list) list.push(w); else workersByCell.set(w.cellId, [w]);
  }
  return { cells, workersByCell };
}

/** The cell and its ancestors, nearest first (stops at unknown parents and cycles). */
export function ancestry(index: GridIndex, cellId: string): GridCell[] {
  const chain: GridCell[] = [];
  let cell = index.cells.get(cellId);
  while (cell !== undefined && chain.length < MAX_DEPTH && !chain.includes(cell)) {
    chain.push(cell);
    cell = cell.parentId === undefined ? undefined : index.cells.get(cell.parentId);
  }
  return chain;
}

/** The cell and every cell below it (a worker's 网格, a block on the plan, a drill group). */
export function cellsWithin(index: GridIndex, cellId: string): string[] {
  return [...index.cells.keys()].filter((id) => ancestry(index, id).some((c) => c.id === cellId));
}

/** The nearest cell of `level` at or above cellId (e.g. the 社区 a unit belongs to). */
export function ancestorAtLevel(index: GridIndex, cellId: string, level: GridLevel): GridCell | undefined {
  return ancestry(index, cellId).find((c) => c.level === level);
}

/**
 * Pick a worker of one cell: someone of the team first, then anyone (a grid worker covers
 * everything in their grid when no specialist exists); ties go to the lightest current load,
 * then to site-file order, so routing is deterministic.
 */
function pickAt(index: GridIndex, cellId: string, team: Team, load?: ReadonlyMap<string, number>): Worker | undefined {
  const list = index.workersByCell.get(cellId);
  if (list === undefined || list.length === 0) return undefined;
  let best: Worker | undefined;
  let bestScore = Infinity;
  for (const w of list) {
    // Team match dominates any load difference.
    const score = (w.teams.includes(team) ? 0 : 1e9) + (load?.get(w.id) ?? 0);
    if (score < bestScore) { best = w; bestScore = score; }
  }
  return best;
}

export interface RouteTarget { cellId: string; category: Category }

export interface Route {
  /** Grid worker to dispatch to; null when no cell up to the street has any worker. */
  assigneeId: string | null;
  team: Team;
  /** Escalation ladder: grid worker (= assignee), nearest worker at the community and at the street level. */
  ladder: { grid: string | null; community: string | null; street: string | null };
}

/**
 * DESIGN §6 routing: the device's cell gives the responsible worker; an unstaffed cell falls
 * back up the grid, cell by cell (team first at each cell). O(depth) with the prebuilt index.
 * Pass `load` (open tickets per worker) to spread work among several workers of one cell.
 */
export function routeTicket(target: RouteTarget, index: GridIndex, load?: ReadonlyMap<string, number>): Route {
  const team = CATEGORY_TEAM[target.category];
  const chain = ancestry(index, target.cellId);
  let assignee: Worker | undefined;
  for (const cell of chain) {
    assignee = pickAt(index, cell.id, team, load);
    if (assignee !== undefined) break;
  }
  const rung = (level: GridLevel): string | null => {
    const cell = chain.find((c) => c.level === level);
    return cell === undefined ? null : pickAt(index, cell.id, team, load)?.id ?? null;
  };
  const assigneeId = assignee?.id ?? null;
  return { assigneeId, team, ladder: { grid: assigneeId, community: rung('community'), street: rung('street') } };
}
