import type { KpiSnapshot } from './contract.ts';

/**
 * The KPI header's figures, from one source: the hub pushes today's snapshot of a site on the
 * live stream whenever its tickets change (and after every SLA sweep); the dashboard GETs it
 * once when it (re)connects, resets or switches site. Whichever arrives, the newer snapshot
 * (by generatedAt) wins, so a GET answered after a push cannot roll the header back. Pure.
 */
export class KpiStore {
  private siteId: string | undefined;
  current: KpiSnapshot | null = null;

  /** The site the header shows (undefined: all the operator's sites); forgets the figures on a change. */
  show(siteId: string | undefined): void {
    if (siteId === this.siteId) return;
    this.siteId = siteId;
    this.current = null;
  }

  /** Offers a snapshot (pushed or fetched); true when the header changes. */
  offer(s: KpiSnapshot): boolean {
    if (this.siteId !== undefined && s.siteId !== this.siteId) return false;
    if (this.current && Date.parse(s.generatedAt) < Date.parse(this.current.generatedAt)) return false;
    this.current = s;
    return true;
  }

  clear(): void {
    this.siteId = undefined;
    this.current = null;
  }
}
