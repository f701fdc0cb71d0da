import type { IngestedEvent } from '../../../events.ts';
import type { CompiledThreshold } from '../compiled.ts';
import {
  canOpenAt, dedupKey, describeEvent, endEpisode, eventEvidence, eventRef, hasOrphans, keyParts, openDecision, startEpisode, subjectCtx, type Sink,
} from '../emit.ts';
import { formatDuration } from '../templates.ts';
import type { DeviceContext, Slot, Subject } from '../types.ts';
import type { KindHandler } from './handler.ts';

/**
 * Condition held for `forMs`, judged by the latest reading: a bin that reports 85 % once and
 * then nothing is still at 85 % (and opens on the tick 2 min later). One ticket per episode;
 * the episode ends on `clearWhen` (hysteresis) or `clearOn`; readings between keep it open.
 */
export const thresholdHandler: KindHandler<CompiledThreshold> = {
  onEvent(c, slot, ev, t, dev, _now, x) {
    const data = ev.data;
    if (ev.type === c.on.type) {
      const parts = keyParts(c, data);
      const sk = dev.deviceId + parts;
      const s = slot.s[sk] ?? (slot.s[sk] = {});
      // A late reading is older than the one that describes the state now: ignore it.
      if (s.last !== undefined && t < s.last) return;
      s.last = t;
      if (c.on.test(data)) {
        if (s.open !== undefined) return;
        if (s.since === undefined) { s.since = t; s.ctx = subjectCtx(c, dev, parts); }
        s.ev = eventRef(ev);
        if (t - s.since >= c.forMs && canOpenAt(c, t)) fire(c, slot, sk, s, x);
        else slot.due[sk] = s.since + c.forMs;
        return;
      }
      catchUp(c, slot, sk, s, t, x);
      resetRun(slot, sk, s);
      if (c.clearWhen(data)) clear(c, slot, sk, s, ev, dev, parts, x);
      return;
    }
    if (c.clearOn !== null && ev.type === c.clearOn.type && c.clearOn.test(data)) {
      const parts = keyParts(c, data);
      const sk = dev.deviceId + parts;
      const s = slot.s[sk] ?? (slot.s[sk] = {});
      if (s.last !== undefined && t < s.last) return;
      catchUp(c, slot, sk, s, t, x);
      s.last = t;
      resetRun(slot, sk, s);
      clear(c, slot, sk, s, ev, dev, parts, x);
    }
  },

  onDue(c, slot, sk, now, x) {
    const s = slot.s[sk];
    if (s === undefined || s.open !== undefined || s.since === undefined) { delete slot.due[sk]; return; }
    // Outside active hours the entry stays due and is retried on every tick until the window opens.
    if (now >= s.since + c.forMs && canOpenAt(c, now)) fire(c, slot, sk, s, x);
  },
};

/** The run came due before this event (no tick in between): open first, as a tick would have. */
function catchUp(c: CompiledThreshold, slot: Slot, sk: string, s: Subject, t: number, x: Sink): void {
  if (s.open === undefined && s.since !== undefined && t >= s.since + c.forMs && canOpenAt(c, t)) fire(c, slot, sk, s, x);
}

function fire(c: CompiledThreshold, slot: Slot, sk: string, s: Subject, x: Sink): void {
  const ev = s.ev;
  const ctx = s.ctx;
  delete slot.due[sk];
  if (ev === undefined || ctx === undefined) return;
  const held = c.forMs > 0 ? ` held ${formatDuration(c.forMs, 'en')}` : '';
  const d = openDecision(c, ctx, eventEvidence(ev, ctx.dev, `${describeEvent(ev)}${held}`), {
    value: c.valueField === null ? undefined : ev.data[c.valueField], data: ev.data,
  });
  delete s.since; delete s.ev; delete s.ctx;
  startEpisode(x, slot, sk, s, d);
}

function resetRun(slot: Slot, sk: string, s: Subject): void {
  if (s.since === undefined) return;
  delete s.since; delete s.ev; delete s.ctx;
  delete slot.due[sk];
}

function clear(c: CompiledThreshold, slot: Slot, sk: string, s: Subject, e: IngestedEvent, dev: DeviceContext, parts: string, x: Sink): void {
  // Most readings are clear and nothing is open: skip building evidence on the hot path.
  if (s.open === undefined && !hasOrphans(x.state)) return;
  const ref = eventRef(e);
  endEpisode(x, c, slot, sk, s, eventEvidence(ref, dev.deviceId, describeEvent(ref)), () => dedupKey(c, dev, parts));
}
