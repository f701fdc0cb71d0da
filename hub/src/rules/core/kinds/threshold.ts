import type { CompiledThreshold } from '../compiled.ts';
import {
  canOpenAt, describeEvent, eventEvidence, eventRef, openDecision, subjectCtx, type Sink,
} from '../emit.ts';
import { formatDuration } from '../templates.ts';
import type { Slot, Subject } from '../types.ts';
import { deviceSubject } from './device-subject.ts';
import type { KindHandler } from './handler.ts';
import { endByDevice, onDueHeld, openRun, resetRun, runDue } from './held-run.ts';

/**
 * Condition held for `forMs`, judged by the latest reading: a bin that reports 85 % once and
 * then nothing is still at 85 % (and opens on the tick 2 min later). One ticket per episode;
 * the episode ends on `clearWhen` (hysteresis) or `clearOn`; readings between keep it open.
 */
export const thresholdHandler: KindHandler<CompiledThreshold> = {
  onEvent(c, slot, ev, t, dev, _now, x) {
    const data = ev.data;
    if (ev.type === c.on.type) {
      // A late reading is older than the one that describes the state now: ignored.
      const at = deviceSubject(c, slot, dev, data, t);
      if (at === null) return;
      const { parts, sk, s } = at;
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
      if (c.clearWhen(data)) endByDevice(c, slot, sk, s, ev, dev, parts, x);
      return;
    }
    if (c.clearOn !== null && ev.type === c.clearOn.type && c.clearOn.test(data)) {
      const at = deviceSubject(c, slot, dev, data, t);
      if (at === null) return;
      const { parts, sk, s } = at;
      catchUp(c, slot, sk, s, t, x);
      s.last = t;
      resetRun(slot, sk, s);
      endByDevice(c, slot, sk, s, ev, dev, parts, x);
    }
  },

  onDue(c, slot, sk, now, x) {
    onDueHeld(c, slot, sk, now, x, fire);
  },
};

/** The run came due before this event (no tick in between): open first, as a tick would have. */
function catchUp(c: CompiledThreshold, slot: Slot, sk: string, s: Subject, t: number, x: Sink): void {
  if (runDue(c, s, t)) fire(c, slot, sk, s, x);
}

function fire(c: CompiledThreshold, slot: Slot, sk: string, s: Subject, x: Sink): void {
  const ev = s.ev;
  const ctx = s.ctx;
  delete slot.due[sk];
  if (ev === undefined || ctx === undefined) return;
  const held = c.forMs > 0 ? ` held ${formatDuration(c.forMs, 'en')}` : '';
  const d = openDecision(c, ctx, eventEvidence(ev, ctx.dev, `${describeEvent(ev)}${held}`, c.forMs > 0 ? { cause: 'held', forMs: c.forMs } : { cause: 'event' }), {
    value: c.valueField === null ? undefined : ev.data[c.valueField], data: ev.data,
  });
  openRun(x, slot, sk, s, d);
}
