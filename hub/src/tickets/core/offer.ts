import type { Team, Ticket, Worker } from '@shaobing/schemas';
import { ancestry, type GridIndex } from './routing.ts';

/**
 * 抢单 (DESIGN §6, seeds: 主动预警派单给周边多名保洁人员): a ticket of a team category may be
 * offered to the N nearest workers of its team; the first to accept takes it. Pure.
 */

/** Where the work is: the device's (or complaint's) cell, and its coordinates when known. */
export interface OfferPlace { cellId: string; lat?: number | undefined; lng?: number | undefined }

/** Steps through the grid tree between two cells (same cell 0, parent 1, sibling 2); Infinity when unrelated. */
export function gridHops(index: GridIndex, a: string, b: string): number {
  const up = ancestry(index, a).map((c) => c.id);
  const chainB = ancestry(index, b).map((c) => c.id);
  for (const [j, id] of chainB.entries()) {
    const i = up.indexOf(id);
    if (i >= 0) return i + j;
  }
  return Infinity;
}

/** Great-circle metres between two points (haversine). */
export function metresBetween(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}

const coords = (p: { lat?: number | undefined; lng?: number | undefined }): { lat: number; lng: number } | null =>
  p.lat !== undefined && p.lng !== undefined ? { lat: p.lat, lng: p.lng } : null;

/**
 * The `n` workers of `team` nearest to `place`: fewest grid steps first (the grid is who is
 * responsible), then metres when both sides have coordinates (a worker without them after one
 * with), then id — so the choice is the same on every hub. Workers outside the place's grid
 * tree are never offered.
 */
export function nearestWorkers(index: GridIndex, team: Team, place: OfferPlace, n: number): Worker[] {
  const here = coords(place);
  const ranked: Array<{ w: Worker; hops: number; metres: number }> = [];
  for (const list of index.workersByCell.values()) {
    for (const w of list) {
      if (!w.teams.includes(team)) continue;
      const hops = gridHops(index, place.cellId, w.cellId);
      if (hops === Infinity) continue;
      const there = coords(w);
      ranked.push({ w, hops, metres: here !== null && there !== null ? metresBetween(here, there) : Infinity });
    }
  }
  ranked.sort((x, y) => x.hops - y.hops || x.metres - y.metres || (x.w.id < y.w.id ? -1 : x.w.id > y.w.id ? 1 : 0));
  return ranked.slice(0, Math.max(0, n)).map((r) => r.w);
}

/**
 * A new ticket offered instead of assigned: nobody is its assignee until one of `offeredTo`
 * accepts (state-machine 'accept' claims it). Fewer than two candidates is no competition:
 * the ticket stays routed as it was. The escalation ladder is kept, so a ticket nobody takes
 * by its response deadline escalates as any other.
 */
export function offerTicket(t: Ticket, index: GridIndex, place: OfferPlace, n: number): Ticket {
  const to = nearestWorkers(index, t.team, place, n).map((w) => w.id);
  if (to.length < 2) return t;
  const { assigneeId: _routed, ...rest } = t;
  return { ...rest, offeredTo: to };
}

/** The worker was offered the ticket and someone else took it: who did (the loser's 409), else null. */
export function takenFrom(t: Ticket, workerId: string): string | null {
  if (t.offeredTo === undefined || !t.offeredTo.includes(workerId)) return null;
  return t.assigneeId !== undefined && t.assigneeId !== workerId ? t.assigneeId : null;
}

/** Who is told "taken" when `t` was just claimed: the other workers it was offered to. */
export function othersOffered(t: Ticket): string[] {
  return (t.offeredTo ?? []).filter((id) => id !== t.assigneeId);
}
