import type { CompiledAbsence } from '../compiled.ts';
import { canOpenAt, clockEvidence, dedupKey, dueNoLaterThan, describeEvent, endEpisode, eventEvidence, eventRef, openDecision, startEpisode, subjectCtx, type Sink } from '../emit.ts';
import { formatDuration } from '../templates.ts';
import type { DeviceContext, Slot, Subject } from '../types.ts';
import type { KindHandler } from './handler.ts';

/**
 * No activity for forMs (关爱 welfare check). One subject per dedup key, so a unit-scoped rule
 * means "no activity at any door of the unit". A device never heard from counts as silent
 * since the engine started watching it (its first tick, or rebuildState's coverage start).
 */
export const absenceHandler: KindHandler<CompiledAbsence> = {
  onEvent(c, slot, ev, t, dev, now, x) {
    if (!c.activity.has(ev.type) || (c.requireElderlyCare && !dev.elderlyCare)) return;
    const dk = dedupKey(c, dev, '');
    let s = slot.s[dk];
    if (s === undefined) {
      s = slot.s[dk] = { seen: t };
      const ref = eventRef(ev);
      endEpisode(x, c, slot, dk, s, eventEvidence(ref, dev.deviceId, describeEvent(ref)), () => dk);
      track(c, slot, s);
      return;
    }
    const seen = s.seen ?? t;
    // Order-insensitive: only activity newer than what we know moves the clock.
    if (t <= seen) return;
    if (s.open === undefined && t - seen >= c.forMs && canOpenAt(c, t)) fire(c, slot, dk, s, dev, x);
    s.seen = t;
    // Activity that is itself older than forMs does not prove anyone is fine now.
    if (now - t < c.forMs) {
      const ref = eventRef(ev);
      endEpisode(x, c, slot, dk, s, eventEvidence(ref, dev.deviceId, describeEvent(ref)), () => dk);
    }
    track(c, slot, s);
  },

  scan(c, slot, dev, now, x) {
    if (c.requireElderlyCare && !dev.elderlyCare) return undefined;
    const dk = dedupKey(c, dev, '');
    const s = slot.s[dk];
    if (s === undefined) { slot.s[dk] = { seen: now }; return now + c.forMs; }
    if (s.open === undefined && now - (s.seen ?? now) >= c.forMs && canOpenAt(c, now)) fire(c, slot, dk, s, dev, x);
    return s.open === undefined ? (s.seen ?? now) + c.forMs : undefined;
  },
};

/** A silent subject (no open episode) comes due forMs after its last activity. */
function track(c: CompiledAbsence, slot: Slot, s: Subject): void {
  if (s.open === undefined && s.seen !== undefined) dueNoLaterThan(slot, s.seen + c.forMs);
}

function fire(c: CompiledAbsence, slot: Slot, dk: string, s: Subject, dev: DeviceContext, x: Sink): void {
  const seen = s.seen ?? 0;
  const what = [...c.activity].join('/');
  const ev = clockEvidence(seen + c.forMs, dev.deviceId, `no ${what} for ${formatDuration(c.forMs, 'en')} (last at ${new Date(seen).toISOString()})`,
    { cause: 'absence', forMs: c.forMs, types: [...c.activity], lastAt: new Date(seen).toISOString() });
  startEpisode(x, slot, dk, s, openDecision(c, subjectCtx(c, dev, ''), ev, {}));
}
