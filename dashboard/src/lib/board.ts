import { ACTIVE_TICKET_STATUSES, SEVERITIES, type Severity, type Ticket, type TicketStatus } from './contract.ts';
import { deadlineOf } from './format.ts';

export const BOARD_FILTERS = ['active', 'open', 'dispatched', 'accepted', 'done'] as const;
export type BoardFilter = (typeof BOARD_FILTERS)[number];

const FILTER_STATUSES: Record<BoardFilter, readonly TicketStatus[]> = {
  active: ACTIVE_TICKET_STATUSES,
  open: ['open', 'reopened'],
  dispatched: ['dispatched'],
  accepted: ['accepted'],
  done: ['resolved', 'closed', 'dismissed'],
};

const SEVERITY_RANK: Record<Severity, number> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;
const ACTIVE = new Set<TicketStatus>(ACTIVE_TICKET_STATUSES);

export function isActive(t: Pick<Ticket, 'status'>): boolean {
  return ACTIVE.has(t.status);
}

export function matchesFilter(t: Pick<Ticket, 'status'>, f: BoardFilter): boolean {
  return FILTER_STATUSES[f].includes(t.status);
}

/**
 * The control room's order: overdue first, then by severity (critical first), then the
 * nearest deadline, then the oldest. Finished tickets go last, newest resolution first.
 */
export function compareTickets(a: Ticket, b: Ticket, nowMs: number): number {
  const da = deadlineOf(a);
  const db = deadlineOf(b);
  const doneA = da.phase === 'none';
  const doneB = db.phase === 'none';
  if (doneA !== doneB) return doneA ? 1 : -1;
  if (doneA && doneB) return (Date.parse(b.resolvedAt ?? b.openedAt) || 0) - (Date.parse(a.resolvedAt ?? a.openedAt) || 0) || cmp(a.id, b.id);
  const dueA = da.phase === 'none' ? 0 : da.dueMs;
  const dueB = db.phase === 'none' ? 0 : db.dueMs;
  const overA = nowMs > dueA;
  const overB = nowMs > dueB;
  if (overA !== overB) return overA ? -1 : 1;
  const sev = SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
  if (sev !== 0) return sev;
  if (dueA !== dueB) return dueA - dueB;
  return Date.parse(a.openedAt) - Date.parse(b.openedAt) || cmp(a.id, b.id);
}

export function sortBoard(tickets: Iterable<Ticket>, filter: BoardFilter, nowMs: number): Ticket[] {
  const out: Ticket[] = [];
  for (const t of tickets) if (matchesFilter(t, filter)) out.push(t);
  return out.sort((a, b) => compareTickets(a, b, nowMs));
}

export function countByFilter(tickets: Iterable<Ticket>): Record<BoardFilter, number> {
  const c = Object.fromEntries(BOARD_FILTERS.map((f) => [f, 0])) as Record<BoardFilter, number>;
  for (const t of tickets) for (const f of BOARD_FILTERS) if (matchesFilter(t, f)) c[f]++;
  return c;
}

/** The slice of rows a virtual list must render for a scroll position. */
export function visibleRange(scrollTop: number, viewportPx: number, rowPx: number, total: number, overscan = 6): { start: number; end: number } {
  const start = Math.max(0, Math.floor(scrollTop / rowPx) - overscan);
  const end = Math.min(total, Math.ceil((scrollTop + viewportPx) / rowPx) + overscan);
  return { start, end: Math.max(start, end) };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
