import type { IngestedEvent } from '../../../events.ts';
import type { CompiledDuration, CompiledThreshold } from '../compiled.ts';
import { canOpenAt, dedupKey, describeEvent, endEpisode, eventEvidence, eventRef, hasOrphans, startEpisode, type Sink } from '../emit.ts';
import type { DeviceContext, OpenDecision, Slot, Subject } from '../types.ts';

/*
 * What threshold and duration rules share: a run starts (`since`), must last `forMs`, opens on
 * a tick or on the next event that shows it came due, and ends on a clear/stop that the device
 * reports (which resolves the episode when one is open).
 */
type HeldRule = CompiledThreshold | CompiledDuration;

/** The run has lasted forMs by `t` and the rule may open then (schedule). */
export function runDue(c: HeldRule, s: Subject, t: number): boolean {
  return s.open === undefined && s.since !== undefined && t >= s.since + c.forMs && canOpenAt(c, t);
}

/** Tick handler: drop a due entry with no run behind it; open a run that came due. */
export function onDueHeld<C extends HeldRule>(c: C, slot: Slot, sk: string, now: number, x: Sink, fire: (c: C, slot: Slot, sk: string, s: Subject, x: Sink) => void): void {
  const s = slot.s[sk];
  if (s === undefined || s.open !== undefined || s.since === undefined) { delete slot.due[sk]; return; }
  // Outside active hours the entry stays due and is retried on every tick until the window opens.
  if (runDue(c, s, now)) fire(c, slot, sk, s, x);
}

/** Forgets the pending run (and its due entry), if any. */
export function resetRun(slot: Slot, sk: string, s: Subject): void {
  if (s.since === undefined) return;
  delete s.since; delete s.ev; delete s.ctx;
  delete slot.due[sk];
}

/** The run became an episode: forget the run, record the open decision. */
export function openRun(x: Sink, slot: Slot, sk: string, s: Subject, d: OpenDecision): void {
  delete s.since; delete s.ev; delete s.ctx;
  startEpisode(x, slot, sk, s, d);
}

/** The device reported the condition gone: resolve the episode (or an orphaned ticket). */
export function endByDevice(c: HeldRule, slot: Slot, sk: string, s: Subject, e: IngestedEvent, dev: DeviceContext, parts: string, x: Sink): void {
  // Most readings are clear and nothing is open: skip building evidence on the hot path.
  if (s.open === undefined && !hasOrphans(x.state)) return;
  const ref = eventRef(e);
  endEpisode(x, c, slot, sk, s, eventEvidence(ref, dev.deviceId, describeEvent(ref)), () => dedupKey(c, dev, parts));
}
