import type { RuleDecision } from '@shaobing/schemas';
import type { IngestedEvent } from '../../events.ts';
import { ruleSetFor, type CompiledRule, type CompiledRules, type RuleSet } from './compiled.ts';
import { getSlot, type Sink } from './emit.ts';
import { absenceHandler } from './kinds/absence.ts';
import { countHandler } from './kinds/count.ts';
import { durationHandler } from './kinds/duration.ts';
import type { KindHandler } from './kinds/handler.ts';
import { matchHandler } from './kinds/match.ts';
import { offlineHandler } from './kinds/offline.ts';
import { thresholdHandler } from './kinds/threshold.ts';
import type { DeviceContext, EvalResult, RuleFailure, RuleInput, RuleState, Slot } from './types.ts';

/** Slot.next of a scanned slot where no subject is waiting (all episodes open): JSON-safe "never". */
const NEVER = Number.MAX_SAFE_INTEGER;

type AnyHandler = KindHandler<CompiledRule>;
const HANDLERS = {
  match: matchHandler, threshold: thresholdHandler, count: countHandler,
  duration: durationHandler, absence: absenceHandler, offline: offlineHandler,
} as unknown as Record<CompiledRule['kind'], AnyHandler>;

/**
 * Feeds one input through the rules. MUTATES `state` in place (the hot path must not copy
 * thousands of subjects per event) and returns it with the decisions, in emission order.
 * Snapshot with structuredClone/JSON if you need the before-state.
 */
export function evaluate(rules: CompiledRules, state: RuleState, input: RuleInput, now: number): EvalResult {
  const x: Sink = { state, out: [] };
  const failures: RuleFailure[] = [];
  if (input.kind === 'event') onEvent(rules, x, input.event, input.device, now, failures);
  else onTick(rules, x, input.now, input.devices, input.fullScan ?? true, failures);
  const decisions = x.out.length > 1 ? dropRepeatedResolves(x.out) : x.out;
  return failures.length === 0 ? { state, decisions } : { state, decisions, failures };
}

/**
 * One rule's bug (a throw in its handler) is that rule's alone: recorded, and every other
 * rule's decisions for the same input still go out. What the failing rule emitted before it
 * threw stays (its state already counts those episodes open).
 */
function failed(failures: RuleFailure[], c: CompiledRule, err: unknown): void {
  failures.push({ ruleId: c.id, error: err instanceof Error ? err.message : String(err) });
}

function onEvent(rules: CompiledRules, x: Sink, ev: IngestedEvent, dev: DeviceContext, now: number, failures: RuleFailure[]): void {
  const set = ruleSetFor(rules, dev.siteId);
  // A device clock running ahead is capped at the hub clock.
  const t = ev.ts < now ? ev.ts : now;
  const list = set.byType.get(ev.type);
  if (list !== undefined) {
    for (const c of list) {
      try { HANDLERS[c.kind].onEvent(c, getSlot(x.state, dev.siteId, c), ev, t, dev, now, x); } catch (err) { failed(failures, c, err); }
    }
  }
  const offline = set.offline.get(ev.family);
  if (offline !== undefined) {
    for (const c of offline) {
      try { HANDLERS.offline.onEvent(c, getSlot(x.state, dev.siteId, c), ev, t, dev, now, x); } catch (err) { failed(failures, c, err); }
    }
  }
}

function onTick(rules: CompiledRules, x: Sink, now: number, devices: Iterable<DeviceContext>, fullScan: boolean, failures: RuleFailure[]): void {
  // 1. Timers recorded in state: threshold/duration runs, quiet timers, count windows.
  for (const key in x.state.slots) {
    const slot = x.state.slots[key]!;
    const c = ruleSetFor(rules, slot.site).byId.get(slot.rule);
    // A rule removed or disabled by a hot reload keeps its memory but fires nothing.
    if (c === undefined || c.kind !== slot.kind) continue;
    const h = HANDLERS[c.kind];
    if (h.onDue === undefined) continue;
    try {
      for (const sk in slot.due) {
        if (slot.due[sk]! <= now) h.onDue(c, slot, sk, now, x);
      }
    } catch (err) { failed(failures, c, err); }
  }
  // 2. Device-by-device checks: absence and offline (a silent device has no event to react to).
  // Deadline-driven: a rule's devices are visited only once its earliest silence is due
  // (Slot.next), so the steady tick costs one comparison per rule, not a pass over every device.
  if (!fullScan && !scanDue(x.state, now)) return;
  const next = new Map<Slot, number>();
  let lastSite = '';
  let set: RuleSet | undefined;
  for (const dev of devices) {
    if (set === undefined || dev.siteId !== lastSite) { set = ruleSetFor(rules, dev.siteId); lastSite = dev.siteId; }
    const list = set.scan.get(dev.family);
    if (list === undefined) continue;
    for (const c of list) {
      const slot = getSlot(x.state, dev.siteId, c);
      if (!fullScan && slot.next !== undefined && slot.next > now) continue;
      try {
        const due = HANDLERS[c.kind].scan!(c, slot, dev, now, x);
        const sofar = next.get(slot) ?? NEVER;
        next.set(slot, due !== undefined && due < sofar ? due : sofar);
      } catch (err) {
        failed(failures, c, err);
        next.set(slot, now); // try again at the next tick
      }
    }
  }
  for (const [slot, at] of next) slot.next = at;
  // A due slot no registered device maps to (its devices or rule are gone) waits for the next
  // full scan, which a registry or rules change brings; it must not make every tick scan.
  for (const key in x.state.slots) {
    const slot = x.state.slots[key]!;
    if (!next.has(slot) && (slot.kind === 'absence' || slot.kind === 'offline') && (slot.next === undefined || slot.next <= now)) slot.next = NEVER;
  }
}

/** Some absence/offline slot may have a subject due by `now` (or has never been scanned). */
function scanDue(state: RuleState, now: number): boolean {
  for (const key in state.slots) {
    const slot = state.slots[key]!;
    if ((slot.kind === 'absence' || slot.kind === 'offline') && (slot.next === undefined || slot.next <= now)) return true;
  }
  return false;
}

/** Two rules of one dedup group clearing on the same event would resolve the ticket twice. */
function dropRepeatedResolves(out: RuleDecision[]): RuleDecision[] {
  const seen = new Set<string>();
  return out.filter((d) => {
    if (d.kind !== 'resolve_by_device') return true;
    if (seen.has(d.dedupKey)) return false;
    seen.add(d.dedupKey);
    return true;
  });
}
