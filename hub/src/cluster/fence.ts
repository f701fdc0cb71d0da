import type { Queryable } from '../store/db.ts';

/** A ticket write of an owner whose lease epoch has been superseded: refused, not retried. */
export class FencedOut extends Error {
  constructor(readonly lease: string, readonly epoch: number, readonly current: number | null) {
    super(`lease ${lease}: epoch ${epoch} superseded by ${current ?? 'none'}; a newer owner acts for it`);
  }
}

/** Runs inside a ticket write's transaction, before it commits (TicketService.fenced). */
export type FenceCheck = (tx: Queryable) => Promise<void>;

/**
 * The fencing token check of one lease: the transaction goes on only while `cluster_leases`
 * still shows the epoch this hub gained. FOR SHARE holds the row, so a takeover's epoch bump
 * (leases.ts) waits for a write in flight and every write that starts after it sees the new
 * epoch: an old owner — paused, cut off, slow to notice — never writes after a takeover.
 */
export function fenceCheck(lease: string, epoch: number): FenceCheck {
  return async (tx) => {
    const [row] = await tx.query<{ epoch: string }>('SELECT epoch FROM cluster_leases WHERE name = $1 FOR SHARE', [lease]);
    const current = row ? Number(row.epoch) : null;
    if (current !== epoch) throw new FencedOut(lease, epoch, current);
  };
}
