import type { Queryable } from '../store/db.ts';
import type { Registry } from '../site/registry.ts';
import { dryRun, historyWindowMs, type CompiledRules, type DryRunResult } from './core/index.ts';
import { eventsByTs } from './event-rows.ts';

export const MAX_DRY_RUN_EVENTS = 500_000;

/**
 * Backtest: replays stored events of [from, to) (plus the history the rules need before
 * `from`) through a candidate rule set. Touches no ticket; returns what it would have opened.
 */
export async function dryRunStored(db: Queryable, registry: Registry, rules: CompiledRules, siteIds: string[], from: number, to: number): Promise<DryRunResult & { events: number; truncated: boolean }> {
  const events = await eventsByTs(db, siteIds, from - historyWindowMs(rules), to, MAX_DRY_RUN_EVENTS);
  const devices = [...registry.allDevices()].filter((d) => siteIds.includes(d.siteId));
  const result = dryRun(rules, events, devices, from, to, 60_000);
  return { ...result, events: events.length, truncated: events.length === MAX_DRY_RUN_EVENTS };
}
