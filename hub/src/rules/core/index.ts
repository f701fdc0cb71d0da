/**
 * The rule engine's pure core (DESIGN §3 "rules", §5). No I/O, no clock: time comes in as
 * numbers (epoch ms). The shell (rule-file loading + hot reload, persistence, ticket engine)
 * drives it like this:
 *
 *   // start-up / hot reload (keep the previous CompiledRules if this throws RuleError)
 *   const rules = compileRuleFiles(DEFAULT_RULES, [parsedYamlOrJson]);   // or compileRules(list)
 *   const events = await loadEvents(now - historyWindowMs(rules), now);   // ordered by ts
 *   let { state, decisions } = rebuildState(rules, events, registry.allDevices(), now, { openKeys });
 *   apply(decisions);                                  // re-asserted opens (idempotent by dedupKey)
 *
 *   // every stored event (after the batch commits)
 *   apply(evaluate(rules, state, { kind: 'event', event, device }, Date.now()).decisions);
 *   // every tick (e.g. each 1–5 s; durations and silences elapse only on ticks or events)
 *   apply(evaluate(rules, state, { kind: 'tick', now, devices: registry.allDevices() }, now).decisions);
 *
 *   // backtest: what would these rules have opened last week?
 *   dryRun(rules, eventsSince(from - historyWindowMs(rules)), devices, from, to, 60_000).tickets;
 *
 * Decisions (schemas/decisions.ts): `open` (again with the same dedupKey = an occurrence) and
 * `resolve_by_device` (only for deviceVerifiable rules; a key with no live ticket is ignored by
 * the ticket engine). dedupKey = `<dedupGroup|ruleId>:<siteId>:<device:id|unit:id|building:id|
 * cell:id|site>[:<keyField>=<value>…]`. Evidence eventKey = `<siteId>/<deviceId>/<msgId>`, or
 * `tick:<iso>` for silences (absence, offline, quiet), timed when the condition was met.
 *
 * State: plain JSON, MUTATED IN PLACE by evaluate() (thousands of events/s must not copy it).
 * `JSON.stringify(state)` is a snapshot; `emptyState()` a fresh one. Memory per rule and site:
 * subjects (device[:keyFields]; dedup key for count/absence), a `due` index of timers and the
 * live episodes per dedup key (a non-device scope resolves only when its last subject clears).
 *
 * Time and order:
 * - An event's time is its device ts capped at `now` (a clock running ahead cannot push
 *   durations into the future). For `tick` inputs `input.now` is the time; pass the same `now`.
 * - Late events (ts older than the newest applied to the same subject) are ignored by
 *   threshold, duration and match-with-clear: the newer event already describes the present
 *   (a door.closed that arrives before its door.opened leaves the door closed). Count windows
 *   slot late events in by ts (events older than the window before the newest are dropped);
 *   absence takes the newest activity; offline uses the hub clock, so order does not matter.
 * - Durations elapse on ticks; an event arriving after a run came due but before a tick
 *   noticed opens first (then applies its own effect), so results don't depend on tick rate.
 * - Schedules gate opening only, at the moment of opening; a run that comes due outside the
 *   active hours opens at the first tick inside them if the condition still holds.
 * - Offline vs Last Will: `{online:false}` is not a sign of life and by default does not
 *   open at once (a gateway reboot would flood tickets); `lastWillMs` opts in.
 * - Hot reload: state is keyed by site + rule id and survives; a rule whose kind changed
 *   starts empty; a removed/disabled rule fires nothing and its open tickets wait for people.
 *   A run already pending keeps the due time it was given (a shortened forMs applies to the
 *   next run; a lengthened one is re-checked when the old due time comes).
 */
export { evaluate } from './evaluate.ts';
export { compileRules, compileRuleFiles } from './compile.ts';
export { rebuildState, historyWindowMs, type RebuildOptions } from './rebuild.ts';
export { dryRun, type DryRunResult, type DryRunTicket } from './dry-run.ts';
export { RuleError, parseRuleFile } from './validate-rule.ts';
export { emptyState } from './types.ts';
export type { CompiledRules, CompiledRule, RuleSet } from './compiled.ts';
export type {
  DeviceContext, RuleInput, RuleState, EvalResult, RuleFailure, OpenDecision, ResolveDecision, Slot, Subject,
} from './types.ts';
export { formatDuration, render, compileTemplate } from './templates.ts';
export { scheduleActive, compileSchedule, localTime } from './schedule.ts';
export { dedupKey, scopeId } from './emit.ts';
export { offlineAfterMs } from './offline-after.ts';
