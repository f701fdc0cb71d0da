import type { Ticket, Worker } from '@shaobing/schemas';
import { cellsWithin, type GridIndex } from './routing.ts';
import type { WorkerScope } from './types.ts';

/** A worker's scope: their cell and every cell below it in the grid (their 网格). */
export function workerScope(siteId: string, worker: Worker, index: GridIndex): WorkerScope {
  return { workerId: worker.id, siteId, teams: worker.teams, cellIds: new Set([worker.cellId, ...cellsWithin(index, worker.cellId)]) };
}

/** Statuses in which an unassigned team ticket waits for someone to take it. */
const CLAIMABLE = new Set<Ticket['status']>(['open', 'dispatched', 'reopened']);

/**
 * An unassigned live ticket they may take (接单/抢单): offered to them by name, or — when not
 * offered to anyone in particular — of one of their teams in their grid.
 */
export function workerMayClaim(t: Ticket, s: WorkerScope): boolean {
  if (t.assigneeId !== undefined || !CLAIMABLE.has(t.status) || t.siteId !== s.siteId) return false;
  if (t.offeredTo !== undefined && t.offeredTo.length > 0) return t.offeredTo.includes(s.workerId);
  return s.teams.includes(t.team) && s.cellIds.has(t.cellId);
}

/**
 * What a worker sees (DESIGN §9): the tickets assigned to them, and their teams' unassigned
 * live tickets in their cells; nothing else of the board (nor alerts still under review).
 */
export function workerSees(t: Ticket, s: WorkerScope): boolean {
  // An alert under review (人工核准) is nobody's job yet, whoever routing would give it to.
  if (t.status === 'pending_review') return false;
  return (t.siteId === s.siteId && t.assigneeId === s.workerId) || workerMayClaim(t, s);
}
