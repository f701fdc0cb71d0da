import type { Ticket } from '../lib/contract.ts';

/** The deadline that matters now: respond until accepted, then resolve. */
export function deadlineOf(t: Ticket): string {
  return t.acceptedAt === null ? t.respondBy : t.resolveBy;
}

const LIVE = new Set(['open', 'dispatched', 'accepted', 'reopened']);

/** My tickets: live ones first, by the nearest deadline; finished ones after, newest first. */
export function sortForPhone(list: readonly Ticket[]): Ticket[] {
  return [...list].sort((a, b) => {
    const la = LIVE.has(a.status) ? 0 : 1;
    const lb = LIVE.has(b.status) ? 0 : 1;
    if (la !== lb) return la - lb;
    if (la === 0) return Date.parse(deadlineOf(a)) - Date.parse(deadlineOf(b));
    return Date.parse(b.openedAt) - Date.parse(a.openedAt);
  });
}

/** "1h 05m" / "3m" / "45s": compact time for a phone line. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(Math.abs(ms) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/**
 * Still this worker's, as the hub's workerSees decides past the grid scope (the hub sends a
 * worker only changes of tickets they may see, or just stopped seeing): assigned to them, or
 * unassigned and offered to them (or to nobody in particular); never an alert under review.
 */
export function stillMine(t: Ticket, me: string): boolean {
  if (t.status === 'pending_review') return false;
  if (t.assigneeId !== undefined) return t.assigneeId === me;
  return t.offeredTo === undefined || t.offeredTo.length === 0 || t.offeredTo.includes(me);
}

/**
 * The list after live ticket changes: each ticket replaces an older version of itself or
 * joins the list; one reassigned away, taken by another or withdrawn leaves it. Re-sorted.
 */
export function mergeLive(list: readonly Ticket[], changed: readonly Ticket[], me: string): Ticket[] {
  const byId = new Map(list.map((t) => [t.id, t]));
  for (const t of changed) {
    const had = byId.get(t.id);
    if (had !== undefined && had.version >= t.version) continue;
    if (stillMine(t, me)) byId.set(t.id, t); else byId.delete(t.id);
  }
  return sortForPhone([...byId.values()]);
}
