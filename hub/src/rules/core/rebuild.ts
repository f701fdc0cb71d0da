import type { IngestedEvent } from '../../events.ts';
import type { CompiledRules } from './compiled.ts';
import { replay } from './replay.ts';
import { emptyState, type DeviceContext, type EvalResult, type OpenDecision } from './types.ts';

/** How far back rebuildState() needs events: the longest duration, window or timer of any rule. */
export function historyWindowMs(rules: CompiledRules): number {
  return rules.historyWindowMs;
}

export interface RebuildOptions {
  /**
   * Since when `events` is complete (default `now - historyWindowMs(rules)`). A registered
   * device with no event since counts as silent since then (absence/offline clocks).
   * Give the real start if the hub was down for part of the window, to avoid false silences.
   */
  coverageFrom?: number;
  /** Tick spacing of the replay (default 60 s); it only changes when clock-driven opens land in it. */
  tickEveryMs?: number;
  /**
   * Dedup keys of proactive tickets open in the database now. With it, only episodes missing
   * a ticket are re-asserted, and open tickets the history cannot explain become orphans
   * (a device-proven clear still resolves them). Without it, every live episode is re-asserted.
   */
  openKeys?: Iterable<string>;
}

/**
 * Rebuilds the state at `now` from stored history (events ordered by ts, from
 * `now - historyWindowMs(rules)`), by replaying it with ticks. Returns the `open` decisions of
 * episodes still live at `now` that the shell must (re-)apply: conditions that came due while
 * the hub was down would otherwise never open. Re-applying one that already has a live ticket
 * only adds an occurrence (same dedup key, same evidence eventKey).
 */
export function rebuildState(
  rules: CompiledRules, events: readonly IngestedEvent[], devices: Iterable<DeviceContext>, now: number, opts: RebuildOptions = {},
): EvalResult {
  const state = emptyState();
  const from = opts.coverageFrom ?? now - rules.historyWindowMs;
  replay(rules, state, events, [...devices], from, now, opts.tickEveryMs ?? 60_000, () => undefined);
  const live = new Map<string, OpenDecision>();
  for (const key in state.slots) {
    const slot = state.slots[key]!;
    for (const sk in slot.s) {
      const open = slot.s[sk]!.open;
      if (open !== undefined && !live.has(open.dedupKey)) live.set(open.dedupKey, open);
    }
  }
  if (opts.openKeys === undefined) return { state, decisions: [...live.values()] };
  const known = new Set(opts.openKeys);
  const groups = resolvableGroups(rules);
  for (const k of known) {
    if (!live.has(k) && groups.has(k.slice(0, k.indexOf(':')))) state.orphans[k] = true;
  }
  return { state, decisions: [...live.values()].filter((d) => !known.has(d.dedupKey)) };
}

/** Dedup groups whose tickets a device can close: the only orphans worth remembering. */
function resolvableGroups(rules: CompiledRules): Set<string> {
  const out = new Set<string>();
  for (const set of [rules.base, ...rules.sites.values()]) {
    for (const c of set.byId.values()) if (c.verifiable && c.kind !== 'count') out.add(c.group);
  }
  return out;
}
