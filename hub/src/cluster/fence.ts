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
export function fenceCheck(lease: string, epoch: number, opts: { idleMs?: number } = {}): FenceCheck {
  // Server-side limit on a transaction that holds the row and then stalls (the hub frozen
  // mid-write, SIGSTOP, a hung event loop): PostgreSQL ends that session once it has sat idle
  // this long inside the transaction, the write rolls back, and the takeover's epoch bump goes
  // on. The lease TTL: a hub silent that long has lost its lease anyway.
  const idleMs = Math.max(1, Math.round(opts.idleMs ?? 10_000));
  return async (tx) => {
    // set_config(…, true) is SET LOCAL without its warning outside a transaction (snapshots).
    const [row] = await tx.query<{ epoch: string }>(
      `SELECT epoch, set_config('idle_in_transaction_session_timeout', $2, true) FROM cluster_leases WHERE name = $1 FOR SHARE`, [lease, String(idleMs)]);
    const current = row ? Number(row.epoch) : null;
    if (current !== epoch) throw new FencedOut(lease, epoch, current);
  };
}
