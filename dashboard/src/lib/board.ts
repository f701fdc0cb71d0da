import { ACTIVE_TICKET_STATUSES, SEVERITIES, type Severity, type Ticket, type TicketStatus } from './contract.ts';
import { deadlineOf } from './format.ts';

export const BOARD_FILTERS = ['active', 'review', 'open', 'dispatched', 'accepted', 'done'] as const;
export type BoardFilter = (typeof BOARD_FILTERS)[number];

const FILTER_STATUSES: Record<BoardFilter, readonly TicketStatus[]> = {
  active: ACTIVE_TICKET_STATUSES,
  // 人工核准: AI alerts waiting for the control room (not active: no SLA clock yet).
  review: ['pending_review'],
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

interface SortKey { done: boolean; due: number; severity: number; opened: number; finished: number }
// Tickets are immutable values (an update is a new object), so their parsed times can be kept
// per object: sorting 1,000 tickets every second then costs no date parsing.
const keys = new WeakMap<Ticket, SortKey>();
function keyOf(t: Ticket): SortKey {
  let k = keys.get(t);
  if (!k) {
    const d = deadlineOf(t);
    k = {
      done: d.phase === 'none', due: d.phase === 'none' ? 0 : d.dueMs, severity: SEVERITY_RANK[t.severity],
      opened: Date.parse(t.openedAt), finished: Date.parse(t.resolvedAt ?? t.openedAt) || 0,
    };
    keys.set(t, k);
  }
  return k;
}

/**
 * The control room's order: overdue first, then by severity (critical first), then the
 * nearest deadline, then the oldest. Finished tickets go last, newest resolution first.
 */
export function compareTickets(a: Ticket, b: Ticket, nowMs: number): number {
  const ka = keyOf(a);
  const kb = keyOf(b);
  if (ka.done !== kb.done) return ka.done ? 1 : -1;
  if (ka.done) return kb.finished - ka.finished || cmp(a.id, b.id);
  const overA = nowMs > ka.due;
  const overB = nowMs > kb.due;
  if (overA !== overB) return overA ? -1 : 1;
  if (ka.severity !== kb.severity) return ka.severity - kb.severity;
  if (ka.due !== kb.due) return ka.due - kb.due;
  return ka.opened - kb.opened || cmp(a.id, b.id);
}

/** The board's severity chip: every severity, or one. */
export type SeverityFilter = Severity | 'all';

export function sortBoard(tickets: Iterable<Ticket>, filter: BoardFilter, nowMs: number, query = '', severity: SeverityFilter = 'all'): Ticket[] {
  const out: Ticket[] = [];
  const q = query.trim().toLowerCase();
  for (const t of tickets) {
    if (matchesFilter(t, filter) && (severity === 'all' || t.severity === severity) && (!q || matchesQuery(t, q))) out.push(t);
  }
  return out.sort((a, b) => compareTickets(a, b, nowMs));
}

/** Free-text search of the board: id, device, place, title in either language. */
export function matchesQuery(t: Ticket, lowerQuery: string): boolean {
  return [t.id, t.deviceId ?? '', t.locationLabel, t.title['zh-CN'], t.title.en, t.cellId]
    .some((s) => s.toLowerCase().includes(lowerQuery));
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
