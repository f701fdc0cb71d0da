import { describe, expect, it } from 'vitest';
import { monthlyProblemCandidates, seasonalWarnings, type TicketFact } from '../src/kpi/core/insights.ts';
import { DAY, INDEX } from './tickets-fixtures.ts';

const MARCH = { from: Date.parse('2026-03-01T00:00:00Z'), to: Date.parse('2026-04-01T00:00:00Z') };
const FEB = { from: Date.parse('2026-02-01T00:00:00Z'), to: MARCH.from };
let n = 0;
const fact = (over: Partial<TicketFact> & Pick<TicketFact, 'openedAt'>): TicketFact => ({ id: `f${++n}`, category: 'sanitation', cellId: 'U1', ...over });

describe('每月一题 candidates', () => {
  it('ranks category × compound by volume, growth and repeats, with the evidence', () => {
    const facts = [
      // 一号院 (P1) sanitation: 4 in March, 3 at the same bin; 1 in February → +300 %
      ...[1, 2, 3].map((d) => fact({ openedAt: MARCH.from + d * DAY, deviceId: 'bin-1' })),
      fact({ openedAt: MARCH.from + 4 * DAY, cellId: 'U2', deviceId: 'bin-2' }),
      fact({ openedAt: FEB.from + DAY, deviceId: 'bin-1' }),
      // 二号院 (P2) fire safety: 5 in March, all different spots, 5 in February → flat
      ...[1, 2, 3, 4, 5].map((d) => fact({ openedAt: MARCH.from + d * DAY, category: 'fire_safety', cellId: 'U3', deviceId: `cam-${d}` })),
      ...[1, 2, 3, 4, 5].map((d) => fact({ openedAt: FEB.from + d * DAY, category: 'fire_safety', cellId: 'U3' })),
      fact({ openedAt: MARCH.to + DAY }), // April: not this month
    ];
    const c = monthlyProblemCandidates(facts, MARCH, FEB, INDEX);
    expect(c.map((x) => [x.category, x.placeId, x.volume, x.previous])).toEqual([['sanitation', 'P1', 4, 1], ['fire_safety', 'P2', 5, 5]]);
    expect(c[0]!.growth).toBe(3);
    expect(c[0]!.repeatRate).toBe(0.75);
    expect(c[0]!.score).toBeCloseTo(4 * 4 * 1.75);
    expect(c[0]!.hotspots[0]).toEqual({ spot: 'bin-1', count: 3 });
    expect(c[0]!.ticketIds).toHaveLength(4);
    expect(c[0]!.reason['zh-CN']).toBe('一号院环境卫生类工单 4 件，环比+300%，重复发生率 75%');
    expect(c[1]!.growth).toBe(0);
  });
});

describe('seasonal early warning', () => {
  const NOW = Date.parse('2026-07-01T00:00:00Z');
  const YEAR = 364 * DAY;
  it('warns from the same weeks of last year against the weeks before them', () => {
    // Last year: 2 charging tickets in the 4 weeks before 1 July, 6 in the 4 weeks after.
    const facts = [
      ...[3, 10].map((d) => fact({ category: 'fire_safety', cellId: 'U3', openedAt: NOW - YEAR - d * DAY })),
      ...[1, 4, 8, 12, 15, 20].map((d) => fact({ category: 'fire_safety', cellId: 'U3', openedAt: NOW - YEAR + d * DAY })),
      // A quiet category last year: no warning.
      ...[1, 30].map((d) => fact({ openedAt: NOW - YEAR + d * DAY })),
    ];
    const w = seasonalWarnings(facts, NOW, INDEX);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ category: 'fire_safety', placeId: 'P2', basis: 'same_weeks_earlier_year', ratio: 3, count: 6 });
    expect(w[0]!.reason['zh-CN']).toContain('往年同期 ×3.0');
  });

  it('falls back to the recent trend without earlier years', () => {
    const facts = [
      fact({ openedAt: NOW - 40 * DAY }),
      ...[1, 3, 5, 9].map((d) => fact({ openedAt: NOW - d * DAY })),
    ];
    const w = seasonalWarnings(facts, NOW, INDEX);
    expect(w).toEqual([expect.objectContaining({ category: 'sanitation', placeId: 'P1', basis: 'recent_trend', ratio: 4, count: 4 })]);
    expect(w[0]!.reason.en).toMatch(/×4\.0 over the last 4 weeks \(4 vs 1\); no earlier year/);
    expect(seasonalWarnings(facts.slice(0, 3), NOW, INDEX)).toEqual([]); // 2 recent: below the noise guard
  });

  it('gives no trend where the records begin inside the recent weeks (a site just installed)', () => {
    // Five tickets in the first three days of a new site: nothing to rise from.
    const fresh = [1, 1, 2, 2, 3].map((d) => fact({ openedAt: NOW - d * DAY }));
    expect(seasonalWarnings(fresh, NOW, INDEX)).toEqual([]);
    // The same tickets where the site's records reach back two months: a rise from nothing.
    expect(seasonalWarnings(fresh, NOW, INDEX, { recordedSince: NOW - 60 * DAY })).toEqual([expect.objectContaining({ basis: 'recent_trend', count: 5 })]);
  });
});
