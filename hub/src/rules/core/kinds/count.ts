import type { CompiledCount } from '../compiled.ts';
import { canOpenAt, dedupKey, describeEvent, eventEvidence, eventRef, keyParts, openDecision, subjectCtx } from '../emit.ts';
import type { KindHandler } from './handler.ts';

/**
 * ≥ minCount matching events within any window of windowMs (inclusive: first and last at most
 * windowMs apart). Counted per dedup subject, so a unit-scoped rule counts all the unit's
 * doors together. Times are device timestamps: a late event is slotted in by its time. Every
 * event that completes or extends a burst emits `open` again (an occurrence on the ticket).
 */
export const countHandler: KindHandler<CompiledCount> = {
  onEvent(c, slot, ev, t, dev, _now, x) {
    if (ev.type !== c.on.type || !c.on.test(ev.data)) return;
    const parts = keyParts(c, ev.data);
    const dk = dedupKey(c, dev, parts);
    const s = slot.s[dk] ?? (slot.s[dk] = { times: [] });
    const times = s.times ?? (s.times = []);
    const newest = times.length > 0 ? times[times.length - 1]! : t;
    // Older than any window that can still matter: the burst it belonged to is long judged.
    if (t < newest - c.windowMs) return;
    let i = times.length;
    while (i > 0 && times[i - 1]! > t) i--;
    times.splice(i, 0, t);
    const top = times[times.length - 1]!;
    let drop = 0;
    while (times[drop]! < top - c.windowMs) drop++;
    // Bounded memory under a flood: only the last minCount times can still complete a burst.
    drop = Math.max(drop, times.length - 2 * c.minCount);
    if (drop > 0) { times.splice(0, drop); i -= drop; }
    slot.due[dk] = top + c.windowMs;
    if (i < 0 || !burstAround(times, i, c.minCount, c.windowMs) || !canOpenAt(c, t)) return;
    const count = countWithin(times, t, c.windowMs);
    const ref = eventRef(ev);
    x.out.push(openDecision(c, subjectCtx(c, dev, parts), eventEvidence(ref, dev.deviceId, `${describeEvent(ref)} (${count} within ${c.windowMs} ms)`, { cause: 'count', count, windowMs: c.windowMs }), { count, data: ev.data }));
  },

  /** Forgets subjects whose newest event has left the window. */
  onDue(c, slot, sk, now) {
    const s = slot.s[sk];
    const times = s?.times;
    if (times === undefined || times.length === 0 || now > times[times.length - 1]! + c.windowMs) {
      delete slot.s[sk];
      delete slot.due[sk];
    }
  },
};

/** Is there a run of n consecutive times including index i spanning ≤ windowMs? */
function burstAround(times: number[], i: number, n: number, windowMs: number): boolean {
  for (let a = Math.max(0, i - n + 1); a <= i && a + n - 1 < times.length; a++) {
    if (times[a + n - 1]! - times[a]! <= windowMs) return true;
  }
  return false;
}

/** Events in the window that contains t and the most events around it (for {count}). */
function countWithin(times: number[], t: number, windowMs: number): number {
  let best = 0;
  for (let a = 0; a < times.length; a++) {
    if (times[a]! > t || times[a]! < t - windowMs) continue;
    let b = a;
    while (b + 1 < times.length && times[b + 1]! - times[a]! <= windowMs) b++;
    best = Math.max(best, b - a + 1);
  }
  return best;
}
