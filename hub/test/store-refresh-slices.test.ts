import { describe, expect, it } from 'vitest';
import { CONTINUOUS_AGGREGATES, refreshWindow } from '../src/store/aggregates.ts';
import { refreshSlices } from '../src/store/maintenance.ts';

const HOUR = 3_600_000;

describe('embedded store: the aggregate refresh runs in hour slices', () => {
  const t = Date.UTC(2026, 0, 5, 10, 37, 12);
  const slices = refreshSlices(t - 3 * HOUR, t, HOUR);

  it('cuts the 3 h window at whole hours, contiguously, so commits get through between slices', () => {
    expect(slices).toHaveLength(4);
    expect(slices[0]![0]).toBe(t - 3 * HOUR);
    expect(slices.at(-1)![1]).toBe(t);
    for (let i = 1; i < slices.length; i++) {
      expect(slices[i]![0]).toBe(slices[i - 1]![1]);
      expect(slices[i]![0] % HOUR).toBe(0);
    }
  });

  it('materialises exactly the buckets one call over the whole window would, for every aggregate', () => {
    for (const { bucketMs } of CONTINUOUS_AGGREGATES) {
      const whole = refreshWindow(new Date(t - 3 * HOUR), new Date(t), bucketMs)!;
      const parts = slices.map(([a, b]) => refreshWindow(new Date(a), new Date(b), bucketMs)).filter((w) => w !== null);
      expect(parts[0]!.start).toEqual(whole.start);
      expect(parts.at(-1)!.end).toEqual(whole.end);
      for (let i = 1; i < parts.length; i++) expect(parts[i]!.start).toEqual(parts[i - 1]!.end);
    }
  });

  it('a server store refreshes in one call', () => {
    expect(refreshSlices(t - 3 * HOUR, t, Infinity)).toEqual([[t - 3 * HOUR, t]]);
  });
});
