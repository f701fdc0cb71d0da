import type { Ticket } from './contract.ts';
import { isActive } from './board.ts';

/**
 * All tickets the dashboard knows, by id. Live updates and REST snapshots race (a snapshot
 * can be older than a message that arrived while it loaded), so `version` decides: an older
 * version never replaces a newer one.
 */
export class TicketIndex {
  private readonly byId = new Map<string, Ticket>();
  /** Live upserts seen while a snapshot loads; re-applied on top of it. */
  private duringRefresh: Ticket[] | null = null;

  get size(): number { return this.byId.size; }
  get(id: string): Ticket | undefined { return this.byId.get(id); }
  values(): IterableIterator<Ticket> { return this.byId.values(); }

  /** Returns 'new', 'updated' or 'stale' (older or same version: ignored). */
  upsert(t: Ticket): 'new' | 'updated' | 'stale' {
    this.duringRefresh?.push(t);
    const prev = this.byId.get(t.id);
    if (prev && prev.version >= t.version) return 'stale';
    this.byId.set(t.id, t);
    return prev ? 'updated' : 'new';
  }

  beginRefresh(): void {
    this.duringRefresh = [];
  }

  /** Replaces the content with a snapshot, keeping anything newer that arrived meanwhile. */
  completeRefresh(snapshot: readonly Ticket[]): void {
    const live = this.duringRefresh ?? [];
    this.duringRefresh = null;
    this.byId.clear();
    for (const t of snapshot) this.upsert(t);
    for (const t of live) this.upsert(t);
  }

  abortRefresh(): void {
    this.duringRefresh = null;
  }

  /** Active critical tickets (the alarm), oldest first. */
  criticalActive(): Ticket[] {
    const out: Ticket[] = [];
    // A critical alert under review (人工核准) rings too: the control room must look at it now.
    for (const t of this.byId.values()) if (t.severity === 'critical' && (isActive(t) || t.status === 'pending_review')) out.push(t);
    return out.sort((a, b) => Date.parse(a.openedAt) - Date.parse(b.openedAt));
  }

  /** Open tickets per grid cell (for the device tree). */
  activeByCell(): Map<string, number> {
    const m = new Map<string, number>();
    for (const t of this.byId.values()) if (isActive(t)) m.set(t.cellId, (m.get(t.cellId) ?? 0) + 1);
    return m;
  }

  /** Drops finished tickets beyond the newest `keep`, so a long shift doesn't grow without end. */
  pruneFinished(keep: number): void {
    const done = [...this.byId.values()].filter((t) => !isActive(t) && t.status !== 'pending_review');
    if (done.length <= keep) return;
    done.sort((a, b) => Date.parse(b.resolvedAt ?? b.openedAt) - Date.parse(a.resolvedAt ?? a.openedAt));
    for (const t of done.slice(keep)) this.byId.delete(t.id);
  }
}
