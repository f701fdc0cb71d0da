import { ACTIVE_TICKET_STATUSES, CATEGORY_TEAM, type GridCell, type Ticket, type Worker } from './contract.ts';

/** One line of the dispatch list: who, which team and cell, how much they carry now. */
export interface DispatchOption {
  id: string;
  name: string;
  teams: Worker['teams'];
  cellName: string;
  /** Live tickets assigned to them (dispatched, accepted, reopened). */
  load: number;
  /** Their team handles this category and their cell covers the ticket's place. */
  suggested: boolean;
}

const LIVE = new Set<string>(ACTIVE_TICKET_STATUSES.filter((s) => s !== 'open'));

/**
 * The dispatch list for a ticket: the suggested workers first (right team, covering cell),
 * then by current load, then by name, so a dispatcher sees at a glance who is free nearby.
 */
export function dispatchOptions(workers: readonly Pick<Worker, 'id' | 'name' | 'cellId' | 'teams'>[], cells: readonly GridCell[], tickets: Iterable<Ticket>, ticket: Pick<Ticket, 'category' | 'cellId'>): DispatchOption[] {
  const byId = new Map(cells.map((c) => [c.id, c]));
  const covering = new Set<string>();
  for (let id: string | undefined = ticket.cellId, hops = 0; id !== undefined && hops < 16; hops++) {
    covering.add(id);
    id = byId.get(id)?.parentId;
  }
  const load = new Map<string, number>();
  for (const t of tickets) if (t.assigneeId && LIVE.has(t.status)) load.set(t.assigneeId, (load.get(t.assigneeId) ?? 0) + 1);
  const team = CATEGORY_TEAM[ticket.category];
  return workers.map((w) => ({
    id: w.id, name: w.name, teams: w.teams, cellName: byId.get(w.cellId)?.name ?? w.cellId, load: load.get(w.id) ?? 0,
    suggested: w.teams.includes(team) && covering.has(w.cellId),
  })).sort((a, b) => Number(b.suggested) - Number(a.suggested) || a.load - b.load || a.name.localeCompare(b.name, 'zh-CN'));
}
