import type { Category, Evidence, Localized, Severity } from '@shaobing/schemas';
import type { IngestedEvent } from '../../events.ts';
import type { CompiledRules } from './compiled.ts';
import { replay } from './replay.ts';
import { emptyState, type DeviceContext } from './types.ts';

/** A ticket the rules would have opened, as the ticket engine would have merged it. */
export interface DryRunTicket {
  dedupKey: string;
  ruleId: string;
  siteId: string;
  deviceId?: string;
  cellId: string;
  severity: Severity;
  category: Category;
  title: Localized;
  openedAt: number;
  /** 1 + repeats merged into it while it was open. */
  occurrences: number;
  /** Device-verified resolution time; null = still open at `to` (or needs an operator). */
  resolvedAt: number | null;
  /** The first few pieces of evidence. */
  evidence: Evidence[];
}

export interface DryRunResult {
  /** Tickets opened within [from, to], by opening time. */
  tickets: DryRunTicket[];
  /** Raw decisions within [from, to] (opens incl. repeats, resolves). */
  decisions: number;
}

const MAX_EVIDENCE = 5;

/**
 * "What would these rules have opened last week?" Replays stored events (ordered by ts) with
 * ticks every `tickEveryMs`. Pass events from `from - historyWindowMs(rules)` so durations
 * and windows already running at `from` are warm; tickets opened before `from` merge repeats
 * but are not reported.
 */
export function dryRun(
  rules: CompiledRules, events: readonly IngestedEvent[], devices: Iterable<DeviceContext>,
  from: number, to: number, tickEveryMs = 60_000,
): DryRunResult {
  let start = from;
  for (const e of events) if (e.receivedAt < start) start = e.receivedAt;
  const live = new Map<string, DryRunTicket>();
  const all: DryRunTicket[] = [];
  let decisions = 0;
  replay(rules, emptyState(), events, [...devices], start, to, tickEveryMs, (ds, at) => {
    for (const d of ds) {
      if (at >= from) decisions++;
      const t = live.get(d.dedupKey);
      if (d.kind === 'resolve_by_device') {
        if (t !== undefined && t.resolvedAt === null) { t.resolvedAt = at; live.delete(d.dedupKey); }
        continue;
      }
      if (t !== undefined) {
        t.occurrences++;
        if (t.evidence.length < MAX_EVIDENCE) t.evidence.push(d.evidence);
        continue;
      }
      const ticket: DryRunTicket = {
        dedupKey: d.dedupKey, ruleId: d.ruleId, siteId: d.siteId, cellId: d.cellId, severity: d.severity,
        category: d.category, title: d.title, openedAt: at, occurrences: 1, resolvedAt: null, evidence: [d.evidence],
        ...(d.deviceId !== undefined ? { deviceId: d.deviceId } : {}),
      };
      // A ticket only a person can close stays open for the rest of the run, as it would live.
      live.set(d.dedupKey, ticket);
      all.push(ticket);
    }
  });
  return { tickets: all.filter((t) => t.openedAt >= from), decisions };
}
