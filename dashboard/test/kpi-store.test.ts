import { describe, expect, it } from 'vitest';
import type { KpiSnapshot } from '../src/lib/contract.ts';
import { KpiStore } from '../src/lib/kpi-store.ts';
import { NOW, iso } from './fixtures.ts';

const rate = (n: number, d: number) => ({ numerator: n, denominator: d, value: d ? n / d : null });
function snapshot(siteId: string | undefined, at: number, open: number): KpiSnapshot {
  return {
    ...(siteId ? { siteId } : {}), period: { from: iso(NOW - 8 * 3600_000), to: iso(NOW + 16 * 3600_000) }, generatedAt: iso(at), tickets: open,
    responseRate: rate(0, open), resolutionRate: rate(0, open), satisfactionRate: rate(0, 0), proactiveShare: rate(open, open), open, overdue: 0,
    meanTimeToRespondMs: null, meanTimeToResolveMs: null, complaintsPreempted: 0, hotspots: [], workers: [], communities: [],
  };
}

describe('KpiStore (the header has one source: pushes, plus the fetch on (re)connect)', () => {
  it('takes the newer snapshot, whether pushed or fetched, so a late GET cannot roll a push back', () => {
    const k = new KpiStore();
    k.show('a');
    expect(k.offer(snapshot('a', NOW, 3))).toBe(true); // the fetch on connect
    expect(k.offer(snapshot('a', NOW + 1000, 4))).toBe(true); // a push after a ticket opened
    expect(k.offer(snapshot('a', NOW + 500, 3))).toBe(false); // a fetch answered late
    expect(k.current?.open).toBe(4);
  });

  it('shows only the chosen site, and forgets the figures when the site changes or the operator logs out', () => {
    const k = new KpiStore();
    k.show('a');
    expect(k.offer(snapshot('b', NOW, 9))).toBe(false);
    k.offer(snapshot('a', NOW, 1));
    k.show('a');
    expect(k.current?.open).toBe(1); // a reconnect to the same site keeps them
    k.show('b');
    expect(k.current).toBeNull();
    expect(k.offer(snapshot('b', NOW - 60_000, 2))).toBe(true); // an older clock on another site is no reason to refuse
    k.clear();
    expect(k.current).toBeNull();
  });

  it('with no site chosen (all sites) takes what comes', () => {
    const k = new KpiStore();
    k.show(undefined);
    expect(k.offer(snapshot(undefined, NOW, 5))).toBe(true);
  });
});
