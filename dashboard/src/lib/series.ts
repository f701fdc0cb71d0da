import type { EventStatsView, TicketStatsView } from './api.ts';

const BUCKET_MS = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 } as const;

/** Bucket starts from `from` (already aligned by the hub) up to `to`, in epoch seconds for uPlot. */
export function bucketStarts(from: string, to: string, bucket: keyof typeof BUCKET_MS): number[] {
  const step = BUCKET_MS[bucket];
  const out: number[] = [];
  for (let t = Date.parse(from); t < Date.parse(to); t += step) out.push(t / 1000);
  return out;
}

/** One zero-filled series per key over the bucket starts. */
function pivot<T extends { t: string }>(xs: number[], items: readonly T[], keyOf: (i: T) => string, valueOf: (i: T) => number, keys: readonly string[]): Map<string, number[]> {
  const index = new Map(xs.map((x, i) => [x, i]));
  const out = new Map(keys.map((k) => [k, new Array<number>(xs.length).fill(0)]));
  for (const it of items) {
    const i = index.get(Date.parse(it.t) / 1000);
    const series = out.get(keyOf(it));
    if (i !== undefined && series) series[i] = (series[i] ?? 0) + valueOf(it);
  }
  return out;
}

export function eventSeries(s: EventStatsView, families: readonly string[]): { xs: number[]; series: Map<string, number[]> } {
  const xs = bucketStarts(s.from, s.to, s.bucket);
  return { xs, series: pivot(xs, s.items, (i) => i.family, (i) => i.count, families) };
}

export function ticketSeries(s: TicketStatsView): { xs: number[]; opened: number[]; resolved: number[] } {
  const xs = bucketStarts(s.from, s.to, s.bucket);
  const opened = pivot(xs, s.items, () => 'o', (i) => i.opened, ['o']).get('o') ?? [];
  const resolved = pivot(xs, s.items, () => 'r', (i) => i.resolved, ['r']).get('r') ?? [];
  return { xs, opened, resolved };
}
